"""Moderator accounts: people who sign in to the console, with roles per site.

The rules (passwords, TOTP, lockout, session lifetimes, reset links) are plain functions here, free
of Flask and SQL; `store.py` feeds them from the database and `commands.py` holds `flask accounts`."""

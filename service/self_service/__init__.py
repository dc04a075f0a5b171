"""Authors' own rights over their comments: edit within the site's window, delete, and see their
comment while it awaits review. Pure rules in tokens.py and rules.py; the database in store.py."""

"""Spam defence as pure rules: links, duplicates, velocity and bot checks.

Plain functions and dataclasses (no Flask, no SQL, no I/O): the comment path gathers the inputs
(counts, candidate copies, tokens) and passes what these rules find to the moderation policy."""

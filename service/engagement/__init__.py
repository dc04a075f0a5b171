"""What readers and editors add to a thread besides comments: readers' reactions (likes) and the
top sort they feed, editors' featured comments, and comment counts for many articles at once.
`rules.py` holds the pure rules; the other modules read and write the database."""

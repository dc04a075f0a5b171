"""EU Digital Services Act workflows: notices of illegal content (Art. 16) and statements of
reasons for every restriction (Art. 17), exported in the DSA Transparency Database's format.

`dsa.py` holds the rules (plain values, no Flask, no SQL); `notices.py` and `statements.py` the
database work; `tables.py` the tables; `links.py` the signed links readers follow.
"""

"""Who is who: readers vouched for by their site (SSO tokens), articles claimed by their site.

`tokens` holds the pure rules (no Flask, no SQL); `store` keeps each site's SSO secrets."""

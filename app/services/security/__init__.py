"""Security: the signing key, server-side browser sessions, API token lifecycles, login and
registration throttling, password changes, and the same-site check of redirect targets.

It sits above ``people`` (it asks ``people.accounts`` to verify and hash passwords) and below
every domain that may want to end someone's sessions; the pages and the API call it for every
login, logout and page request.
"""

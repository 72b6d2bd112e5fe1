"""Domain services, one subpackage per domain: each takes a Session (and the Platform), none commits.

Layers, lowest first; a subpackage imports only those below it
(``tests/unit/test_layering.py`` holds the rule):

``trail`` < ``organisation`` < ``flows`` < ``workflow`` < ``catalogue`` < ``timelimits``
< ``people`` < ``provisioning``.

The workflow layer tells the domains above it what happened through the
platform's hooks (``app.hooks``), wired in ``app.wiring``; it never imports them.
"""

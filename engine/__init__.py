"""The workflow core of the approval platform.

Nothing in this package imports Flask or ``app``: it parses the flows in
``processes/``, runs them with SpiffWorkflow inside a script sandbox, stores
their state compactly and computes working-day time limits.  The web layer
and the scheduler call it through :mod:`engine.runtime`.
"""

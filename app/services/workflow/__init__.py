"""Running process instances: start, complete, fire timers, migrate, and keep task rows in step.

``instances`` runs the engine under the row lock and saves; ``tasks`` keeps the
human task rows in step, routes them and answers who may see and complete one;
``timers`` claims due timers for the scheduler; ``migrations`` moves instances
between versions; ``consistency`` compares rows with states; ``scripting``
lends the running transaction to script helpers.  What the domains above do
after a run (decided items, item clocks, supervision) they do as subscribers
of the platform's hooks (``app.hooks``); this package never imports them.
May import ``trail``, ``organisation`` and ``flows``.
"""

"""Statutory time limits: item handlings (办件, BLZT), their working-day clocks, lights,
special procedures, escalations, supervision (督办) and the holiday calendar.

``handlings`` and ``supervision`` subscribe to task hooks; ``escalations`` runs
from the scheduler.  May import every layer below it: ``trail``,
``organisation``, ``flows``, ``workflow`` and ``catalogue`` (a 容缺 item is
approved with gaps).
"""

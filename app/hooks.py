"""What happened to a process instance, told to whoever subscribed (in order, same transaction).

The workflow layer (``services.workflow``) runs the engine and keeps task rows in
step; the domains above it (catalogue decisions, item clocks, supervision, and
whatever comes next) react to what it did without the workflow layer knowing
them.  ``app.wiring.build_platform`` subscribes them once per process.

Events and their arguments:

``starting``       ``(session, platform, project, stage_key, application, start_data)``
                   before a process starts; subscribers add what the process reads
                   to ``start_data`` (e.g. the facts its decision tables read);
``run``            ``(session, platform, instance, workflow)`` after every save of a
                   state, once the open task rows are in step with it;
``task_opened``    ``(session, platform, instance, row)`` for a new human task row,
                   before it is added (a subscriber may set ``row.due_at``);
``task_completed`` ``(session, platform, instance, workflow, row, data, actor)``
                   after a routed user task was completed by the engine;
``finished``       ``(session, platform, instance)`` once, when an instance reached its
                   end event (``instance.status`` says how it ended);
``notice_raised``  ``(session, platform, notice)`` for a new time-limit notice
                   (``SupervisionNotice``: a yellow-light warning or an overdue item).
``exchange_rows``  ``(session, platform, projects, rows)`` while the national exchange
                   derives a batch of projects; subscribers append the rows of
                   their own tables (``exchange.extract.Derived``) to ``rows``.

A subscriber raising aborts the operation, so the caller's transaction rolls
back whole: nothing is ever half-recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

EVENTS = ("starting", "run", "task_opened", "task_completed", "finished", "notice_raised", "exchange_rows")


class Hooks:
    """Subscribers per event, called in the order they subscribed."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Callable[..., Any]]] = {event: [] for event in EVENTS}

    def subscribe(self, event: str, subscriber: Callable[..., Any]) -> None:
        """Call ``subscriber`` on every ``event``; an unknown event name is a programming error."""
        if event not in self._subscribers:
            raise ValueError(f"unknown hook event {event!r}; known: {', '.join(EVENTS)}")
        self._subscribers[event].append(subscriber)

    def emit(self, event: str, *args: Any) -> None:
        """Tell every subscriber of ``event``, in order."""
        for subscriber in self._subscribers[event]:
            subscriber(*args)

    def subscribers(self, event: str) -> list[Callable[..., Any]]:
        """The subscribers of ``event`` in calling order (for tests and diagnostics)."""
        return list(self._subscribers[event])

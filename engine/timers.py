"""BPMN timers on the platform's clock instead of the wall clock.

SpiffWorkflow's timer event definitions compare due times with
``datetime.now()``: a platform whose clock is injected (tests, replays) could
never fire a timer ahead of real time, and a duration would start from the
wall clock.  :func:`use_platform_clock` replaces the timer event definitions of
parsed specs with the subclasses below, which read the clock attached to the
workflow's script engine (``script_engine.clock``, set by
:class:`engine.runtime.Runtime`) and fall back to the wall clock without one.

They also normalise what they store: every evaluated due time is kept as an
ISO 8601 instant in UTC (``waiting_events()`` reports it, the application
stores the earliest per instance), a naive ``timeDate`` is read as
Asia/Shanghai time (not the server's zone), and a timer fires when its due
time has been *reached* (``<=``), the comparison the scheduler's claim uses.

Timers whose expression calls ``deadline(...)`` or ``deadline_warning(...)``
follow the item clock: :func:`retime_deadline_timers` makes them evaluate
their expression again, e.g. after a special procedure moved the due date.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.util.task import TaskState

from .calendar import LOCAL_TZ
from .errors import ScriptError

#: Names of the script helpers whose timers follow the item clock.
DEADLINE_HELPERS = ("deadline(", "deadline_warning(")
_ISO_WEEK = re.compile(r"^(\d{4})W(\d{2})(\d)(T.+)?$")


def now_for(my_task) -> dt.datetime:
    """The platform clock of a task's workflow (aware UTC); the wall clock without one."""
    clock: Callable[[], dt.datetime] | None = getattr(my_task.workflow.script_engine, "clock", None)
    now = clock() if clock is not None else dt.datetime.now(dt.UTC)
    if now.utcoffset() is None:
        raise ScriptError("the platform clock must return aware datetimes")
    return now.astimezone(dt.UTC)


def parse_instant(value) -> dt.datetime:
    """An ISO 8601 instant (or datetime, or ISO week date) in UTC; naive means Asia/Shanghai."""
    if isinstance(value, dt.datetime):
        instant = value
    else:
        text = str(value).strip()
        week = _ISO_WEEK.match(text.upper().replace("-", ""))
        if week:  # 2031-W10-1T09:00: an ISO week date
            year, number, weekday, rest = week.groups()
            text = dt.date.fromisocalendar(int(year), int(number), int(weekday)).isoformat() + (rest or "")
        try:
            instant = dt.datetime.fromisoformat(text)
        except ValueError as exc:
            raise ScriptError(f"a timer date must be an ISO 8601 instant, got {value!r}") from exc
    if instant.utcoffset() is None:
        instant = instant.replace(tzinfo=LOCAL_TZ)
    return instant.astimezone(dt.UTC)


def _duration(expression: str, start: dt.datetime) -> dt.timedelta:
    try:
        parsed = TimerEventDefinition.parse_iso_duration(str(expression))
    except Exception as exc:  # noqa: BLE001 - SpiffWorkflow raises a bare Exception
        raise ScriptError(f"a timer duration must be ISO 8601 (e.g. 'PT2H'), got {expression!r}") from exc
    return TimerEventDefinition.get_timedelta_from_start(parsed, start)


def _fire_if_due(my_task, due: dt.datetime) -> bool:
    if not my_task._get_internal_data("event_fired", False) and due <= now_for(my_task):
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


class PlatformTimeDateEventDefinition(TimeDateEventDefinition):
    """A ``timeDate`` timer on the platform clock."""

    def has_fired(self, my_task):
        """Evaluate the date once, then fire when the platform clock reaches it."""
        value = my_task._get_internal_data("event_value")
        if value is None:
            result = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            value = parse_instant(result).isoformat()
            my_task._set_internal_data(event_value=value)
        return _fire_if_due(my_task, dt.datetime.fromisoformat(value))


class PlatformDurationTimerEventDefinition(DurationTimerEventDefinition):
    """A ``timeDuration`` timer counted from the platform clock."""

    def has_fired(self, my_task):
        """Start the duration on the platform clock, then fire when the clock reaches its end."""
        value = my_task._get_internal_data("event_value")
        if value is None:
            start = now_for(my_task)
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            value = (start + _duration(expression, start)).isoformat()
            my_task._set_internal_data(event_value=value)
        return _fire_if_due(my_task, dt.datetime.fromisoformat(value))


class PlatformCycleTimerEventDefinition(CycleTimerEventDefinition):
    """A ``timeCycle`` timer (``R3/PT1H``, ``R/<start>/P1D``) on the platform clock."""

    def cycle_complete(self, my_task):
        """True when the next occurrence is due; counts the cycles down."""
        value = my_task._get_internal_data("event_value")
        now = now_for(my_task)
        if value is None:
            expression = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            cycles, start, duration = _recurring(str(expression), now)
            value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            upcoming = dt.datetime.fromisoformat(value["next"])
            if upcoming <= now:
                value["next"] = (upcoming + dt.timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        my_task._set_internal_data(event_value=value)
        return ready


def _recurring(expression: str, now: dt.datetime) -> tuple[int, dt.datetime, dt.timedelta]:
    """Parse ``R[n]/start/duration``, ``R[n]/duration/end`` or ``R[n]/duration`` (from now)."""
    parts = expression.upper().replace("--", "/").strip().lstrip("R").split("/")
    if len(parts) not in (2, 3):
        raise ScriptError(f"a timer cycle must look like 'R3/PT1H', got {expression!r}")
    cycles = int(parts[0]) if parts[0] else -1
    if parts[1].startswith("P"):
        if len(parts) == 3:
            end = parse_instant(parts[2])
            parsed = TimerEventDefinition.parse_iso_duration(parts[1])
            duration = TimerEventDefinition.get_timedelta_from_end(parsed, end)
            return cycles, end - duration, duration
        duration = _duration(parts[1], now)
        return cycles, now + duration, duration
    if len(parts) != 3:
        raise ScriptError(f"a timer cycle with a start needs a duration, got {expression!r}")
    start = parse_instant(parts[1])
    return cycles, start, _duration(parts[2], start)


_REPLACEMENTS = {
    TimeDateEventDefinition: PlatformTimeDateEventDefinition,
    DurationTimerEventDefinition: PlatformDurationTimerEventDefinition,
    CycleTimerEventDefinition: PlatformCycleTimerEventDefinition,
}
PLATFORM_TIMERS = tuple(_REPLACEMENTS.values())


def _on_platform_clock(event_definition):
    replacement = _REPLACEMENTS.get(type(event_definition))
    if replacement is not None:
        return replacement(event_definition.name, event_definition.expression,
                           description=event_definition.description)
    if isinstance(event_definition, MultipleEventDefinition):
        event_definition.event_definitions = [_on_platform_clock(e) for e in event_definition.event_definitions]
    return event_definition


def use_platform_clock(spec) -> object:
    """Swap the timer event definitions of a process spec for the platform-clock ones; return it."""
    for task_spec in spec.task_specs.values():
        event_definition = getattr(task_spec, "event_definition", None)
        if event_definition is not None:
            task_spec.event_definition = _on_platform_clock(event_definition)
    return spec


def _follows_item_clock(event_definition) -> bool:
    return isinstance(event_definition, PlatformTimeDateEventDefinition) and any(
        name in event_definition.expression for name in DEADLINE_HELPERS)


def retime_deadline_timers(workflow) -> int:
    """Make waiting ``deadline(...)`` timers evaluate their date again; return how many."""
    count = 0
    for task in list(workflow.event_manager.tasks.values()):  # every waiting event, subprocesses too
        if task.state == TaskState.WAITING and _follows_item_clock(task.task_spec.event_definition):
            if not task._get_internal_data("event_fired", False):
                task.internal_data.pop("event_value", None)
                count += 1
    return count

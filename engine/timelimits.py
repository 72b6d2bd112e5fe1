"""The item clock: due and warning instants of a time limit, pauses, and its light.

An item handling's clock starts when the item is accepted (受理) and runs
against the limit of its catalogue item (``value`` in ``unit``).  Everything
here is pure arithmetic on :class:`~engine.calendar.WorkingCalendar`; the
application stores the results (``app.services.itemclock``).

Counting conventions (see also ``engine.calendar``)
    *working_days*: the day of acceptance is not counted; the limit runs out at
    the end of the n-th working day after it.  *calendar_days*: the same with
    every day counted.  *hours*: elapsed hours from the instant of acceptance.
    *immediate* (即办): due at the end of the day of acceptance.

Pauses (补正, 特别程序)
    Paused time does not count.  For day units a pause counts the days after
    the day it started up to and including the day it ended: the day the clock
    stops is a used day, the day it runs again is not (as with acceptance); a
    pause that ends the day it started moves nothing.  For hour limits the
    paused time is the elapsed time.  Every pause moves the due instant and the
    warning instant by its amount.  A restart (补正 with ``correction_clock:
    restart``) starts a fresh clock at the resume instant instead.

Warning (yellow) and overdue (red)
    With ``share`` (default 2/3) of the limit, the warning starts at the
    beginning of the k-th day of the limit, k = ceil(share * n), for day units;
    at ``share`` of the hours for hour limits; immediate items have none.  The
    light of a handling is red once its due instant has passed, yellow from
    its warning instant, green before; a paused handling keeps the light it
    had when it paused, a finished one the light it had when it finished.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, replace

from .calendar import LOCAL_TZ, CalendarError, WorkingCalendar

GREEN, YELLOW, RED, NO_LIMIT = "green", "yellow", "red", "none"
LIGHTS = (GREEN, YELLOW, RED)
DAY_UNITS = ("working_days", "calendar_days", "immediate")
UNITS = DAY_UNITS + ("hours",)
_EPSILON = 1e-9


@dataclass(frozen=True)
class ItemClock:
    """The clock of one item handling: its start, limit and the pauses counted so far."""

    started_at: dt.datetime
    value: int
    unit: str
    paused_days: int = 0
    paused_seconds: int = 0

    def __post_init__(self):
        if self.started_at.utcoffset() is None:
            raise CalendarError("the clock needs an aware start instant / 计时起点须带时区")
        if self.unit not in UNITS:
            raise CalendarError(f"Unknown time-limit unit {self.unit!r} / 未知的期限单位", unit=self.unit)
        if self.value < 0 or (self.unit == "immediate" and self.value != 0):
            raise CalendarError(f"Bad limit {self.value} {self.unit} / 期限数值不正确", unit=self.unit)


@dataclass(frozen=True)
class Thresholds:
    """When a clock turns yellow (None: never) and red (after ``due_at``), in UTC."""

    due_at: dt.datetime
    warn_at: dt.datetime | None


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


def _local_day(value: dt.datetime) -> dt.date:
    return value.astimezone(LOCAL_TZ).date()


def _start_of(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, LOCAL_TZ).astimezone(dt.UTC)


def warning_day_index(value: int, share: float) -> int:
    """k: the day of an n-day limit on which the warning starts (ceil(share * n), at least 1)."""
    if not 0 < share <= 1:
        raise CalendarError(f"The warning share must be in (0, 1], got {share} / 预警比例须在0到1之间")
    return max(1, math.ceil(share * value - _EPSILON))


def thresholds(calendar: WorkingCalendar, clock: ItemClock, share: float) -> Thresholds:
    """The due and warning instants of a clock with its pauses; raises CalendarError off the calendar."""
    start, n = clock.started_at, clock.value
    if clock.unit == "hours":
        paused = dt.timedelta(seconds=clock.paused_seconds)
        due = _utc(start) + dt.timedelta(hours=n) + paused
        warn = _utc(start) + dt.timedelta(hours=n * share) + paused if n else None
        warning_day_index(1, share)  # validates the share
        return Thresholds(due, warn)
    p = clock.paused_days
    if clock.unit == "calendar_days":
        due = calendar.add_calendar_days(start, n + p)
        warn_day = _local_day(start) + dt.timedelta(days=warning_day_index(n, share) + p) if n else None
    else:  # working_days, immediate
        due = calendar.add_working_days(start, n + p)
        warn_day = calendar.add_working_days(_local_day(start), warning_day_index(n, share) + p) if n else None
    return Thresholds(_utc(due), _start_of(warn_day) if warn_day is not None else None)


def pause_amount(calendar: WorkingCalendar, unit: str, paused_at: dt.datetime,
                 resumed_at: dt.datetime) -> tuple[int, int]:
    """(days, seconds) a pause from ``paused_at`` to ``resumed_at`` takes off the clock."""
    if resumed_at < paused_at:
        raise CalendarError("A pause cannot end before it starts / 暂停结束时间早于开始时间")
    if unit == "hours":
        return 0, int((resumed_at - paused_at).total_seconds())
    if unit == "calendar_days":
        return (_local_day(resumed_at) - _local_day(paused_at)).days, 0
    return calendar.working_days_between(paused_at, resumed_at), 0


def paused(calendar: WorkingCalendar, clock: ItemClock, paused_at: dt.datetime,
           resumed_at: dt.datetime) -> ItemClock:
    """The clock after a pause that ends at ``resumed_at`` (its due moves by the pause)."""
    days, seconds = pause_amount(calendar, clock.unit, paused_at, resumed_at)
    return replace(clock, paused_days=clock.paused_days + days, paused_seconds=clock.paused_seconds + seconds)


def restarted(clock: ItemClock, resumed_at: dt.datetime) -> ItemClock:
    """A fresh clock from ``resumed_at`` with the same limit (补正 that restarts the limit)."""
    return ItemClock(started_at=resumed_at, value=clock.value, unit=clock.unit)


def light(due_at: dt.datetime | None, warn_at: dt.datetime | None, now: dt.datetime,
          paused_at: dt.datetime | None = None, finished_at: dt.datetime | None = None) -> str:
    """green / yellow / red (``none`` without a limit); the one definition of the lights."""
    if due_at is None:
        return NO_LIMIT
    at = finished_at or paused_at or now
    if at > due_at:
        return RED
    if warn_at is not None and at >= warn_at:
        return YELLOW
    return GREEN

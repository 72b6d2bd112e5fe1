"""The working-day calendar behind every statutory time limit.

Time limits count working days: statutory holidays are left out and the
make-up working weekends (调休) of the yearly State Council notice are counted
(行政许可法 §82).  The days come from the ``chinese_calendar`` package for the
years it knows, plus an override table (``catalog/holidays.json``) where an
administrator corrects single dates or declares a whole new year.  A date in a
year that neither covers raises :class:`CalendarError`: the calendar never
guesses.

Counting convention (受理当日不计入)
    A limit of *n* working days counts whole working days starting the day
    *after* the start day: whatever the hour of acceptance, the start day is
    not counted, and the limit runs out at the **end** of the *n*-th working
    day after it.  For a ``datetime`` start the due instant is that day at
    23:59:59.999999 local time; for a ``date`` start the due date itself is
    returned.  ``n = 0`` (immediate items, 即办) is due at the end of the start
    day itself.  ``working_days_between(a, b)`` counts the working days after
    a's day up to and including b's day, so that
    ``working_days_between(s, add_working_days(s, n)) == n``.
    Calendar-day limits follow the same convention (the start day is not
    counted, the due is the end of the *n*-th day).

Working time (pausing the clock)
    A working day is the whole 24 hours of a working date; no office hours
    are modelled.  :meth:`WorkingCalendar.working_time_between` returns, as a
    ``timedelta``, the part of an interval that falls on working dates, so a
    pause from Friday 15:00 to Monday 09:00 is 9 h + 9 h = 0.75 working day
    (divide by :data:`WORKING_DAY` for a float).  :meth:`WorkingCalendar.extend`
    moves a due instant later by such an amount of working time; a pause of
    whole working days moves an end-of-day due to the end of a later working
    day.  Callers that count pauses in whole days round the amount themselves.

Time zone
    Days are those of Asia/Shanghai.  A naive ``datetime`` is read as local
    time; an aware one is converted to Asia/Shanghai to find its day, and the
    result is converted back to the input's own time zone.  A naive input gives
    a naive result, an aware input an aware one.

The calendar is immutable once built, so one instance can be shared between
threads.  Lookups are a bisection in a sorted list of working-day ordinals.
"""

from __future__ import annotations

import json
import operator
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from zoneinfo import ZoneInfo

import chinese_calendar

from engine.errors import EngineError

__all__ = [
    "LOCAL_TZ",
    "UNITS",
    "WORKING_DAY",
    "CalendarError",
    "WorkingCalendar",
    "load_overrides",
    "overrides_from_table",
]

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
WORKING_DAY = timedelta(days=1)
UNITS = ("working_days", "calendar_days", "hours", "immediate")

_DAY = timedelta(days=1)
_YEAR_ENTRY_KEYS = {"declared", "notice", "holidays", "workdays"}


class CalendarError(EngineError, ValueError):
    """A date the calendar does not know, or a limit it cannot compute."""

    code = "calendar_error"

    @property
    def fields(self) -> dict[str, str] | None:
        """The year the calendar lacks, for API error bodies."""
        return {"year": str(self.context["year"])} if "year" in self.context else None


def _uncovered(year: int) -> CalendarError:
    return CalendarError(
        f"No working-day calendar for {year}: declare {year} in the holiday table "
        f"once the State Council notice is published. "
        f"{year}年的工作日历尚未设置：国务院办公厅公布{year}年放假安排后，"
        f"请在节假日表中声明该年度。",
        year=year,
    )


def _is_aware(value: datetime) -> bool:
    return value.utcoffset() is not None


def _local(value: datetime) -> datetime:
    """The naive Asia/Shanghai wall time of ``value``."""
    if _is_aware(value):
        return value.astimezone(LOCAL_TZ).replace(tzinfo=None)
    return value


def _like(local: datetime, original: datetime) -> datetime:
    """Turn a naive local result back into the awareness of ``original``."""
    if _is_aware(original):
        return local.replace(tzinfo=LOCAL_TZ).astimezone(original.tzinfo)
    return local


def _day_of(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return _local(value).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or datetime, got {type(value).__name__}")


def _non_negative(n, what: str) -> int:
    n = operator.index(n)
    if n < 0:
        raise CalendarError(f"{what} cannot be negative: {n} / {what}不能为负数", value=n)
    return n


def _end_of(day: date, like: date | datetime) -> date | datetime:
    """The due for ``day`` in the type of ``like``: the date, or its last instant."""
    if isinstance(like, datetime):
        return _like(datetime.combine(day, time.max), like)
    return day


class WorkingCalendar:
    """Working days from ``chinese_calendar`` plus an administrator's override table.

    ``overrides`` maps a date to True (a working day) or False (a rest day) and
    wins over the library.  ``extra_years`` are years the administrator has
    declared in full: there Monday to Friday work and weekends rest unless
    overridden.  Overrides on dates of years not covered are kept but unused.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        extra_years: Iterable[int] = (),
    ) -> None:
        self._overrides = MappingProxyType(_checked_overrides(overrides or {}))
        library = chinese_calendar.holidays
        self._library_years = range(min(library).year, max(library).year + 1)
        self._years = frozenset(self._library_years) | frozenset(
            operator.index(y) for y in extra_years
        )
        working: list[int] = []
        for year in sorted(self._years):
            working.extend(self._working_ordinals(year))
        self._working = working
        self._working_set = frozenset(working)

    def __repr__(self) -> str:
        years = sorted(self._years)
        return (
            f"<WorkingCalendar {years[0]}-{years[-1]} ({len(years)} years), "
            f"{len(self._overrides)} overrides>"
        )

    @classmethod
    def from_file(cls, path: str | Path) -> WorkingCalendar:
        """A calendar built from the library and the override table at ``path``."""
        overrides, extra_years = load_overrides(path)
        return cls(overrides, extra_years)

    def _working_ordinals(self, year: int) -> list[int]:
        # the library's own rule (chinese_calendar.is_workday), read from its
        # tables directly: is_workday re-validates its range on every call
        in_library = year in self._library_years
        holidays, workdays = chinese_calendar.holidays, chinese_calendar.workdays
        day, last = date(year, 1, 1), date(year, 12, 31)
        result = []
        while day <= last:
            if day in self._overrides:
                works = self._overrides[day]
            elif in_library and day in workdays:
                works = True
            else:
                works = day.weekday() < 5 and not (in_library and day in holidays)
            if works:
                result.append(day.toordinal())
            day += _DAY
        return result

    # -- what the calendar knows -------------------------------------------------

    def covered_years(self) -> frozenset[int]:
        """Every year the calendar can answer for (library years and declared years)."""
        return self._years

    @property
    def overrides(self) -> Mapping[date, bool]:
        """The override table this calendar was built with (read-only)."""
        return self._overrides

    def _require(self, first_year: int, last_year: int) -> None:
        for year in range(first_year, last_year + 1):
            if year not in self._years:
                raise _uncovered(year)

    def is_working_day(self, d: date | datetime) -> bool:
        """Whether ``d`` (a datetime: its local day) is a working day."""
        day = _day_of(d)
        self._require(day.year, day.year)
        return day.toordinal() in self._working_set

    # -- working days ------------------------------------------------------------

    def add_working_days(self, start: date | datetime, n: int) -> date | datetime:
        """The due of a limit of ``n`` working days counted from the day after ``start``.

        Returns the end of the n-th working day (23:59:59.999999 local) for a
        datetime, the due date for a date; ``n = 0`` is the end of the start day.
        """
        n = _non_negative(n, "A number of working days")
        day = _day_of(start)
        if n == 0:
            return _end_of(day, start)
        index = bisect_right(self._working, day.toordinal()) + n - 1
        first_year = (day + _DAY).year
        if index >= len(self._working):
            year = first_year
            while year in self._years:
                year += 1
            raise _uncovered(year)
        due_day = date.fromordinal(self._working[index])
        if due_day.year != first_year:
            self._require(first_year, due_day.year - 1)
        return _end_of(due_day, start)

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days after a's day up to and including b's day; negative when b < a."""
        first, last = _day_of(a), _day_of(b)
        if first == last:
            return 0
        if last < first:
            return -self.working_days_between(b, a)
        self._require((first + _DAY).year, last.year)
        return bisect_right(self._working, last.toordinal()) - bisect_right(
            self._working, first.toordinal()
        )

    # -- working time (pauses) ---------------------------------------------------

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The time between two instants that falls on working days; negative when b < a."""
        if not isinstance(a, datetime) or not isinstance(b, datetime):
            raise TypeError("working_time_between needs two datetimes")
        start, end = _local(a), _local(b)
        if end < start:
            return -self.working_time_between(b, a)
        first, last = start.date(), end.date()
        self._require(first.year, last.year)
        first_works = first.toordinal() in self._working_set
        if first == last:
            return end - start if first_works else timedelta(0)
        last_works = last.toordinal() in self._working_set
        total = self.working_days_between(first, last) - int(last_works)
        elapsed = total * WORKING_DAY
        if first_works:
            elapsed += datetime.combine(first + _DAY, time.min) - start
        if last_works:
            elapsed += end - datetime.combine(last, time.min)
        return elapsed

    def extend(
        self, due: date | datetime, paused: timedelta | int | float
    ) -> date | datetime:
        """Move ``due`` later by ``paused`` working time (a timedelta or working days).

        A ``date`` due only moves by whole working days.  A result that falls
        exactly at midnight is written as the end of the day before, like every due.
        """
        amount = paused if isinstance(paused, timedelta) else timedelta(days=paused)
        if amount < timedelta(0):
            raise CalendarError(f"A pause cannot be negative: {amount} / 暂停时长不能为负数")
        if not isinstance(due, datetime):
            days, rest = divmod(amount, _DAY)
            if rest:
                raise CalendarError(
                    f"A date due moves by whole working days only, not {amount} / "
                    f"按日期计算的期限只能顺延整数个工作日"
                )
            return self.add_working_days(due, days)
        if not amount:
            return due
        local = _local(due)
        day = local.date()
        if self.is_working_day(day):
            left_today = datetime.combine(day + _DAY, time.min) - local
            if amount < left_today:
                return _like(local + amount, due)
            amount -= left_today
        days, rest = divmod(amount, _DAY)
        if not rest:
            return self.add_working_days(due, days)
        target = self.add_working_days(day, days + 1)
        return _like(datetime.combine(target, time.min) + rest, due)

    # -- other units -------------------------------------------------------------

    def add_calendar_days(
        self, start: date | datetime, n: int, *, roll_forward: bool = False
    ) -> date | datetime:
        """The end of the n-th calendar day after ``start``'s day (n = 0: that day).

        With ``roll_forward`` a due falling on a rest day moves to the end of
        the next working day (民法典 §203); only then is the calendar consulted.
        """
        n = _non_negative(n, "A number of calendar days")
        due_day = _day_of(start) + timedelta(days=n)
        if roll_forward and not self.is_working_day(due_day):
            due_day = self.add_working_days(due_day, 1)
        return _end_of(due_day, start)

    def add_hours(self, start: datetime, hours: int | float) -> datetime:
        """``start`` plus elapsed hours (not working hours); needs a datetime."""
        if not isinstance(start, datetime):
            raise CalendarError(
                "A limit in hours needs a start time, not a date / 以小时计的期限需要具体起始时间"
            )
        if hours < 0:
            raise CalendarError(f"A number of hours cannot be negative: {hours} / 小时数不能为负数")
        if _is_aware(start):
            moved = start.astimezone(UTC) + timedelta(hours=hours)
            return moved.astimezone(start.tzinfo)
        return start + timedelta(hours=hours)

    def due_date(
        self, start: date | datetime, value: int | float | None, unit: str
    ) -> date | datetime:
        """The due of a limit of ``value`` ``unit`` (one of :data:`UNITS`) from ``start``."""
        if unit == "working_days":
            return self.add_working_days(start, value)
        if unit == "calendar_days":
            return self.add_calendar_days(start, value)
        if unit == "hours":
            return self.add_hours(start, value)
        if unit == "immediate":
            if value not in (None, 0):
                raise CalendarError(
                    f"An immediate item takes no limit value, got {value!r} / 即办事项不设期限数值"
                )
            return self.add_working_days(start, 0)
        raise CalendarError(
            f"Unknown time-limit unit {unit!r}; expected one of {', '.join(UNITS)} / "
            f"未知的期限单位 {unit!r}",
            unit=unit,
        )


def _checked_overrides(overrides: Mapping[date, bool]) -> dict[date, bool]:
    checked = {}
    for day, works in overrides.items():
        if isinstance(day, datetime) or not isinstance(day, date):
            raise CalendarError(f"An override key must be a date, got {day!r}")
        if not isinstance(works, bool):
            raise CalendarError(f"The override for {day} must be true or false, got {works!r}")
        checked[day] = works
    return checked


def load_overrides(path: str | Path) -> tuple[dict[date, bool], frozenset[int]]:
    """Read an override table (``catalog/holidays.json``): (overrides, declared years).

    Holidays map to False, make-up working days to True.  The dates listed under
    a year may include late December of the year before (a New Year holiday
    straddling two years).  Years whose entry says ``"declared": true`` are
    returned as declared years.  Malformed tables raise :class:`CalendarError`.
    """
    path = Path(path)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CalendarError(f"Cannot read the holiday table {path}: {exc}", path=str(path)) from exc
    return overrides_from_table(table, path)


def overrides_from_table(table, path: str | Path = "<table>") -> tuple[dict[date, bool], frozenset[int]]:
    """Check an override table already read as JSON; return (overrides, declared years)."""
    path = Path(path)
    if not isinstance(table, dict) or not isinstance(table.get("years"), dict):
        raise CalendarError(f"{path}: expected an object with a 'years' object", path=str(path))
    overrides: dict[date, bool] = {}
    declared = set()
    for key, entry in table["years"].items():
        year = _table_year(path, key, entry)
        if entry.get("declared", False):
            if not entry.get("holidays"):
                raise CalendarError(
                    f"{path}: {year} is declared but lists no holidays / {year}年已声明但未列出节假日",
                    path=str(path), year=year,
                )
            declared.add(year)
        for field, works in (("holidays", False), ("workdays", True)):
            for day in _table_dates(path, year, entry, field):
                if day in overrides:
                    raise CalendarError(f"{path}: {day} is listed twice", path=str(path), year=year)
                overrides[day] = works
    return overrides, frozenset(declared)


def _table_year(path: Path, key: str, entry) -> int:
    if not (isinstance(key, str) and key.isdigit() and len(key) == 4):
        raise CalendarError(f"{path}: year keys are four digits, got {key!r}", path=str(path))
    if not isinstance(entry, dict):
        raise CalendarError(f"{path}: the entry for {key} must be an object", path=str(path))
    unknown = set(entry) - _YEAR_ENTRY_KEYS
    if unknown:
        raise CalendarError(
            f"{path}: unknown keys for {key}: {', '.join(sorted(unknown))}", path=str(path)
        )
    if not isinstance(entry.get("declared", False), bool):
        raise CalendarError(f"{path}: 'declared' for {key} must be true or false", path=str(path))
    return int(key)


def _table_dates(path: Path, year: int, entry: dict, field: str) -> list[date]:
    values = entry.get(field, [])
    if not isinstance(values, list):
        raise CalendarError(f"{path}: '{field}' for {year} must be a list", path=str(path))
    days = []
    for value in values:
        try:
            day = date.fromisoformat(value)
        except (TypeError, ValueError):
            raise CalendarError(
                f"{path}: {value!r} in '{field}' for {year} is not a YYYY-MM-DD date",
                path=str(path), year=year,
            ) from None
        if not (day.year == year or (day.year == year - 1 and day.month == 12)):
            raise CalendarError(
                f"{path}: {day} does not belong to the {year} notice "
                f"(only {year} and December {year - 1})",
                path=str(path), year=year,
            )
        days.append(day)
    return days


# -- office hours ---------------------------------------------------------------------------------
#
# Statutory limits count working days whole (``working_time_between``); people work in office
# hours.  A task opened at 16:00 and done at 10:00 the next working day took two office hours,
# but eighteen hours of working-day time: measured that way, the same two hours weigh by the
# time of day they fell on, and a simulation that adds such spans from any instant counts the
# nights at random.  Office time is the unit work is done in.

OFFICE_OPEN, OFFICE_HOURS = 9.0, 8.0  # local time: 09:00 to 17:00


def _office_seconds(local: datetime, after: bool) -> float:
    """Office seconds of ``local``'s day after it (or before it)."""
    opens = datetime.combine(local.date(), time(9), LOCAL_TZ)
    closes = opens + timedelta(hours=OFFICE_HOURS)
    if after:
        return max(0.0, (closes - max(local, opens)).total_seconds())
    return max(0.0, (min(local, closes) - opens).total_seconds())


def office_days_between(calendar, a: datetime, b: datetime) -> float:
    """Office time between two instants on the calendar's working days, in office days (0 when b <= a)."""
    if b <= a:
        return 0.0
    start, end = a.astimezone(LOCAL_TZ), b.astimezone(LOCAL_TZ)
    day = OFFICE_HOURS * 3600
    if start.date() == end.date():
        if not calendar.is_working_day(start.date()):
            return 0.0
        return max(0.0, min(_office_seconds(end, False), day) - _office_seconds(start, False)) / day
    total = _office_seconds(start, True) if calendar.is_working_day(start.date()) else 0.0
    total += _office_seconds(end, False) if calendar.is_working_day(end.date()) else 0.0
    first = datetime.combine(start.date() + _DAY, time(0), LOCAL_TZ)
    last = datetime.combine(end.date(), time(0), LOCAL_TZ)
    if last > first:  # the working days strictly between, whole
        total += calendar.working_time_between(first, last) / _DAY * day
    return total / day


def after_office_days(calendar, start: datetime, days: float) -> datetime:
    """The instant ``days`` office days after ``start``, inside office hours (UTC).

    A start outside office hours counts from the next opening (a non-working day's, the next
    working day's).
    """
    local = start.astimezone(LOCAL_TZ)
    day = local.date()
    if calendar.is_working_day(day):
        hours = min(max(local.hour + local.minute / 60 - OFFICE_OPEN, 0.0), OFFICE_HOURS)
    else:
        day, hours = calendar.add_working_days(day, 1), 0.0
    hours += (days % 1) * OFFICE_HOURS
    whole = int(days)
    if hours >= OFFICE_HOURS:
        whole, hours = whole + 1, hours - OFFICE_HOURS
    if whole:
        day = calendar.add_working_days(day, whole)
    at = datetime.combine(day, time(0), LOCAL_TZ) + timedelta(hours=OFFICE_OPEN + hours)
    return at.astimezone(UTC)

"""The administrator's holiday table (``catalog/holidays.json``): checked edits, a calendar that follows it.

An administrator declares a year once the State Council publishes its notice
(国务院办公厅关于某年部分节假日安排的通知), or corrects single dates of a year
the library knows.  :func:`with_year` checks one year's entry and returns the
new table (the same checks as :func:`engine.calendar.load_overrides`, plus: a
make-up working day is a Saturday or Sunday, a holiday is not also a working
day); :func:`write_table` replaces the file atomically.  :class:`HolidayFile`
is a :class:`~engine.calendar.WorkingCalendar` that rebuilds itself when the
file changes, checked at most once a second, so every process on the machine
(web workers, the scheduler) follows an edit within a second.

:class:`HolidayTable` is the same for a table kept elsewhere (the platform keeps
it in its database, seeded from the file, so that every node of a cluster reads
one table): it asks a ``stamp`` callable at most every ``check_seconds`` whether
the table changed, and rebuilds from ``table()`` when it did.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Hashable
from datetime import date
from pathlib import Path
from typing import Any

from .calendar import CalendarError, WorkingCalendar, load_overrides, overrides_from_table

FIRST_YEAR, LAST_YEAR = 2000, 2100
_ENTRY_KEYS = ("declared", "notice", "holidays", "workdays")


def read_table(path: str | Path) -> dict[str, Any]:
    """The table as JSON (``{"note": [...], "years": {...}}``); an empty one if the file is missing."""
    path = Path(path)
    if not path.exists():
        return {"years": {}}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CalendarError(f"Cannot read the holiday table {path}: {exc}", path=str(path)) from exc


def _field(message: str, name: str, year: int) -> CalendarError:
    error = CalendarError(message, year=year)
    error.problem_field = name
    return error


def check_entry(year: int, entry: Any) -> dict[str, Any]:
    """One year's entry, checked and normalised (sorted, de-duplicated dates)."""
    if not isinstance(year, int) or not FIRST_YEAR <= year <= LAST_YEAR:
        raise _field(f"The year must be from {FIRST_YEAR} to {LAST_YEAR} / 年份须在{FIRST_YEAR}至{LAST_YEAR}之间",
                     "year", year)
    if not isinstance(entry, dict):
        raise _field("The year's entry must be an object / 年度设置须为对象", "body", year)
    unknown = sorted(set(entry) - set(_ENTRY_KEYS))
    if unknown:
        raise _field(f"Unknown keys: {', '.join(unknown)} / 未知字段", unknown[0], year)
    notice = entry.get("notice", "")
    if not isinstance(notice, str) or len(notice) > 200:
        raise _field("notice must be text of at most 200 characters / 通知文号过长", "notice", year)
    clean = {"declared": entry.get("declared", False), "notice": notice.strip()}
    for name in ("holidays", "workdays"):
        values = entry.get(name, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _field(f"{name} must be a list of YYYY-MM-DD dates / 须为日期列表", name, year)
        clean[name] = sorted(set(values))
    for value in clean["workdays"]:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            continue  # the table check below names it
        if day.weekday() < 5:
            raise _field(f"{value} is a weekday: a make-up working day (调休上班) is a Saturday or Sunday / "
                         f"{value}不是周末，调休上班日应为周六或周日", "workdays", year)
    return clean


def with_year(table: dict[str, Any], year: int, entry: Any) -> tuple[dict[str, Any], WorkingCalendar]:
    """The table with ``year`` set to ``entry``, checked whole; also the calendar it gives."""
    clean = check_entry(year, entry)
    years = dict(table.get("years") or {})
    years[str(year)] = clean
    new_table = {**table, "years": dict(sorted(years.items()))}
    try:
        overrides, declared = overrides_from_table(new_table, "holidays.json")
    except CalendarError as exc:
        raise _field(exc.message, "holidays", year) from exc
    calendar = WorkingCalendar(overrides, declared)
    if clean["declared"] and year not in calendar.covered_years():
        raise _field(f"{year} could not be declared / {year}年未能声明", "declared", year)
    return new_table, calendar


def write_table(path: str | Path, table: dict[str, Any]) -> None:
    """Replace the table file atomically (a reader sees the old or the new table, never half)."""
    path = Path(path)
    text = json.dumps(table, ensure_ascii=False, indent=2) + "\n"
    fd, temporary = tempfile.mkstemp(prefix=".holidays-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class HolidayFile:
    """A working calendar built from the library and a table file, rebuilt when the file changes."""

    def __init__(self, path: str | Path, check_seconds: float = 1.0):
        self.path = Path(path)
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._calendar = self._build()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return stat.st_mtime_ns, stat.st_size

    def _build(self) -> WorkingCalendar:
        self._stamp = self._file_stamp()
        if self._stamp is None:
            return WorkingCalendar()
        overrides, declared = load_overrides(self.path)
        return WorkingCalendar(overrides, declared)

    def reload(self) -> WorkingCalendar:
        """Rebuild from the file now."""
        with self._lock:
            self._calendar = self._build()
            self._checked = time.monotonic()
            return self._calendar

    def current(self) -> WorkingCalendar:
        """The calendar of the file as it is now (checked at most every ``check_seconds``)."""
        if time.monotonic() - self._checked >= self.check_seconds:
            self._checked = time.monotonic()
            if self._file_stamp() != self._stamp:
                try:
                    return self.reload()
                except CalendarError:
                    pass  # a broken file keeps the last good calendar; edits go through with_year
        return self._calendar

    def __getattr__(self, name: str):
        return getattr(self.current(), name)

    def __repr__(self) -> str:
        return f"<HolidayFile {self.path} {self._calendar!r}>"


class HolidayTable:
    """A working calendar built from the library and a table that ``table()`` reads, rebuilt when
    ``stamp()`` changes (asked at most every ``check_seconds``; the first use builds it)."""

    def __init__(self, stamp: Callable[[], Hashable], table: Callable[[], dict[str, Any]],
                 check_seconds: float = 1.0, path: str | Path | None = None):
        self._stamp_of, self._table_of = stamp, table
        self.check_seconds = check_seconds
        self.path = Path(path) if path is not None else None  # the seed file, when there is one
        self._lock = threading.Lock()
        self._stamp: Hashable = None
        self._checked = float("-inf")
        self._table: dict[str, Any] = {"years": {}}
        self._calendar: WorkingCalendar | None = None

    def _build(self) -> WorkingCalendar:
        stamp = self._stamp_of()
        table = self._table_of()
        overrides, declared = overrides_from_table(table, "holiday table")
        self._stamp, self._table = stamp, table
        return WorkingCalendar(overrides, declared)

    def reload(self) -> WorkingCalendar:
        """Rebuild from the table now."""
        with self._lock:
            self._calendar = self._build()
            self._checked = time.monotonic()
            return self._calendar

    def adopt(self, table: dict[str, Any]) -> WorkingCalendar:
        """Use ``table`` now (an edit inside a transaction that has not committed yet); the next check
        reads the stored table again, whatever ``stamp()`` says."""
        overrides, declared = overrides_from_table(table, "holiday table")
        with self._lock:
            self._calendar, self._table = WorkingCalendar(overrides, declared), table
            self._stamp, self._checked = object(), time.monotonic()  # a stamp nothing equals
            return self._calendar

    def table(self) -> dict[str, Any]:
        """The table the calendar was last built from."""
        self.current()
        return self._table

    def current(self) -> WorkingCalendar:
        """The calendar of the table as it is now (asked at most every ``check_seconds``)."""
        if self._calendar is None:
            return self.reload()
        if time.monotonic() - self._checked >= self.check_seconds:
            self._checked = time.monotonic()
            if self._stamp_of() != self._stamp:
                try:
                    return self.reload()
                except CalendarError:
                    pass  # a broken table keeps the last good calendar; edits go through with_year
        return self._calendar

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.current(), name)

    def __repr__(self) -> str:
        return f"<HolidayTable {self._calendar!r}>"

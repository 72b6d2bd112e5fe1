"""The working-day calendar for people: coverage, one year's days, declaring a year, a due date.

Administrators declare a year (or correct a library year) in the override table
through :func:`put_year`.  The table lives in the database (``calendar_year``),
seeded from ``catalog/holidays.json``; an edit bumps the ``calendar`` cache epoch
in its transaction, and every process of every node rebuilds its calendar within
``HN_HOLIDAY_CHECK_SECONDS`` (1 s by default; ``engine.holidays.HolidayTable``).
A database whose table was never seeded reads the file.  A date in a year that
neither the library nor the table covers is refused with a 422 that names the
year: the calendar never guesses.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, sessionmaker

from engine.calendar import LOCAL_TZ, UNITS, CalendarError
from engine.holidays import HolidayFile, HolidayTable, read_table, with_year, write_table

from ...errors import Conflict, Forbidden, InvalidInput
from ...models import CalendarYear, User
from ..cluster import epochs
from ..trail import audit
from . import itemclock


class DatabaseHolidays:
    """The holiday table in the database, read through the platform's session factory."""

    def __init__(self, sessions: sessionmaker, seed: str | Path):
        self.sessions, self.seed = sessions, Path(seed)

    def stamp(self) -> int:
        with self.sessions() as session:
            return epochs.read(session, epochs.CALENDAR)

    def table(self) -> dict[str, Any]:
        with self.sessions() as session:
            return stored_table(session) or read_table(self.seed)


def database_calendar(sessions: sessionmaker, seed: str | Path, check_seconds: float) -> HolidayTable:
    """The platform's calendar: the database's holiday table (the seed file until it is seeded)."""
    source = DatabaseHolidays(sessions, seed)
    return HolidayTable(source.stamp, source.table, check_seconds, path=seed)


def stored_table(session: Session) -> dict[str, Any] | None:
    """The table as the database holds it; None when it was never seeded."""
    rows = session.scalars(select(CalendarYear).order_by(CalendarYear.year)).all()
    if not rows:
        return None
    return {"years": {str(row.year): json.loads(row.entry) for row in rows}}


def seed_table(session: Session, platform, path: str | Path | None = None, replace: bool = False) -> int:
    """Load the holiday file into the database when it holds no table yet (``replace``: always);
    return how many years were written."""
    path = Path(path) if path is not None else Path(platform.settings.CATALOG_DIR) / "holidays.json"
    if not replace and session.scalar(select(CalendarYear.year).limit(1)) is not None:
        return 0
    session.execute(delete(CalendarYear))
    years = read_table(path).get("years", {})
    now = platform.now()
    for key, entry in years.items():
        session.add(CalendarYear(year=int(key), entry=json.dumps(entry, ensure_ascii=False), updated_at=now))
    epochs.bump(session, epochs.CALENDAR, now)
    session.flush()
    return len(years)


def _table(platform) -> dict[str, Any]:
    calendar = platform.calendar
    if isinstance(calendar, HolidayTable):
        return calendar.table()
    if isinstance(calendar, HolidayFile):
        return read_table(calendar.path)
    return {"years": {}}


def years_view(platform) -> dict[str, Any]:
    """The years the calendar covers and the entries of the override table."""
    calendar = platform.calendar
    table = _table(platform)
    covered = sorted(calendar.covered_years())
    return {"covered_years": covered, "first": covered[0], "last": covered[-1],
            "table": table.get("years", {})}


def year_view(platform, year: int) -> dict[str, Any]:
    """One year: covered or not, its table entry, and its rest weekdays and working weekend days."""
    calendar = platform.calendar
    table = _table(platform)
    view: dict[str, Any] = {"year": year, "covered": year in calendar.covered_years(),
                            "entry": table.get("years", {}).get(str(year))}
    if view["covered"]:
        days = [dt.date(year, 1, 1) + dt.timedelta(days=n) for n in range((dt.date(year + 1, 1, 1)
                                                                           - dt.date(year, 1, 1)).days)]
        working = {d for d in days if calendar.is_working_day(d)}
        view.update(working_days=len(working),
                    rest_weekdays=[d.isoformat() for d in days if d.weekday() < 5 and d not in working],
                    working_weekend_days=[d.isoformat() for d in days if d.weekday() >= 5 and d in working])
    return view


def put_year(session: Session, platform, user: User, year: int, body: Any) -> dict[str, Any]:
    """Set one year's entry of the override table (administrators); return the year's view."""
    if user.role != "admin":
        raise Forbidden("only administrators edit the working-day calendar")
    calendar = platform.calendar
    if isinstance(calendar, HolidayFile):  # a platform built on a table file (tools, tests)
        table = _checked(read_table(calendar.path), year, body)
        write_table(calendar.path, table)
        calendar.reload()
    elif isinstance(calendar, HolidayTable):
        seed_table(session, platform, calendar.path)  # a first edit seeds the rest of the table
        table = _checked(stored_table(session) or {"years": {}}, year, body)
        row = session.get(CalendarYear, year) or CalendarYear(year=year)
        row.entry = json.dumps(table["years"][str(year)], ensure_ascii=False)
        row.updated_at, row.updated_by = platform.now(), user.id
        session.add(row)
        epochs.bump(session, epochs.CALENDAR, platform.now())  # every node: within HN_HOLIDAY_CHECK_SECONDS
        session.flush()
        calendar.adopt(table)  # this transaction (and what it recounts) works on the new table
        for outcome in ("after_commit", "after_rollback"):  # then this node reads the stored one at once
            event.listen(session, outcome, lambda _: calendar.reload(), once=True)
    else:
        raise Conflict("this platform's calendar has no editable holiday table")
    recounted = itemclock.recount(session, platform, dt.date(year, 1, 1), dt.date(year, 12, 31))  # on the new table
    audit.record(session, platform, "calendar_year_set", actor=user,
                 detail={"year": year, "entry": table["years"][str(year)], "handlings_recounted": recounted})
    return year_view(platform, year)


def _checked(table: dict[str, Any], year: int, body: Any) -> dict[str, Any]:
    try:
        new_table, _ = with_year(table, year, body)
    except CalendarError as exc:
        name = getattr(exc, "problem_field", "year")
        raise InvalidInput(exc.message, {name: exc.message}) from exc
    return new_table


def _instant(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise InvalidInput("start must be an ISO 8601 date or instant", {"start": "invalid"}) from None
    return value.replace(tzinfo=LOCAL_TZ) if value.utcoffset() is None else value


def due_view(platform, start: str | None, value: str | None, unit: str | None) -> dict[str, Any]:
    """The due instant of a limit from a start (``?start=&value=&unit=``); 422 names an unknown year."""
    fields = {}
    if unit not in UNITS:
        fields["unit"] = f"one of {', '.join(UNITS)}"
    if unit != "immediate" and (value is None or not value.isdigit() or int(value) > 3650):
        fields["value"] = "a whole number from 0 to 3650"
    if not start:
        fields["start"] = "required"
    if fields:
        raise InvalidInput("the limit has errors", fields)
    began = _instant(start)
    amount = 0 if unit == "immediate" else int(value)
    due = platform.calendar.due_date(began, amount, unit)
    return {"start": began.isoformat(), "value": amount, "unit": unit,
            "due_at": due.astimezone(dt.UTC).isoformat(), "due_local": due.astimezone(LOCAL_TZ).isoformat()}

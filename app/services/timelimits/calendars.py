"""The working-day calendar for people: coverage, one year's days, declaring a year, a due date.

Administrators declare a year (or correct a library year) in the override table
``catalog/holidays.json`` through :func:`put_year`; every process reading the
same file follows within a second (``engine.holidays.HolidayFile``).  A date in
a year that neither the library nor the table covers is refused with a 422 that
names the year: the calendar never guesses.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from engine.calendar import LOCAL_TZ, UNITS, CalendarError
from engine.holidays import HolidayFile, read_table, with_year, write_table

from ...errors import Conflict, Forbidden, InvalidInput
from ...models import User
from ..trail import audit
from . import itemclock


def _file(platform) -> HolidayFile:
    calendar = platform.calendar
    if not isinstance(calendar, HolidayFile):
        raise Conflict("this platform's calendar is not backed by a holiday table file")
    return calendar


def years_view(platform) -> dict[str, Any]:
    """The years the calendar covers and the entries of the override table."""
    calendar = platform.calendar
    table = read_table(_file(platform).path) if isinstance(calendar, HolidayFile) else {"years": {}}
    covered = sorted(calendar.covered_years())
    return {"covered_years": covered, "first": covered[0], "last": covered[-1],
            "table": table.get("years", {})}


def year_view(platform, year: int) -> dict[str, Any]:
    """One year: covered or not, its table entry, and its rest weekdays and working weekend days."""
    calendar = platform.calendar
    table = read_table(calendar.path) if isinstance(calendar, HolidayFile) else {"years": {}}
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
    holiday_file = _file(platform)
    try:
        table, _ = with_year(read_table(holiday_file.path), year, body)
    except CalendarError as exc:
        name = getattr(exc, "problem_field", "year")
        raise InvalidInput(exc.message, {name: exc.message}) from exc
    write_table(holiday_file.path, table)
    holiday_file.reload()
    recounted = itemclock.recount(session, platform, dt.date(year, 1, 1), dt.date(year, 12, 31))
    audit.record(session, platform, "calendar_year_set", actor=user,
                 detail={"year": year, "entry": table["years"][str(year)], "handlings_recounted": recounted})
    return year_view(platform, year)


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

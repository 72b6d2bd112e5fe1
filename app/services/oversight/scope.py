"""What a viewer oversees: the province, a city (with its districts) or one unit; and the filters.

* administrators and supervisors of a provincial unit oversee the province;
* supervisors of a city's approval bureau or service centre (the city's window
  and 双集中 bureau) oversee the projects located in that city and its districts;
* any other supervisor oversees the item handlings of their own unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from engine.calendar import LOCAL_TZ

from ...errors import Forbidden, InvalidInput
from ...models import User
from ...stages import BY_KEY

PROVINCE, CITY, UNIT = "province", "city", "unit"
VIEWERS = ("supervisor", "admin")
CITY_WIDE_KINDS = ("approval_bureau", "service_center")


@dataclass(frozen=True)
class Scope:
    """The part of the province a viewer oversees."""

    level: str
    divisions: tuple[str, ...] = ()  # a city's own code and its districts' (level ``city``)
    unit_id: int | None = None       # level ``unit``
    name: str = ""


def scope_of(platform, user: User) -> Scope:
    """The viewer's scope, or 403 for roles that do not oversee."""
    if user.role not in VIEWERS:
        raise Forbidden("the supervision dashboard is for supervisors and leaders")
    if user.role == "admin":
        return Scope(PROVINCE, name="海南省")
    unit = user.unit
    if unit is None:
        raise Forbidden("a supervisor without a unit oversees nothing")
    if unit.level == "province":
        return Scope(PROVINCE, name="海南省")
    if unit.level == "city" and unit.kind in CITY_WIDE_KINDS:
        return Scope(CITY, divisions=city_divisions(platform, unit.division_code),
                     name=platform.catalog.division(unit.division_code).name)
    return Scope(UNIT, unit_id=unit.id, name=unit.name)


def city_divisions(platform, code: str) -> tuple[str, ...]:
    """A city-level division and its districts."""
    return (code,) + tuple(d.code for d in platform.catalog.divisions if d.parent == code and d.level == "district")


def city_of(platform, code: str) -> str:
    """The city-level division of a division (itself for a city)."""
    division = platform.catalog.division(code)
    return division.parent if division.level == "district" and division.parent else division.code


@dataclass(frozen=True)
class Filters:
    """Period (local days, both included), division, flow type and stage of a dashboard request."""

    begins: dt.date | None = None
    ends: dt.date | None = None
    division: str | None = None
    flow_type: int | None = None
    stage: str | None = None

    @property
    def since(self) -> dt.datetime | None:
        """The first instant of the period (UTC)."""
        return _midnight(self.begins) if self.begins else None

    @property
    def until(self) -> dt.datetime | None:
        """The instant after the period's last day (UTC)."""
        return _midnight(self.ends + dt.timedelta(days=1)) if self.ends else None

    def query(self) -> dict[str, str]:
        """The filters as query arguments (for links and exports)."""
        values = {"from": self.begins, "to": self.ends, "division": self.division, "flow_type": self.flow_type,
                  "stage": self.stage}
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), LOCAL_TZ).astimezone(dt.UTC)


def parse_filters(platform, scope: Scope, args: Mapping[str, str]) -> Filters:
    """Filters from request arguments; 422 naming each bad one (a division outside the scope too)."""
    fields: dict[str, str] = {}
    begins, ends = _day(args.get("from"), "from", fields), _day(args.get("to"), "to", fields)
    if begins and ends and begins > ends:
        fields["to"] = "the period ends before it begins"
    division = (args.get("division") or "").strip() or None
    if division is not None:
        try:
            platform.catalog.division(division)
        except Exception:  # noqa: BLE001 - CatalogError: unknown code
            fields["division"] = "unknown division code"
        else:
            if scope.level == CITY and division not in scope.divisions:
                fields["division"] = "outside the area you oversee"
    flow_type = (args.get("flow_type") or "").strip() or None
    if flow_type is not None and not (flow_type.isdigit() and 1 <= int(flow_type) <= 10):
        fields["flow_type"] = "an integer from 1 to 10 (national flow type list)"
    stage = (args.get("stage") or "").strip() or None
    if stage is not None and stage not in BY_KEY:
        fields["stage"] = f"one of {', '.join(BY_KEY)}"
    if fields:
        raise InvalidInput("the dashboard filters have errors", fields)
    return Filters(begins, ends, division, int(flow_type) if flow_type else None, stage)


def _day(value: str | None, name: str, fields: dict) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        fields[name] = "a date as YYYY-MM-DD"
        return None


def project_in_scope(session, platform, scope: Scope, code: str):
    """A project the viewer oversees (drill-down), else 404 without saying whether it exists."""
    from sqlalchemy import select

    from ...errors import NotFound
    from ...models import ItemHandling
    from ..people.projects import find_project

    project = find_project(session, code)
    if scope.level == CITY and project.division_code not in scope.divisions:
        raise NotFound(f"no project has code {code!r}")
    if scope.level == UNIT and session.scalar(select(ItemHandling.id).where(
            ItemHandling.project_id == project.id, ItemHandling.unit_id == scope.unit_id).limit(1)) is None:
        raise NotFound(f"no project has code {code!r}")
    return project

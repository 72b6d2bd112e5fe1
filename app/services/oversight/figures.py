"""The dashboard's figures, computed live from the rows the platform keeps.

Counts come from one aggregate query each.  Durations are working days from an
item's acceptance (受理) to its decision, less the days its clock stood still
for corrections and special procedures (``paused_working_days``), on the
platform's working-day calendar (statutory holidays and 调休 included): the
finished handlings of the period are read in one narrow query and counted
against the calendar in Python, so a change of the calendar shows at once.
Percentiles are nearest-rank (the value at rank ``ceil(p * n)``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from sqlalchemy import and_, case, distinct, func, or_, select
from sqlalchemy.orm import Session

from engine.catalog import reform_cuts

from ...models import HumanTask, ItemHandling, ProcessInstance, Project, SupervisionNotice, Unit
from ...stages import BY_KEY
from ..timelimits import itemclock, lights
from .scope import CITY, UNIT, Filters, Scope, city_divisions, city_of

GROUPINGS = ("stage", "item", "department", "city")


def _divisions_of(platform, code: str) -> tuple[str, ...]:
    division = platform.catalog.division(code)
    if division.level == "province":
        return ()
    return city_divisions(platform, code) if division.level != "district" else (code,)


def handling_conditions(platform, scope: Scope, filters: Filters) -> list:
    """Conditions on ``ItemHandling`` joined to ``Project`` and ``ProcessInstance`` for scope and filters."""
    conditions = []
    if scope.level == CITY:
        conditions.append(Project.division_code.in_(scope.divisions))
    elif scope.level == UNIT:
        conditions.append(ItemHandling.unit_id == scope.unit_id)
    if filters.division and (codes := _divisions_of(platform, filters.division)):
        conditions.append(Project.division_code.in_(codes))
    if filters.flow_type:
        conditions.append(Project.flow_type == filters.flow_type)
    if filters.stage:
        conditions.append(ProcessInstance.stage_key == filters.stage)
    return conditions


def _in_period(column, filters: Filters) -> list:
    found = []
    if filters.since:
        found.append(column >= filters.since)
    if filters.until:
        found.append(column < filters.until)
    return found


def _joined(query, by: str | None = None, filters: Filters | None = None, scope: Scope | None = None):
    """``query`` over the item handlings, joined to their project and stage instance where it needs them.

    Without ``filters`` both are joined; with them, only what the scope, the
    filters and the grouping ``by`` read (the province's figures touch one table).
    """
    query = query.select_from(ItemHandling)
    if filters is None or by == "city" or filters.division or filters.flow_type or (
            scope is not None and scope.level == CITY):
        query = query.join(Project, Project.id == ItemHandling.project_id)
    if filters is None or by == "stage" or filters.stage:
        query = query.join(ProcessInstance, ProcessInstance.id == ItemHandling.instance_id)
    return query


def summary(session: Session, platform, scope: Scope, filters: Filters) -> dict[str, Any]:
    """Projects, enterprises, items accepted / finished / on time in the period; open items by light now."""
    now = platform.now()
    base = handling_conditions(platform, scope, filters)
    accepted = _in_period(ItemHandling.accepted_at, filters)
    finished = and_(ItemHandling.finished_at.is_not(None), *_in_period(ItemHandling.finished_at, filters))
    on_time = and_(finished, or_(ItemHandling.due_at.is_(None), ItemHandling.finished_at <= ItemHandling.due_at))
    accepted_count = func.count(ItemHandling.id).filter(and_(*accepted)) if accepted else func.count(ItemHandling.id)
    row = session.execute(_joined(select(accepted_count, func.count(ItemHandling.id).filter(finished),
                                         func.count(ItemHandling.id).filter(on_time)), None, filters, scope)
                          .where(*base)).one()
    names = lights.LIGHTS + (lights.NO_LIMIT,)
    counts = session.execute(_joined(select(*(func.count(ItemHandling.id).filter(lights.condition(name, now))
                                               for name in names)), None, filters, scope)
                             .where(*base, ItemHandling.finished_at.is_(None))).one()
    open_lights = {name: count or 0 for name, count in zip(names, counts, strict=True)}
    projects, enterprises = _projects(session, platform, scope, filters)
    return {"projects": projects, "enterprises": enterprises, "items_accepted": row[0], "items_finished": row[1],
            "items_on_time": row[2], "on_time_share": round(100 * row[2] / row[1], 1) if row[1] else None,
            "open": sum(open_lights.values()), "open_by_light": open_lights,
            "overdue": open_lights[lights.RED]}


def _projects(session: Session, platform, scope: Scope, filters: Filters) -> tuple[int, int]:
    conditions = _in_period(Project.created_at, filters)
    if scope.level == CITY:
        conditions.append(Project.division_code.in_(scope.divisions))
    if filters.division and (codes := _divisions_of(platform, filters.division)):
        conditions.append(Project.division_code.in_(codes))
    if filters.flow_type:
        conditions.append(Project.flow_type == filters.flow_type)
    if scope.level == UNIT:
        conditions.append(Project.id.in_(select(ItemHandling.project_id).where(ItemHandling.unit_id == scope.unit_id)))
    if filters.stage:
        conditions.append(Project.id.in_(select(ProcessInstance.project_id)
                                         .where(ProcessInstance.stage_key == filters.stage)))
    row = session.execute(select(func.count(Project.id), func.count(distinct(Project.enterprise_id)))
                          .where(*conditions)).one()
    return row[0], row[1]


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile of ``values`` (None when empty)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(share * len(ordered))) - 1]


def histogram_percentile(counts: dict[int, int], share: float) -> int | None:
    """Nearest-rank percentile of the values a ``{value: how many}`` histogram holds (None when empty)."""
    total = sum(counts.values())
    if not total:
        return None
    rank, seen = max(1, math.ceil(share * total)), 0
    for value in sorted(counts):
        seen += counts[value]
        if seen >= rank:
            return value
    return None  # unreachable: the ranks end at the total


def durations(session: Session, platform, scope: Scope, filters: Filters, by: str) -> list[dict[str, Any]]:
    """Per stage, item, department or city: finished items, median and p90 working days, slowest first.

    The database groups the finished handlings by key and kept working days (a
    few thousand rows, not one per handling); handlings finished before their
    days were kept are counted on the calendar here.
    """
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}")
    key = {"stage": ProcessInstance.stage_key, "item": ItemHandling.item_code, "department": ItemHandling.item_code,
           "city": Project.division_code}[by]
    conditions = [*handling_conditions(platform, scope, filters), ItemHandling.finished_at.is_not(None),
                  *_in_period(ItemHandling.finished_at, filters)]
    groups: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for value, days, count in session.execute(
            _joined(select(key, ItemHandling.working_days, func.count(ItemHandling.id)), by, filters, scope)
            .where(*conditions, ItemHandling.working_days.is_not(None)).group_by(key, ItemHandling.working_days)):
        groups[_group(platform, by, value)][days] += count
    uncounted = session.execute(_joined(select(key, ItemHandling.accepted_at, ItemHandling.finished_at,
                                               ItemHandling.paused_working_days), by, filters, scope)
                                .where(*conditions, ItemHandling.working_days.is_(None))).all()
    calendar = _calendar(platform)
    for value, accepted, finished, paused in uncounted:
        days = itemclock.working_days(calendar, accepted, finished, paused)
        if days is not None:
            groups[_group(platform, by, value)][days] += 1
    out = []
    for k, counts in groups.items():
        total = sum(counts.values())
        out.append({"key": k, "name": _name(platform, by, k), "count": total,
                    "median": histogram_percentile(counts, 0.5), "p90": histogram_percentile(counts, 0.9),
                    "mean": round(sum(d * n for d, n in counts.items()) / total, 1)})
    return sorted(out, key=lambda e: (-(e["median"] or 0), -(e["p90"] or 0), e["key"]))


def _calendar(platform):
    """The working-day calendar in force now (the holiday file follows the administrator's edits)."""
    calendar = platform.calendar
    return calendar.current() if hasattr(type(calendar), "current") else calendar


def _group(platform, by: str, value: str) -> str:
    if by == "department":
        try:
            return platform.catalog.item(value).role
        except Exception:  # noqa: BLE001 - an item no longer in the catalogue
            return "unknown"
    if by == "city":
        return city_of(platform, value)
    return value


def _name(platform, by: str, key: str) -> str:
    try:
        if by == "stage":
            return BY_KEY[key].name if key in BY_KEY else key
        if by == "item":
            return platform.catalog.item(key).name
        if by == "department":
            return platform.catalog.roles[key].name
        return platform.catalog.division(key).name
    except Exception:  # noqa: BLE001 - names are a convenience; the key stands
        return key


def trend(session: Session, platform, scope: Scope, filters: Filters) -> list[dict[str, Any]]:
    """Per month (local time): items accepted, items finished, of them late, and projects declared."""
    base = handling_conditions(platform, scope, filters)
    accepted_month, finished_month = month_of(session, ItemHandling.accepted_at), month_of(
        session, ItemHandling.finished_at)
    months: dict[str, dict[str, int]] = defaultdict(lambda: {"accepted": 0, "finished": 0, "late": 0, "projects": 0})
    for month, count in session.execute(_joined(select(accepted_month, func.count(ItemHandling.id)), None, filters,
                                                scope)
                                        .where(*base, *_in_period(ItemHandling.accepted_at, filters))
                                        .group_by(accepted_month)):
        months[_month_key(month)]["accepted"] = count
    late = case((and_(ItemHandling.due_at.is_not(None), ItemHandling.finished_at > ItemHandling.due_at), 1), else_=0)
    for month, count, late_count in session.execute(
            _joined(select(finished_month, func.count(ItemHandling.id), func.sum(late)), None, filters, scope)
            .where(*base, ItemHandling.finished_at.is_not(None), *_in_period(ItemHandling.finished_at, filters))
            .group_by(finished_month)):
        months[_month_key(month)]["finished"], months[_month_key(month)]["late"] = count, int(late_count or 0)
    return [{"month": m, **v} for m, v in sorted(months.items())]


def month_of(session: Session, column):
    """The local (Asia/Shanghai) month of a UTC column, in the database's own dialect (see ``_month_key``).

    PostgreSQL truncates the local time to its month (cheaper than formatting
    every row); SQLite formats ``YYYY-MM``.
    """
    if session.get_bind().dialect.name == "postgresql":
        return func.date_trunc("month", func.timezone("Asia/Shanghai", column))
    return func.strftime("%Y-%m", column, "+8 hours")


def _month_key(value) -> str:
    """``YYYY-MM`` of what :func:`month_of` gave (a month's first instant, or already the text)."""
    return value.strftime("%Y-%m") if hasattr(value, "strftime") else str(value)


def overdue(session: Session, platform, scope: Scope, filters: Filters, limit: int = 50) -> dict[str, Any]:
    """The open items past their due date, longest overdue first, with their project (for drill-down)."""
    now = platform.now()
    conditions = [*handling_conditions(platform, scope, filters), ItemHandling.finished_at.is_(None),
                  lights.condition(lights.RED, now), *_in_period(ItemHandling.accepted_at, filters)]
    total = session.scalar(_joined(select(func.count(ItemHandling.id)), None, filters, scope)
                           .where(*conditions)) or 0
    rows = session.execute(_joined(select(ItemHandling.id, ItemHandling.item_code, ItemHandling.accepted_at,
                                          ItemHandling.due_at, ItemHandling.paused_at, Project.code, Project.name,
                                          Unit.name, ProcessInstance.stage_key))
                           .outerjoin(Unit, Unit.id == ItemHandling.unit_id)
                           .where(*conditions).order_by(ItemHandling.due_at, ItemHandling.id).limit(limit)).all()
    calendar = _calendar(platform)
    items = [{"handling_id": r[0], "item_code": r[1], "item_name": _name(platform, "item", r[1]),
              "accepted_at": r[2], "due_at": r[3], "days_overdue": calendar.working_days_between(r[3], r[4] or now),
              "project_code": r[5], "project_name": r[6], "unit": r[7] or "", "stage": r[8]} for r in rows]
    return {"total": total, "items": items}


def notices(session: Session, platform, scope: Scope, limit: int = 20) -> dict[str, Any]:
    """The supervision notices (督办) of the scope's units, newest first, and the open 督办 tasks."""
    units = _scope_units(platform, scope)
    notice_filter = [SupervisionNotice.unit_id.in_(units)] if units is not None else []
    task_filter = [HumanTask.unit_id.in_(units)] if units is not None else []
    rows = session.scalars(select(SupervisionNotice).where(*notice_filter)
                           .order_by(SupervisionNotice.created_at.desc(), SupervisionNotice.id.desc())
                           .limit(limit)).all()
    unread = session.scalar(select(func.count(SupervisionNotice.id)).where(
        *notice_filter, SupervisionNotice.acknowledged_at.is_(None))) or 0
    tasks = session.scalar(select(func.count(HumanTask.id)).where(
        *task_filter, HumanTask.status == "open", HumanTask.audience == "supervisor")) or 0
    return {"unacknowledged": unread, "open_tasks": tasks,
            "items": [{"id": n.id, "kind": n.kind, "message": n.message, "project_code": n.project_code,
                       "item_code": n.item_code, "created_at": n.created_at,
                       "acknowledged": n.acknowledged_at is not None} for n in rows]}


def _scope_units(platform, scope: Scope):
    if scope.level == UNIT:
        return [scope.unit_id]
    if scope.level == CITY:
        return select(Unit.id).where(Unit.division_code.in_(scope.divisions))
    return None


def reform(platform) -> dict[str, Any]:
    """The reform's cuts (items, materials, summed time limits) of the catalogue in force against 2018."""
    catalog = platform.catalog
    if catalog.baseline is None:
        return {}
    cuts = reform_cuts(catalog.baseline, catalog.item_set)
    return {**cuts, "baseline_version": catalog.baseline.version, "current_version": catalog.item_set.version}


def dashboard(session: Session, platform, scope: Scope, filters: Filters) -> dict[str, Any]:
    """Every figure of the dashboard page."""
    return {"summary": summary(session, platform, scope, filters),
            "durations": {by: durations(session, platform, scope, filters, by) for by in GROUPINGS},
            "trend": trend(session, platform, scope, filters),
            "overdue": overdue(session, platform, scope, filters),
            "notices": notices(session, platform, scope), "reform": reform(platform),
            "now": platform.now()}

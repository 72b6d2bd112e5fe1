"""Routing administration: an administrator changes a route and re-routes open tasks, both audited.

The routing table (``route_entry``) is loaded from ``catalog/`` on set-up; a
route changed here is marked ``set_by_admin`` and survives the next load.  A
change applies to tasks opened from then on; :func:`reroute` moves the open
tasks (and the open item handlings they work on) whose route changed, one audit
record per task.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, NotFound
from ...models import Division, HumanTask, ItemHandling, Project, RouteEntry, Unit, UnitRole, User
from ..trail import audit
from . import routing


def _unit_view(unit: Unit | None) -> dict[str, Any] | None:
    if unit is None:
        return None
    return {"id": unit.id, "code": unit.code, "name": unit.name, "division": unit.division_code}


def routing_table(session: Session, role: str | None = None, division: str | None = None) -> list[dict]:
    """The routing table, optionally for one role or one division."""
    query = select(RouteEntry, Unit).join(Unit, Unit.id == RouteEntry.unit_id)
    if role:
        query = query.where(RouteEntry.role == role)
    if division:
        query = query.where(RouteEntry.division_code == division)
    rows = session.execute(query.order_by(RouteEntry.role, RouteEntry.division_code)).all()
    return [{"role": e.role, "division": e.division_code, "unit": _unit_view(u), "set_by_admin": e.set_by_admin}
            for e, u in rows]


def set_route(session: Session, platform, actor: User, role: str, division: str, body: Any) -> dict:
    """Route ``role`` in ``division`` to the unit ``body['unit_code']``; audited."""
    if role not in platform.catalog.routed_roles():
        raise NotFound(f"no routed lane role {role!r}")
    if session.get(Division, division) is None:
        raise NotFound(f"no division {division!r}")
    unit_code = body.get("unit_code") if isinstance(body, dict) else None
    if not isinstance(unit_code, str) or not unit_code.strip():
        raise InvalidInput("'unit_code' names the unit to route to", {"unit_code": "required"})
    unit = session.scalar(select(Unit).where(Unit.code == unit_code.strip()))
    if unit is None:
        raise InvalidInput(f"no unit {unit_code!r}", {"unit_code": "unknown unit"})
    if session.get(UnitRole, (unit.id, role)) is None:
        raise InvalidInput(f"unit {unit.code} does not serve {role}", {"unit_code": f"the unit does not serve {role}"})
    entry = session.get(RouteEntry, (role, division))
    previous = session.get(Unit, entry.unit_id) if entry is not None else None
    if entry is None:
        entry = RouteEntry(role=role, division_code=division, unit_id=unit.id)
        session.add(entry)
    entry.unit_id, entry.set_by_admin = unit.id, True
    session.flush()
    routing.invalidate(session)  # every node: within HN_CACHE_CHECK_SECONDS
    audit.record(session, platform, "route_changed", actor=actor, detail={
        "role": role, "division": division, "from": previous.code if previous else None, "to": unit.code})
    return {"role": role, "division": division, "unit": _unit_view(unit), "previous": _unit_view(previous),
            "set_by_admin": True}


def reroute(session: Session, platform, actor: User, body: Any) -> dict:
    """Move open department tasks to the unit their route now names; one audit record per moved task."""
    body = body if isinstance(body, dict) else {}
    role, division = body.get("role"), body.get("division")
    if role is not None and role not in platform.catalog.routed_roles():
        raise InvalidInput(f"no routed lane role {role!r}", {"role": "unknown role"})
    if division is not None and (not isinstance(division, str) or session.get(Division, division) is None):
        raise InvalidInput(f"no division {division!r}", {"division": "unknown division"})
    query = (select(HumanTask, Project).join(Project, Project.id == HumanTask.project_id)
             .where(HumanTask.status == "open", HumanTask.unit_id.is_not(None), HumanTask.audience.is_(None),
                    HumanTask.lane_role.is_not(None)))
    if role:
        query = query.where(HumanTask.lane_role == role)
    if division:
        children = select(Division.code).where(Division.parent_code == division)
        query = query.where(or_(Project.division_code == division, Project.division_code.in_(children)))
    moved, checked = [], 0
    for row, project in session.execute(query.order_by(HumanTask.id)).all():
        checked += 1
        unit_id = routing.resolve(session, row.lane_role, project.division_code)
        if unit_id != row.unit_id:
            moved.append(_move(session, platform, actor, row, project, unit_id))
    return {"checked": checked, "rerouted": len(moved), "tasks": moved}


def _move(session: Session, platform, actor: User, row: HumanTask, project: Project, unit_id: int) -> dict:
    previous = row.unit_id
    row.unit_id, row.assignee_id = unit_id, None
    if row.item_code:
        for handling in session.scalars(select(ItemHandling).where(
                ItemHandling.instance_id == row.instance_id, ItemHandling.item_code == row.item_code,
                ItemHandling.finished_at.is_(None))):
            handling.unit_id = unit_id
    units = {u.id: u.code for u in session.scalars(select(Unit).where(Unit.id.in_((previous, unit_id))))}
    moved = {"task": row.id, "title": row.title, "lane": row.lane_role, "project": project.code,
             "from": units.get(previous), "to": units.get(unit_id)}
    audit.record(session, platform, "task_rerouted", actor=actor, instance=row.instance, detail=moved)
    return moved

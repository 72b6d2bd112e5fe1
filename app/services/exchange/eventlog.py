"""The audit trail as an event log for process mining: the events, their period and scope, who may export.

Every human task of the platform is one activity: it *starts* when the task
opens (``human_task.created_at``) and *completes* when an officer (or the
applicant) completes it, with the resource who did it, the department (unit)
it was routed to and the lane role.  XES groups the events of the item
handlings into one trace per handling (``xes``); OCEL links every event to the
project, the stage instance, the item handling and the department it concerns
(``ocel``).  Both are streamed: rows are read in batches, never all at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import Session

from ...errors import Forbidden, InvalidInput
from ...models import HumanTask, ItemHandling, ProcessInstance, Project, Unit, User

EXPORTERS = ("analyst", "supervisor")
BATCH = 1000


@dataclass(frozen=True)
class Scope:
    """What an export covers: a period [start, end) and the divisions (None: the whole province)."""

    start: dt.datetime
    end: dt.datetime
    divisions: frozenset[str] | None
    item: str | None = None
    stage: str | None = None

    def describe(self) -> str:
        """One line for the log's header."""
        where = "全省" if self.divisions is None else ",".join(sorted(self.divisions)[:5])
        return f"{self.start.isoformat()} – {self.end.isoformat()} {where}"


@dataclass(frozen=True)
class Event:
    """One lifecycle event of one task."""

    id: str
    activity: str
    lifecycle: str
    time: dt.datetime
    task: HumanTask
    resource: str | None
    department: str | None
    department_code: str | None
    role: str | None


def _moment(raw: str | None, name: str) -> dt.datetime | None:
    if raw in (None, ""):
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise InvalidInput("bad period", fields={name: "an ISO 8601 date or date-time"}) from exc
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def scope_for(platform, user: User, args: dict) -> Scope:
    """The export's scope from the request's ``from``, ``to``, ``division``, ``item``, ``stage``.

    Analysts export any division; a supervisor only the city (or the province) of
    their own unit.  The period defaults to the last 365 days.
    """
    if user.role not in EXPORTERS:
        raise Forbidden("event logs are exported by analysts and supervisors")
    now = platform.now()
    end = _moment(args.get("to"), "to") or now
    start = _moment(args.get("from"), "from") or end - dt.timedelta(days=365)
    if start >= end:
        raise InvalidInput("bad period", fields={"from": "must be before to"})
    catalog = platform.catalog
    province = catalog.province().code
    requested = args.get("division") or None
    allowed = None  # every division
    if user.role == "supervisor":
        unit_division = user.unit.division_code if user.unit else province
        allowed = None if unit_division == province else catalog.city_of(unit_division).code
    if requested is not None:
        try:
            catalog.division(requested)
        except Exception as exc:  # noqa: BLE001 - the catalogue raises its own error for an unknown code
            raise InvalidInput("unknown division", fields={"division": "a division code, e.g. 460100"}) from exc
    target = requested or allowed
    if allowed is not None and target != allowed and not _within(catalog, target, allowed):
        raise Forbidden(f"a supervisor of {allowed} exports only that division")
    divisions = None if target in (None, province) else frozenset(
        d.code for d in catalog.divisions if d.code == target or d.parent == target)
    return Scope(start, end, divisions, args.get("item") or None, args.get("stage") or None)


def _within(catalog, code: str, city: str) -> bool:
    division = catalog.division(code)
    return division.code == city or division.parent == city


def _tasks(scope: Scope, items_only: bool) -> Select:
    """Tasks with an event in the period, in the scope, ordered by handling then time."""
    in_period = or_(and_(HumanTask.created_at >= scope.start, HumanTask.created_at < scope.end),
                    and_(HumanTask.completed_at >= scope.start, HumanTask.completed_at < scope.end))
    query = select(HumanTask).join(Project, Project.id == HumanTask.project_id).where(in_period)
    if items_only:
        query = query.where(HumanTask.handling_id.is_not(None))
    if scope.divisions is not None:
        query = query.where(Project.division_code.in_(sorted(scope.divisions)))
    if scope.item:
        query = query.where(HumanTask.item_code == scope.item)
    if scope.stage:
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
            ProcessInstance.stage_key == scope.stage)
    return query.order_by(HumanTask.handling_id, HumanTask.id) if items_only else query.order_by(HumanTask.id)


class Lookups:
    """Units and users by id, read once per export (a few hundred rows)."""

    def __init__(self, session: Session):
        self.units = {u.id: u for u in session.scalars(select(Unit))}
        self.users = {u.id: u.username for u in session.scalars(select(User))}


def events_of(task: HumanTask, scope: Scope, look: Lookups) -> list[Event]:
    """The start and complete events of one task that fall in the period."""
    unit = look.units.get(task.unit_id)
    resource = look.users.get(task.completed_by) or look.users.get(task.assignee_id)
    department = unit.name if unit else ("申请人" if task.enterprise_id else None)
    out = []
    for lifecycle, moment in (("start", task.created_at), ("complete", task.completed_at)):
        if moment is not None and scope.start <= moment < scope.end and (lifecycle == "start" or
                                                                          task.status == "completed"):
            out.append(Event(f"t{task.id}-{lifecycle}", task.title, lifecycle, moment, task,
                             resource if lifecycle == "complete" or task.status == "completed" else None,
                             department, unit.code if unit else None, task.lane_role))
    return out


def tasks(session: Session, scope: Scope, items_only: bool) -> Iterator[HumanTask]:
    """The tasks in scope, read in batches."""
    yield from session.scalars(_tasks(scope, items_only).execution_options(yield_per=BATCH))


def handlings(session: Session, ids: list[int]) -> dict[int, ItemHandling]:
    """Item handlings by id (in chunks)."""
    out = {}
    for start in range(0, len(ids), BATCH):
        out.update({h.id: h for h in session.scalars(select(ItemHandling).where(
            ItemHandling.id.in_(ids[start:start + BATCH])))})
    return out

"""Supervision (督办): tasks and notices for supervisors about items near or past their limit.

Two sources feed a supervisor's inbox:

* supervision tasks: BPMN user tasks with the property ``audience=supervisor``,
  typically behind a non-interrupting boundary timer ``deadline_warning(item)``
  or ``deadline(item)`` on a review (docs/time-limits.md).  They are routed to
  the supervisors of the unit handling the item, never shown to its officers,
  and close themselves when the item handling they watch is finished, so a
  stage never waits for a supervisor;
* supervision notices, written by the scheduler's time-limit job when an item
  reaches its warning instant or passes its due date.

A unit without a supervisor account of its own is supervised by the
supervisors of its city (units of the same city-level division or its
districts); failing that the item stays with the unit, where administrators
see it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.timelimits import light

from ...errors import Forbidden, NotFound
from ...models import Division, HumanTask, ItemHandling, ProcessInstance, SupervisionNotice, Unit, User

SUPERVISOR = "supervisor"
CLOSED_ANSWER = {"outcome": "closed", "opinion": "办件已办结，督办自动关闭"}


def supervising_unit(session: Session, unit_id: int | None) -> int | None:
    """The unit whose supervisors watch ``unit_id``: itself if it has one, else one of its city."""
    if unit_id is None:
        return None
    own = select(User.id).where(User.unit_id == unit_id, User.role == SUPERVISOR, User.active.is_(True))
    if session.scalar(own.limit(1)) is not None:
        return unit_id
    division = session.scalar(select(Division).join(Unit, Unit.division_code == Division.code)
                              .where(Unit.id == unit_id))
    if division is None:
        return unit_id
    city = division.parent_code if division.level == "district" and division.parent_code else division.code
    same_city = Unit.division_code == city
    if division.level != "province":
        same_city = or_(same_city, Division.parent_code == city)
    found = session.scalar(
        select(User.unit_id).join(Unit, Unit.id == User.unit_id)
        .join(Division, Division.code == Unit.division_code)
        .where(User.role == SUPERVISOR, User.active.is_(True), same_city).order_by(User.id).limit(1))
    return found if found is not None else unit_id


def on_task_opened(session: Session, instance: ProcessInstance, row: HumanTask,
                   handling: ItemHandling | None) -> dt.datetime | None:
    """Route a new supervision task to the supervisors and link it to the handling it watches."""
    row.audience = SUPERVISOR
    row.unit_id = supervising_unit(session, handling.unit_id if handling is not None else row.unit_id)
    if handling is None:
        return None
    row.handling = handling
    return handling.due_at


def notify(session: Session, platform, handling: ItemHandling, kind: str, message: str) -> SupervisionNotice:
    """Write a notice (``warning`` or ``overdue``) for the supervisors of the handling's unit."""
    notice = SupervisionNotice(unit_id=supervising_unit(session, handling.unit_id), handling_id=handling.id,
                               project_code=handling.project_code, item_code=handling.item_code,
                               kind=kind, message=message, created_at=platform.now())
    session.add(notice)
    platform.hooks.emit("notice_raised", session, platform, notice)  # the message centre and outbox
    return notice


def on_task_completed(session: Session, platform, instance: ProcessInstance, workflow, row: HumanTask,
                      data, actor) -> None:
    """Hook ``task_completed``: a 督办 task ends with its item."""
    close_finished(session, platform, workflow, instance)


def close_finished(session: Session, platform, workflow, instance: ProcessInstance) -> int:
    """Complete the open supervision tasks whose item handling has finished; return how many."""
    if not any(view.properties.get("audience") == SUPERVISOR for view in platform.runtime.ready_user_tasks(workflow)):
        return 0  # an open supervision row is a ready supervision task of the engine: none, nothing to close
    rows = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == instance.id, HumanTask.status == "open",
        HumanTask.audience == SUPERVISOR)).all()
    closed = 0
    for row in rows:
        if row.handling is None or row.handling.finished_at is None:
            continue
        platform.runtime.complete(workflow, row.task_id, CLOSED_ANSWER)
        row.status, row.outcome, row.completed_at = "completed", "closed", platform.now()
        closed += 1
    return closed


def _supervised_units(user: User) -> list[int] | None:
    """None for administrators (every unit); a supervisor's own unit otherwise."""
    if user.role == "admin":
        return None
    if user.role != SUPERVISOR or user.unit_id is None:
        raise Forbidden("the supervision inbox is for supervisors")
    return [user.unit_id]


def notice_view(notice: SupervisionNotice, now: dt.datetime) -> dict[str, Any]:
    """A notice as the API shows it, with the light of its handling now."""
    handling = notice.handling
    return {"id": notice.id, "kind": notice.kind, "message": notice.message, "unit_id": notice.unit_id,
            "project_code": notice.project_code, "item_code": notice.item_code,
            "handling_id": notice.handling_id, "created_at": notice.created_at.isoformat(),
            "acknowledged_at": notice.acknowledged_at.isoformat() if notice.acknowledged_at else None,
            "light": light(handling.due_at, handling.warn_at, now, handling.paused_at, handling.finished_at)
            if handling else None}


def inbox(session: Session, user: User, include_acknowledged: bool = False,
          limit: int = 200) -> tuple[list[SupervisionNotice], list[HumanTask]]:
    """A supervisor's notices (newest first) and open supervision tasks (oldest deadline first)."""
    units = _supervised_units(user)
    notices = select(SupervisionNotice)
    tasks = select(HumanTask).where(HumanTask.status == "open", HumanTask.audience == SUPERVISOR)
    if units is not None:
        notices = notices.where(SupervisionNotice.unit_id.in_(units))
        tasks = tasks.where(HumanTask.unit_id.in_(units))
    if not include_acknowledged:
        notices = notices.where(SupervisionNotice.acknowledged_at.is_(None))
    notices = notices.order_by(SupervisionNotice.id.desc()).limit(limit)
    tasks = tasks.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id).limit(limit)
    return list(session.scalars(notices)), list(session.scalars(tasks))


def acknowledge(session: Session, platform, user: User, notice_id: int) -> SupervisionNotice:
    """Mark a notice as read by a supervisor of its unit (idempotent)."""
    units = _supervised_units(user)
    notice = session.get(SupervisionNotice, notice_id)
    if notice is None or (units is not None and notice.unit_id not in units):
        raise NotFound(f"notice {notice_id} does not exist")
    if notice.acknowledged_at is None:
        notice.acknowledged_at, notice.acknowledged_by = platform.now(), user.id
    return notice

"""Special procedures (特别程序): expert review, hearing, testing, ... stop an item's clock.

Their time is not counted in the item's limit and the applicant is told
(行政许可法 §45).  Starting one records BLZT 9 with the kind, the reason and
the expected length and stops the clock; ending it records BLZT 10 and moves
the due date by the paused time.  Only officers of the unit handling the item
start and end them, while its review is open.  Timers that follow the item
clock (``deadline(...)``) are re-timed at both ends.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...models import ItemHandling, Project, SpecialProcedure, User
from ..trail import audit
from ..workflow import instances
from . import handlings, itemclock, supervision

KINDS = {"expert_review": "专家评审", "hearing": "听证", "testing": "检验检测", "inspection": "现场勘验",
         "tender": "招标拍卖", "quarantine": "检疫", "appraisal": "鉴定", "other": "其他"}
MAX_EXPECTED_DAYS = 365
OFFICERS = ("officer",)  # the department's officers; supervisors oversee, they do not act (issue 9)


def _check_officer(platform, user: User, handling: ItemHandling) -> None:
    """Officers of the handling's unit only (and of its lane, when they have lanes)."""
    if user.role not in OFFICERS or user.unit_id is None or user.unit_id != handling.unit_id:
        raise Forbidden("only officers of the unit handling this item may do this")
    try:
        role = platform.catalog.item(handling.item_code).role
    except Exception:  # noqa: BLE001 - an item outside the catalogue: the unit check suffices
        role = None
    if user.lanes and role is not None and role not in user.lanes:
        raise Forbidden(f"item {handling.item_code} belongs to lane {role}, not yours")


def get_handling(session: Session, handling_id: int) -> ItemHandling:
    """An item handling by id, or 404."""
    query = select(ItemHandling).where(ItemHandling.id == handling_id)
    handling = session.scalars(query.execution_options(populate_existing=True)).one_or_none()
    if handling is None:
        raise NotFound(f"item handling {handling_id} does not exist")
    return handling


def visible_handling(session: Session, user: User, handling_id: int) -> ItemHandling:
    """A handling the user may see (its unit's officers and supervisors, the applicant), else 404."""
    handling = get_handling(session, handling_id)
    if user.role == "admin":
        return handling
    if user.role == "applicant":
        enterprise = session.scalar(select(Project.enterprise_id).where(Project.id == handling.project_id))
        if enterprise is not None and enterprise == user.enterprise_id:
            return handling
    elif user.unit_id is not None and user.unit_id == handling.unit_id:
        return handling
    elif user.role == "supervisor" and supervision.supervising_unit(session, handling.unit_id) == user.unit_id:
        return handling
    raise NotFound(f"item handling {handling_id} does not exist")


def _text(data: dict, name: str, required: bool, limit: int = 2000) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise InvalidInput(f"{name} must be text of 1-{limit} characters", {name: "invalid"})
    return value.strip()


def _parse_start(data: Any) -> tuple[str, str, int]:
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    fields = {}
    unknown = set(data) - {"kind", "reason", "expected_days"}
    fields.update({k: "unknown field" for k in sorted(unknown)})
    kind = data.get("kind")
    if kind not in KINDS:
        fields["kind"] = f"one of {', '.join(KINDS)}"
    reason = data.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 2000:
        fields["reason"] = "the reason (1-2000 characters) is required"
    days = data.get("expected_days")
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= MAX_EXPECTED_DAYS:
        fields["expected_days"] = f"the expected length in working days, 1-{MAX_EXPECTED_DAYS}"
    if fields:
        raise InvalidInput("the special procedure has errors", fields)
    return kind, reason.strip(), days


def start(session: Session, platform, user: User, handling_id: int, data: Any) -> SpecialProcedure:
    """Start a special procedure: BLZT 9, the clock stops."""
    kind, reason, expected_days = _parse_start(data)
    handling = get_handling(session, handling_id)
    _check_officer(platform, user, handling)
    with instances.running(session, platform, handling.instance_id) as (_, workflow):
        handling = get_handling(session, handling_id)  # re-read under the instance's lock
        if handling.finished_at is not None:
            raise Conflict(f"item {handling.item_code} is already finished")
        if handling.paused_at is not None:
            raise Conflict(f"the clock of item {handling.item_code} is already stopped ({handling.pause_kind})")
        now = platform.now()
        itemclock.pause(handling, itemclock.PAUSE_SPECIAL, now)
        procedure = SpecialProcedure(handling_id=handling.id, kind=kind, reason=reason,
                                     expected_days=expected_days, started_at=now, started_by=user.id, result="")
        session.add(procedure)
        session.flush()
        handlings._event(session, platform, handling, handlings.SPECIAL_STARTED, user,
                         f"{KINDS[kind]}：{reason}（预计{expected_days}个工作日，不计入办理时限）")
        platform.runtime.retime_deadline_timers(workflow)  # deadline(...) timers follow the clock
    audit.record(session, platform, "special_procedure_started", actor=user, project_code=handling.project_code,
                 detail={"item": handling.item_code, "kind": kind, "expected_days": expected_days})
    return procedure


def end(session: Session, platform, user: User, handling_id: int, procedure_id: int, data: Any) -> SpecialProcedure:
    """End a special procedure: BLZT 10, the due date moves by the paused time."""
    result = _text(data if isinstance(data, dict) else {}, "result", required=False)
    handling = get_handling(session, handling_id)
    _check_officer(platform, user, handling)
    with instances.running(session, platform, handling.instance_id) as (_, workflow):
        handling = get_handling(session, handling_id)
        procedure = session.get(SpecialProcedure, procedure_id)
        if procedure is None or procedure.handling_id != handling.id:
            raise NotFound(f"special procedure {procedure_id} does not exist for this item")
        if procedure.ended_at is not None:
            raise Conflict(f"special procedure {procedure_id} has already ended")
        now = platform.now()
        days, seconds = itemclock.resume(session, platform, handling, now, since=procedure.started_at)
        procedure.ended_at, procedure.ended_by, procedure.result = now, user.id, result
        procedure.paused_days, procedure.paused_seconds = days, seconds
        handlings._event(session, platform, handling, handlings.SPECIAL_ENDED, user,
                         f"{KINDS.get(procedure.kind, procedure.kind)}结束，用时{days}日不计入办理时限"
                         + (f"：{result}" if result else ""))
        platform.runtime.retime_deadline_timers(workflow)  # deadline(...) timers follow the clock
    audit.record(session, platform, "special_procedure_ended", actor=user, project_code=handling.project_code,
                 detail={"item": handling.item_code, "kind": procedure.kind, "paused_days": days,
                         "due_at": handling.due_at})
    return procedure


def procedures_of(session: Session, handling_id: int) -> list[SpecialProcedure]:
    """The special procedures of a handling, oldest first."""
    return list(session.scalars(select(SpecialProcedure).where(SpecialProcedure.handling_id == handling_id)
                                .order_by(SpecialProcedure.id)))

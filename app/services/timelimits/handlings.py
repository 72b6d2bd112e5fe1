"""Item handlings (办件): one per department review of one catalogue item.

An item handling is the unit of time limits and of the national handling state
codes (BLZT).  It opens when the first review task of its item opens, pauses
while the applicant corrects materials (补正), and closes with the decision.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ...errors import Conflict
from ...models import HumanTask, ItemHandling, ItemHandlingEvent, ProcessInstance, User
from ...stages import VERIFICATION_STAGE
from ..catalogue import gaps
from . import itemclock, supervision

# National handling state codes (DOMAIN.md §6).
RECEIVED, ACCEPTED_AT_WINDOW, CORRECTION_STARTED, CORRECTION_ENDED = 1, 3, 6, 7
ACCEPTED_BY_DEPARTMENT, APPROVED, REFUSED = 8, 11, 13
STATE_NAMES = {1: "已收件", 2: "申请人撤回", 3: "窗口受理", 4: "不予受理", 5: "不予受理",
               6: "补正开始", 7: "补正结束", 8: "部门受理", 9: "特别程序开始", 10: "特别程序结束",
               11: "审批通过", 12: "容缺通过", 13: "不予许可", 14: "撤回", 15: "撤销", 16: "撤回待确认"}
FINISHED = {APPROVED, REFUSED, 12, 14, 15}
SPECIAL_STARTED, SPECIAL_ENDED = 9, 10
SUPERVISOR = "supervisor"  # HumanTask.audience of supervision tasks
OUTCOME_STATE = {"approve": APPROVED, "refuse": REFUSED, "correct": CORRECTION_STARTED}


def _open_handling(session: Session, instance_id: int, item_code: str) -> ItemHandling | None:
    return itemclock.open_handling(session, item_code, instance_id=instance_id)


def _event(session: Session, platform, handling: ItemHandling, state: int,
           actor: User | None = None, opinion: str = "") -> None:
    handling.state = state
    event = ItemHandlingEvent(state=state, at=platform.now(), actor_id=actor.id if actor else None,
                              opinion=opinion)
    if handling.id is None:
        handling.events.append(event)  # inserted with the handling in one flush
    else:
        event.handling_id = handling.id
        session.add(event)


def due_for(platform, item_code: str, start: dt.datetime) -> dt.datetime | None:
    """The due instant of an item accepted at ``start``, from its catalogue limit."""
    try:
        item = platform.catalog.item(item_code)
    except Exception:  # an item unknown to the catalogue has no limit
        return None
    limit = item.committed_limit or item.statutory_limit
    if limit is None or limit.value is None:
        return None
    due = platform.calendar.due_date(start, limit.value, limit.unit)
    if isinstance(due, dt.datetime):
        return due.astimezone(dt.UTC)
    return None


def on_task_opened(session: Session, platform, instance: ProcessInstance, row: HumanTask) -> None:
    """Hook ``task_opened``: open or resume the item handling of a review task, set the task's due time."""
    row.due_at = _due_on_opening(session, platform, instance, row)


def _due_on_opening(session: Session, platform, instance: ProcessInstance,
                    row: HumanTask) -> dt.datetime | None:
    if row.audience == SUPERVISOR:
        return supervision.on_task_opened(session, instance, row, _open_handling(session, instance.id,
                                                                                 row.item_code or ""))
    if not row.item_code or row.lane_role in ("window", "applicant") or instance.stage_key == VERIFICATION_STAGE:
        return None  # a commitment's verification works on the handling approved at acceptance
    now = platform.now()
    handling = _open_handling(session, instance.id, row.item_code)
    if handling is None:
        handling = ItemHandling(project_id=instance.project_id, instance_id=instance.id,
                                project_code=instance.project.code, item_code=row.item_code,
                                engineering_code=instance.engineering_code,
                                unit_id=row.unit_id, state=ACCEPTED_BY_DEPARTMENT, accepted_at=now)
        itemclock.start(session, platform, handling, now)
        session.add(handling)
        itemclock.remember_open(session, handling)
        _event(session, platform, handling, ACCEPTED_BY_DEPARTMENT)
    elif handling.state == CORRECTION_STARTED:
        legacy_since = None if handling.paused_at else session.scalar(select(ItemHandlingEvent.at).where(
            ItemHandlingEvent.handling_id == handling.id,
            ItemHandlingEvent.state == CORRECTION_STARTED).order_by(ItemHandlingEvent.id.desc()))
        restart = itemclock.restarts_on_correction(platform, handling.item_code)
        days, _ = itemclock.resume(session, platform, handling, now, restart=restart, since=legacy_since)
        _event(session, platform, handling, CORRECTION_ENDED,
               opinion=f"补正用时{days}日不计入办理时限" + ("；办理时限重新计算" if restart else ""))
        _event(session, platform, handling, ACCEPTED_BY_DEPARTMENT)
    row.handling = handling
    return handling.due_at


def on_task_completed(session: Session, platform, instance: ProcessInstance, workflow, row: HumanTask,
                      data: dict[str, Any], actor: User | None) -> None:
    """Hook ``task_completed``: record the review's decision on its item handling."""
    if not row.item_code or row.lane_role in ("window", "applicant") or row.audience == SUPERVISOR:
        return
    handling = _open_handling(session, instance.id, row.item_code)
    if handling is not None and handling.id == row.handling_id:
        set_committed_value(row, "handling", handling)  # the answer's light reads it: no second load
    state = OUTCOME_STATE.get(str(data.get("outcome")))
    if handling is None or state is None:
        return
    if state == APPROVED and gaps.is_tolerated(session, instance.id, row.item_code):
        state = gaps.APPROVED_WITH_GAPS  # 容缺通过: the result waits for the missing material
    if handling.pause_kind == itemclock.PAUSE_SPECIAL:
        raise Conflict(f"a special procedure of item {handling.item_code} is running: end it first "
                       f"（特别程序尚未结束，请先结束特别程序）")
    _event(session, platform, handling, state, actor, str(data.get("opinion", ""))[:2000])
    if state == CORRECTION_STARTED:
        itemclock.pause(handling, itemclock.PAUSE_CORRECTION, platform.now())
    if state in FINISHED:
        itemclock.finish(handling, platform, platform.now())

"""Warnings and escalations raised by the scheduler's time-limit job.

Every ``Settings.ESCALATION_INTERVAL_SECONDS`` the scheduler process claims the
running item handlings that reached their warning instant or passed their due
date and have not been told yet, in one short transaction per kind:
``FOR UPDATE SKIP LOCKED`` on PostgreSQL (two schedulers never take the same
row), the database write lock on SQLite; the ``warned_at`` / ``escalated_at``
marks written in that transaction make each one happen once.  For each it
writes an audit record and a notice for the supervisors of the unit.

逾期默认同意: for an item whose catalogue entry sets ``silence_consent``, an
overdue review is completed as approved with a note saying so, in its own
transaction per handling (:func:`deem_consent`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import is_sqlite
from ...models import HumanTask, ItemHandling
from ..trail import audit
from ..workflow import instances
from . import supervision

CONSENT_OPINION = "承办部门逾期未作出决定，依本事项规定视为同意（逾期默认同意）"


def _due(session: Session, condition, limit: int) -> list[ItemHandling]:
    query = (select(ItemHandling).where(ItemHandling.finished_at.is_(None), ItemHandling.paused_at.is_(None),
                                        condition).order_by(ItemHandling.due_at).limit(limit))
    if not is_sqlite(session):
        query = query.with_for_update(skip_locked=True)
    return list(session.scalars(query))


def raise_warnings(session: Session, platform, limit: int = 200) -> list[int]:
    """Mark and notify the handlings that turned yellow; return their ids."""
    now = platform.now()
    rows = _due(session, ItemHandling.warned_at.is_(None) & (ItemHandling.warn_at <= now)
                & (ItemHandling.due_at >= now), limit)
    for handling in rows:
        handling.warned_at = now
        due = handling.due_at.astimezone(dt.UTC).isoformat()
        audit.record(session, platform, "time_limit_warning", project_code=handling.project_code,
                     detail={"handling": handling.id, "item": handling.item_code, "due_at": due})
        supervision.notify(session, platform, handling, "warning",
                           f"事项 {handling.item_code} 已用去办理时限的大部分，将于 {due} 到期（黄灯预警）")
    return [h.id for h in rows]


def raise_overdue(session: Session, platform, limit: int = 200) -> list[int]:
    """Mark and escalate the handlings past their due date; return their ids."""
    now = platform.now()
    rows = _due(session, ItemHandling.escalated_at.is_(None) & (ItemHandling.due_at < now), limit)
    for handling in rows:
        handling.escalated_at = now
        handling.warned_at = handling.warned_at or now
        due = handling.due_at.astimezone(dt.UTC).isoformat()
        consent = silence_consent(platform, handling.item_code)
        audit.record(session, platform, "time_limit_overdue", project_code=handling.project_code,
                     detail={"handling": handling.id, "item": handling.item_code, "due_at": due,
                             "silence_consent": consent})
        supervision.notify(session, platform, handling, "overdue",
                           f"事项 {handling.item_code} 已超过办理时限（{due} 到期），请督办（红灯）"
                           + ("；本事项逾期视为同意" if consent else ""))
    return [h.id for h in rows]


def silence_consent(platform, item_code: str) -> bool:
    """Whether silence counts as consent (逾期默认同意) for this item (catalogue flag, default off)."""
    try:
        return bool(platform.catalog.item(item_code).silence_consent)
    except Exception:  # noqa: BLE001 - unknown items never consent
        return False


def deem_consent(session: Session, platform, handling_id: int) -> bool:
    """Complete an overdue review as approved because silence counts as consent; False if not applicable."""
    handling = session.get(ItemHandling, handling_id)
    if handling is None or not silence_consent(platform, handling.item_code):
        return False
    with instances.running(session, platform, handling.instance_id) as (instance, workflow):
        session.refresh(handling)
        if handling.finished_at is not None or handling.paused_at is not None:
            return False
        row = session.scalar(select(HumanTask).where(
            HumanTask.handling_id == handling.id, HumanTask.status == "open",
            HumanTask.audience.is_(None)).order_by(HumanTask.id))
        if row is None:
            return False
        answer = {"outcome": "approve", "opinion": CONSENT_OPINION,  # the result states a number and a date
                  "result_number": f"逾期默认同意-{handling.id}", "decision_date": platform.now().date().isoformat()}
        if row.form:
            platform.forms.validate(row.form, answer)
        platform.runtime.complete(workflow, row.task_id, answer)
        row.status, row.outcome, row.completed_at = "completed", "approve", platform.now()
        platform.hooks.emit("task_completed", session, platform, instance, workflow, row, answer, None)
        audit.record(session, platform, "deemed_consent", instance=instance,
                     detail={"handling": handling.id, "item": handling.item_code, "task": row.spec_name})
    return True

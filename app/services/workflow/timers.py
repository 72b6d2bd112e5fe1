"""Claiming instances whose timers are due, so each timer fires once.

On PostgreSQL due rows are claimed with ``FOR UPDATE SKIP LOCKED``: two
schedulers never pick the same row.  Each claim also writes an owner and an
expiry, so a scheduler that dies after claiming loses its claims when they
expire and another scheduler takes them over (this is also the mechanism on
SQLite, where the write transaction itself serializes the claimers).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from ...db import is_sqlite
from ...models import ProcessInstance


def relaxed_commit(session: Session) -> None:
    """Let this transaction commit without waiting for its WAL to reach the disk (PostgreSQL).

    For claims only: a claim lost in a crash leaves the row unclaimed, and some scheduler
    claims it again; firing a timer stays a durable commit.  ``SET LOCAL`` ends with the
    transaction (PgBouncer's transaction pooling keeps no trace of it).
    """
    if not is_sqlite(session):
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))


def claim_due(session: Session, owner: str, now: dt.datetime, claim_seconds: int,
              limit: int) -> list[int]:
    """Claim up to ``limit`` running instances with a due timer; return their ids.

    One statement: ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED)
    RETURNING id`` (the row locks only on PostgreSQL).
    """
    due = (select(ProcessInstance.id)
           .where(ProcessInstance.status == "running", ProcessInstance.next_timer_at <= now,
                  or_(ProcessInstance.timer_claim_expires.is_(None),
                      ProcessInstance.timer_claim_expires < now))
           .order_by(ProcessInstance.next_timer_at).limit(limit))
    if not is_sqlite(session):
        due = due.with_for_update(skip_locked=True)
    table = ProcessInstance.__table__
    claim = (table.update().where(table.c.id.in_(due.scalar_subquery()))
             .values(timer_owner=owner, timer_claim_expires=now + dt.timedelta(seconds=claim_seconds))
             .returning(table.c.id))
    return list(session.scalars(claim))


def release(session: Session, instance_id: int, owner: str) -> None:
    """Drop a claim after the timers were fired (or failed)."""
    session.execute(ProcessInstance.__table__.update()
                    .where(ProcessInstance.id == instance_id, ProcessInstance.timer_owner == owner)
                    .values(timer_owner=None, timer_claim_expires=None))

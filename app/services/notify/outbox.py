"""Delivering the outbox: claim due messages, send each outside any transaction, record the outcome.

A claim (``status = 'sending'``, an owner and an expiry, taken with ``FOR UPDATE
SKIP LOCKED`` on PostgreSQL and under the write lock on SQLite) keeps two
schedulers from sending the same message; a sent message is never picked
again.  A failure is retried after ``NOTIFY_RETRY_SECONDS``, doubled each
time, until ``NOTIFY_MAX_ATTEMPTS``; then the message is marked ``failed``.
A claim left by a crashed scheduler expires and the message is tried again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ...db import is_sqlite
from ...models import OutboxMessage


@dataclass(frozen=True)
class Claimed:
    """What a sender needs of one claimed message (read inside the claim's transaction)."""

    id: int
    channel: str
    address: str
    subject: str
    body: str


def claim_due(session: Session, owner: str, now: dt.datetime, claim_seconds: int, limit: int) -> list[Claimed]:
    """Claim the messages due now (pending, or claimed by someone whose claim expired)."""
    query = (select(OutboxMessage).where(or_(
        and_(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == "sending", OutboxMessage.claim_expires < now)))
        .order_by(OutboxMessage.id).limit(limit))
    if not is_sqlite(session):
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.claim_owner = "sending", owner
        row.claim_expires = now + dt.timedelta(seconds=claim_seconds)
    return [Claimed(r.id, r.channel, r.address, r.subject, r.body) for r in rows]


def _ours(session: Session, message_id: int, owner: str) -> OutboxMessage | None:
    query = select(OutboxMessage).where(OutboxMessage.id == message_id)
    if not is_sqlite(session):
        query = query.with_for_update()
    row = session.scalar(query)
    return row if row is not None and row.status == "sending" and row.claim_owner == owner else None


def mark_sent(session: Session, message_id: int, owner: str, now: dt.datetime) -> bool:
    """Record a delivery (if the claim is still ours)."""
    row = _ours(session, message_id, owner)
    if row is None:
        return False
    row.status, row.sent_at, row.attempts = "sent", now, row.attempts + 1
    row.claim_owner = row.claim_expires = None
    return True


def mark_failed(session: Session, settings, message_id: int, owner: str, now: dt.datetime, error: str) -> str:
    """Record a failed attempt: try again later, or give up after the last attempt; return the status."""
    row = _ours(session, message_id, owner)
    if row is None:
        return "lost"
    row.attempts += 1
    row.last_error = error[:2000]
    row.claim_owner = row.claim_expires = None
    if row.attempts >= settings.NOTIFY_MAX_ATTEMPTS:
        row.status = "failed"
    else:
        row.status = "pending"
        row.next_attempt_at = now + dt.timedelta(seconds=settings.NOTIFY_RETRY_SECONDS * 2 ** (row.attempts - 1))
    return row.status


def message_id(settings, outbox_id: int) -> str:
    """A stable Message-ID per outbox row, so a receiver can tell a repeat from a new message."""
    host = settings.SITE_URL.split("//", 1)[-1].split("/", 1)[0].split(":", 1)[0] or "localhost"
    return f"<outbox-{outbox_id}@{host}>"

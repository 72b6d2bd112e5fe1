"""Browser sessions kept on the server (id, user, created, last seen, revoked).

The cookie carries a random session token and nothing about the account; the table keeps its
SHA-256.  A session ends at logout, at a password change, when the account is deactivated, after
``SESSION_IDLE_MINUTES`` without a request or ``SESSION_MAX_HOURS`` after login.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...models import User, UserSession

#: ``last_seen_at`` is written at most this often per session (not on every request).
TOUCH_SECONDS = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user: User, now: dt.datetime, address: str = "", user_agent: str = "") -> str:
    """Record a new session for ``user``; the returned token goes into the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_digest(token), user_id=user.id, created_at=now, last_seen_at=now,
                            address=(address or "")[:64], user_agent=(user_agent or "")[:200]))
    return token


def find(session: Session, settings, token: str | None, now: dt.datetime) -> UserSession | None:
    """The live session of ``token``: not revoked, not idle or old past the limits, its user active."""
    if not isinstance(token, str) or not token or len(token) > 100:
        return None
    row = session.scalar(select(UserSession).where(UserSession.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    if now - row.last_seen_at > dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES):
        return None
    if now - row.created_at > dt.timedelta(hours=settings.SESSION_MAX_HOURS):
        return None
    return row


def needs_touch(row: UserSession, now: dt.datetime) -> bool:
    """Whether ``last_seen_at`` is old enough to be written again."""
    return now - row.last_seen_at > dt.timedelta(seconds=TOUCH_SECONDS)


def touch(session: Session, session_id: int, now: dt.datetime) -> None:
    """Note that the session was just used."""
    session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))


def revoke(session: Session, token: str | None, now: dt.datetime) -> None:
    """End the session of ``token`` (logout); unknown tokens are ignored."""
    if isinstance(token, str) and token:
        session.execute(update(UserSession).where(UserSession.token_hash == _digest(token),
                                                  UserSession.revoked_at.is_(None)).values(revoked_at=now))


def revoke_all(session: Session, user_id: int, now: dt.datetime) -> int:
    """End every session of a user (password change, deactivation); the number ended."""
    result = session.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                       UserSession.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount or 0


def sessions_of(session: Session, user: User, settings, now: dt.datetime) -> list[UserSession]:
    """The user's live sessions, newest first."""
    rows = session.scalars(select(UserSession).where(UserSession.user_id == user.id,
                                                     UserSession.revoked_at.is_(None))
                           .order_by(UserSession.id.desc())).all()
    return [r for r in rows if find_row_alive(r, settings, now)]


def find_row_alive(row: UserSession, settings, now: dt.datetime) -> bool:
    """Whether a session row is still within its limits."""
    return (row.revoked_at is None
            and now - row.last_seen_at <= dt.timedelta(minutes=settings.SESSION_IDLE_MINUTES)
            and now - row.created_at <= dt.timedelta(hours=settings.SESSION_MAX_HOURS))


def prune(session: Session, now: dt.datetime, keep_days: int = 30) -> None:
    """Forget sessions that ended long ago (the table stays small)."""
    from sqlalchemy import delete, or_
    cutoff = now - dt.timedelta(days=keep_days)
    session.execute(delete(UserSession).where(or_(UserSession.revoked_at < cutoff,
                                                  UserSession.last_seen_at < cutoff)))


def end_own(session: Session, user: User, session_id: int, now: dt.datetime) -> bool:
    """End one of the user's own sessions; False when it is not theirs (or unknown)."""
    row = session.get(UserSession, session_id)
    if row is None or row.user_id != user.id:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
    return True

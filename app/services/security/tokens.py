"""API tokens as their owner sees them: listed, revoked one by one, all ended at a password change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...errors import NotFound
from ...models import ApiToken, User
from ..cluster import epochs


def tokens_of(session: Session, user: User, now: dt.datetime) -> list[ApiToken]:
    """The user's tokens that still work, newest first."""
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                       ApiToken.expires_at > now).order_by(ApiToken.id.desc())))


def revoke(session: Session, user: User, token_id: int, now: dt.datetime) -> ApiToken:
    """Revoke one of the user's own tokens; another's (or an unknown id) is 404."""
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"token {token_id} does not exist")
    if row.revoked_at is None:
        row.revoked_at = now
        epochs.bump(session, epochs.TOKENS, now)  # every node drops its verified tokens
    return row


def revoke_all(session: Session, user_id: int, now: dt.datetime) -> int:
    """Revoke every token of a user; the number revoked."""
    result = session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                             .values(revoked_at=now))
    if result.rowcount:
        epochs.bump(session, epochs.TOKENS, now)  # every node drops its verified tokens
    return result.rowcount or 0


def token_view(row: ApiToken, current_id: int | None = None) -> dict:
    """A token as its owner sees it (never the token itself)."""
    return {"id": row.id, "created_at": row.created_at.isoformat(), "expires_at": row.expires_at.isoformat(),
            "current": row.id == current_id}

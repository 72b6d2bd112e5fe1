"""Accounts: password hashing (argon2), bearer tokens stored as SHA-256."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Unauthorized
from ...models import ApiToken, User

_HASHERS = {False: PasswordHasher(), True: PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)}
#: A hash to verify against when the user does not exist, so timing does not tell.
_DUMMY = _HASHERS[False].hash("not-a-password")


def hash_password(password: str, fast: bool = False) -> str:
    """An argon2id hash; ``fast`` parameters are for tests and demo seeding only."""
    return _HASHERS[fast].hash(password)


def authenticate(session: Session, username: str, password: str) -> User:
    """The active user with these credentials, else ``Unauthorized``."""
    user = session.scalar(select(User).where(User.username == username))
    try:
        _HASHERS[False].verify(user.password_hash if user else _DUMMY, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("wrong username or password") from None
    if user is None or not user.active:
        raise Unauthorized("wrong username or password")
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, now: dt.datetime, ttl_hours: int) -> str:
    """A new bearer token for the user; only its digest is stored."""
    token = secrets.token_urlsafe(32)
    session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=now,
                         expires_at=now + dt.timedelta(hours=ttl_hours)))
    return token


def token_for(session: Session, token: str, now: dt.datetime) -> ApiToken:
    """The row of a bearer token that is valid, unexpired and unrevoked, with its active user."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None or row.expires_at <= now or row.revoked_at is not None or not row.user.active:
        raise Unauthorized("the token is invalid, expired or revoked")
    return row


def user_for_token(session: Session, token: str, now: dt.datetime) -> User:
    """The user a bearer token belongs to, if it is valid, unexpired and unrevoked."""
    return token_for(session, token, now).user


def user_view(user: User) -> dict:
    """An account as the users list shows it."""
    return {"id": user.id, "username": user.username, "display_name": user.display_name,
            "role": user.role, "lanes": user.lanes,
            "unit": {"code": user.unit.code, "name": user.unit.name} if user.unit else None,
            "division": user.unit.division_code if user.unit else None,
            "enterprise": {"id": user.enterprise.id, "name": user.enterprise.name}
            if user.enterprise else None}

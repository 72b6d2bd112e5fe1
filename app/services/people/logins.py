"""Login throttling: failed attempts per user name and address, kept in the database.

Kept in the database (table ``login_failure``) rather than in process memory so
that every gunicorn worker and every web node sees the same count.  After
``LOGIN_MAX_FAILURES`` failures within ``LOGIN_WINDOW_MINUTES`` for one
(user name, address) pair, further attempts are refused with 429 until the
oldest failure leaves the window; a successful login clears the pair.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ...errors import AppError, Unauthorized
from ...models import LoginFailure, User
from . import accounts


class TooManyAttempts(AppError):
    """Too many failed logins for this user name from this address."""

    status = 429
    code = "too_many_attempts"


def _key(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower()[:80], (address or "?")[:64]


def ensure_allowed(session: Session, settings, username: str, address: str, now: dt.datetime) -> None:
    """Raise ``TooManyAttempts`` while the pair is locked out."""
    name, addr = _key(username, address)
    since = now - dt.timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    failures = session.scalar(select(func.count(LoginFailure.id)).where(
        LoginFailure.username == name, LoginFailure.address == addr, LoginFailure.at > since))
    if failures >= settings.LOGIN_MAX_FAILURES:
        raise TooManyAttempts(f"登录失败次数过多，请{settings.LOGIN_WINDOW_MINUTES}分钟后再试")


def login(session: Session, settings, username: str, password: str, address: str,
          now: dt.datetime) -> User | None:
    """The user, or None after recording a failure (the caller commits it); 429 while locked out."""
    ensure_allowed(session, settings, username, address, now)
    name, addr = _key(username, address)
    try:
        user = accounts.authenticate(session, username, password)
    except Unauthorized:
        session.add(LoginFailure(username=name, address=addr, at=now))
        session.execute(delete(LoginFailure).where(
            LoginFailure.at < now - dt.timedelta(days=1)))  # keep the table small
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.address == addr))
    return user

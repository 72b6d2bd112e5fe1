"""Throttling: logins back off exponentially, registrations are counted per address.

Failed logins are kept in ``login_failure`` (every worker and node sees the same count).  After
``LOGIN_MAX_FAILURES`` failures of one (user name, address) pair within ``LOGIN_WINDOW_MINUTES``,
the next attempt must wait ``LOGIN_BACKOFF_SECONDS``, doubling with every further failure up to
``LOGIN_BACKOFF_MAX_SECONDS``; a right password after the wait logs in and clears the pair.
Guessing from many addresses meets the account's own cap: ``LOGIN_ACCOUNT_MAX_FAILURES`` failures
across all addresses start the same backoff for the account.  Nobody is locked out for good: the
real user waits minutes at most, and an attacker gets a few guesses an hour.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ...errors import AppError, Unauthorized
from ...models import LoginFailure, RateEvent, User
from ..people import accounts


class TooManyAttempts(AppError):
    """Too many attempts: wait ``retry_after`` seconds."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def _key(username: str, address: str) -> tuple[str, str]:
    return username.strip().lower()[:80], (address or "?")[:64]


def _backoff(settings, failures: int, free: int) -> dt.timedelta:
    steps = failures - free
    seconds = min(settings.LOGIN_BACKOFF_SECONDS * 2 ** min(steps, 30), settings.LOGIN_BACKOFF_MAX_SECONDS)
    return dt.timedelta(seconds=seconds)


def _wait(session: Session, settings, now: dt.datetime, free: int, *where) -> dt.timedelta | None:
    since = now - dt.timedelta(minutes=settings.LOGIN_WINDOW_MINUTES)
    count, last = session.execute(select(func.count(LoginFailure.id), func.max(LoginFailure.at))
                                  .where(LoginFailure.at > since, *where)).one()
    if not count or count < free:
        return None
    if last.tzinfo is None:  # SQLite's aggregate bypasses the column type
        last = last.replace(tzinfo=dt.UTC)
    remaining = last + _backoff(settings, count, free) - now
    return remaining if remaining > dt.timedelta(0) else None


def ensure_allowed(session: Session, settings, username: str, address: str, now: dt.datetime) -> None:
    """Raise ``TooManyAttempts`` while the pair or the account must wait."""
    name, addr = _key(username, address)
    waits = [w for w in (
        _wait(session, settings, now, settings.LOGIN_MAX_FAILURES,
              LoginFailure.username == name, LoginFailure.address == addr),
        _wait(session, settings, now, settings.LOGIN_ACCOUNT_MAX_FAILURES, LoginFailure.username == name),
    ) if w is not None]
    if waits:
        seconds = math.ceil(max(waits).total_seconds())
        raise TooManyAttempts(f"登录失败次数过多，请{seconds}秒后再试", seconds)


def login(session: Session, settings, username: str, password: str, address: str,
          now: dt.datetime) -> User | None:
    """The user, or None after recording a failure (the caller commits it); 429 while it must wait."""
    ensure_allowed(session, settings, username, address, now)
    name, addr = _key(username, address)
    try:
        user = accounts.authenticate(session, username, password)
    except Unauthorized:
        session.add(LoginFailure(username=name, address=addr, at=now))
        session.execute(delete(LoginFailure).where(LoginFailure.at < now - dt.timedelta(days=1)))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == name, LoginFailure.address == addr))
    return user


def count_attempt(session: Session, kind: str, key: str, now: dt.datetime, limit: int,
                  window: dt.timedelta) -> None:
    """Count one attempt of ``kind`` from ``key``; 429 once ``limit`` attempts fall in ``window``."""
    key = (key or "?")[:100]
    since = now - window
    count = session.scalar(select(func.count(RateEvent.id)).where(RateEvent.kind == kind, RateEvent.key == key,
                                                                  RateEvent.at > since))
    if count >= limit:
        first = session.scalar(select(func.min(RateEvent.at)).where(RateEvent.kind == kind, RateEvent.key == key,
                                                                    RateEvent.at > since))
        if first.tzinfo is None:
            first = first.replace(tzinfo=dt.UTC)
        seconds = max(1, math.ceil((first + window - now).total_seconds()))
        raise TooManyAttempts(f"操作过于频繁，请{math.ceil(seconds / 60)}分钟后再试", seconds)
    session.add(RateEvent(kind=kind, key=key, at=now))
    session.execute(delete(RateEvent).where(RateEvent.kind == kind, RateEvent.at < now - dt.timedelta(days=1)))

"""Cache epochs: one counter per cache, bumped in the transaction that changes what it caches.

A node keeps a cache (verified tokens, routes, the holiday calendar) together
with the epoch it was filled at; ``current`` reads the epoch at most once every
``check_seconds`` per process and database, so a change committed on any node
is seen by every other within that bound (``HN_CACHE_CHECK_SECONDS``, 1 s by
default), at the cost of one primary-key read per second per process.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...db import url_key
from ...models import CacheEpoch

CALENDAR, ROUTING, TOKENS = "calendar", "routing", "tokens"
CHECK_SECONDS = 1.0

_SEEN: dict[tuple[str, str], tuple[float, int]] = {}
_LOCK = threading.Lock()


def _key(session: Session, name: str) -> tuple[str, str]:
    return (url_key(session), name)


def bump(session: Session, name: str, now=None) -> None:
    """Make every node drop its cached ``name`` (in the caller's transaction: seen once it commits)."""
    changed = session.execute(update(CacheEpoch).where(CacheEpoch.name == name)
                              .values(epoch=CacheEpoch.epoch + 1, changed_at=now)).rowcount
    if not changed:
        session.add(CacheEpoch(name=name, epoch=1, changed_at=now))
        session.flush()
    with _LOCK:
        _SEEN.pop(_key(session, name), None)  # this node: at once


def read(session: Session, name: str) -> int:
    """The epoch in the database now."""
    with session.no_autoflush:
        return session.scalar(select(CacheEpoch.epoch).where(CacheEpoch.name == name)) or 0


def current(session: Session, name: str, check_seconds: float = CHECK_SECONDS) -> int:
    """The epoch of ``name`` as this node last read it, read again when older than ``check_seconds``."""
    key = _key(session, name)
    now = time.monotonic()
    seen = _SEEN.get(key)
    if seen is not None and now - seen[0] < check_seconds:
        return seen[1]
    epoch = read(session, name)
    with _LOCK:
        _SEEN[key] = (now, epoch)
    return epoch


def current_of(sessions, name: str, check_seconds: float = CHECK_SECONDS) -> int:
    """``current`` outside a transaction: a session of ``sessions`` is opened only to read the epoch."""
    key = (url_key(sessions.kw["bind"]), name)
    seen = _SEEN.get(key)
    if seen is not None and time.monotonic() - seen[0] < check_seconds:
        return seen[1]
    with sessions() as session:
        return current(session, name, check_seconds)


def forget() -> None:
    """Read every epoch again on next use (tests)."""
    with _LOCK:
        _SEEN.clear()

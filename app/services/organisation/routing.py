"""双集中 routing: a lane role and a project's division resolve to one unit.

Lookups are cached per database (routing changes are rare administrative acts).
A change bumps the ``routing`` cache epoch in its transaction (``invalidate``);
every process of every node drops its routes when it sees the new epoch, read at
most every ``HN_CACHE_CHECK_SECONDS`` (1 s).  ``CACHE_SECONDS`` still bounds an
entry's life.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import url_key
from ...errors import InvalidInput
from ...models import Division, RouteEntry
from ..cluster import epochs

CACHE_SECONDS = 300.0
CHECK_SECONDS = 1.0  # the platform's HN_CACHE_CHECK_SECONDS (set at start-up)
_CACHE: dict[tuple[str, str, str], tuple[float, int, int]] = {}


def invalidate(session: Session | None = None) -> None:
    """Forget every cached route (call after changing the routing table, in its transaction:
    with ``session`` every node forgets too, once it commits)."""
    _CACHE.clear()
    if session is not None:
        epochs.bump(session, epochs.ROUTING)


def resolve(session: Session, role: str, division_code: str) -> int:
    """The unit id handling ``role`` for ``division_code``; a district falls back to its city."""
    key = (url_key(session), role, division_code)
    epoch = epochs.current(session, epochs.ROUTING, CHECK_SECONDS)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] > time.monotonic() and cached[2] == epoch:
        return cached[1]
    unit_id = _lookup(session, role, division_code)
    _CACHE[key] = (time.monotonic() + CACHE_SECONDS, unit_id, epoch)
    return unit_id


def _lookup(session: Session, role: str, division_code: str) -> int:
    code: str | None = division_code
    while code:
        unit_id = session.scalar(select(RouteEntry.unit_id).where(
            RouteEntry.role == role, RouteEntry.division_code == code))
        if unit_id is not None:
            return unit_id
        code = session.scalar(select(Division.parent_code).where(Division.code == code))
    raise InvalidInput(f"no unit handles role {role!r} for division {division_code}")

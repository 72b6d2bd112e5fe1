"""双集中 routing: a lane role and a project's division resolve to one unit.

Lookups are cached per database for ``CACHE_SECONDS`` (routing changes are
rare administrative acts); ``invalidate()`` drops the cache at once in this
process, and other processes see a change within the TTL.
"""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import Division, RouteEntry

CACHE_SECONDS = 30.0
_CACHE: dict[tuple[str, str, str], tuple[float, int]] = {}


def invalidate() -> None:
    """Forget every cached route (call after changing the routing table)."""
    _CACHE.clear()


def resolve(session: Session, role: str, division_code: str) -> int:
    """The unit id handling ``role`` for ``division_code``; a district falls back to its city."""
    key = (str(session.get_bind().url), role, division_code)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    unit_id = _lookup(session, role, division_code)
    _CACHE[key] = (time.monotonic() + CACHE_SECONDS, unit_id)
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

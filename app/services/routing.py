"""双集中 routing: a lane role and a project's division resolve to one unit."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..models import Division, RouteEntry

_CACHE: dict[tuple[str, str, int], int] = {}


def resolve(session: Session, role: str, division_code: str) -> int:
    """The unit id handling ``role`` for ``division_code``; a district falls back to its city."""
    code: str | None = division_code
    while code:
        unit_id = session.scalar(select(RouteEntry.unit_id).where(
            RouteEntry.role == role, RouteEntry.division_code == code))
        if unit_id is not None:
            return unit_id
        code = session.scalar(select(Division.parent_code).where(Division.code == code))
    raise InvalidInput(f"no unit handles role {role!r} for division {division_code}")

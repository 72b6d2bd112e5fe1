"""The lights of item handlings: green, yellow (share of the limit used), red (overdue).

One definition, :func:`engine.timelimits.light`, over two stored thresholds:
``warn_at`` (yellow from there, ``Settings.WARNING_SHARE`` of the limit, default
2/3) and ``due_at`` (red after it), both kept by ``app.services.itemclock``.
:func:`condition` states the same rule in SQL for filters and counts, so the
inbox, the project view, the API and the statistics all agree.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, func, literal, or_, select
from sqlalchemy.orm import Session

from engine.timelimits import GREEN, LIGHTS, NO_LIMIT, RED, YELLOW
from engine.timelimits import light as _light

from ...errors import InvalidInput
from ...models import HumanTask, ItemHandling
from ...models.base import UTCDateTime

__all__ = ["GREEN", "YELLOW", "RED", "NO_LIMIT", "LIGHTS", "light", "task_light", "condition", "counts",
           "parse"]


def light(handling: ItemHandling | None, now: dt.datetime) -> str:
    """The light of a handling now (``none`` for an item without a time limit)."""
    if handling is None:
        return NO_LIMIT
    return _light(handling.due_at, handling.warn_at, now, handling.paused_at, handling.finished_at)


def task_light(row: HumanTask, now: dt.datetime) -> str:
    """The light of the item handling a task works on (``none`` for other tasks)."""
    return light(row.handling if row.handling_id is not None else None, now)


def condition(name: str, now: dt.datetime):
    """A SQL condition on ItemHandling true exactly when :func:`light` gives ``name``."""
    at = func.coalesce(ItemHandling.finished_at, ItemHandling.paused_at, literal(now, UTCDateTime()))
    has_limit = ItemHandling.due_at.is_not(None)
    if name == RED:
        return and_(has_limit, at > ItemHandling.due_at)
    warned = and_(ItemHandling.warn_at.is_not(None), at >= ItemHandling.warn_at)
    if name == YELLOW:
        return and_(has_limit, at <= ItemHandling.due_at, warned)
    if name == GREEN:
        before_warning = or_(ItemHandling.warn_at.is_(None), at < ItemHandling.warn_at)
        return and_(has_limit, at <= ItemHandling.due_at, before_warning)
    if name == NO_LIMIT:
        return ItemHandling.due_at.is_(None)
    raise InvalidInput(f"unknown light {name!r}", {"light": f"one of {', '.join(LIGHTS + (NO_LIMIT,))}"})


def parse(value: str | None) -> str | None:
    """A light named in a request (``?light=``), or 422."""
    if value in (None, ""):
        return None
    if value not in LIGHTS + (NO_LIMIT,):
        raise InvalidInput(f"unknown light {value!r}", {"light": f"one of {', '.join(LIGHTS + (NO_LIMIT,))}"})
    return value


def counts(session: Session, now: dt.datetime) -> dict[str, int]:
    """How many open (unfinished) item handlings show each light now."""
    result = {}
    for name in LIGHTS + (NO_LIMIT,):
        result[name] = session.scalar(select(func.count(ItemHandling.id)).where(
            ItemHandling.finished_at.is_(None), condition(name, now))) or 0
    return result

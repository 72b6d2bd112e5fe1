"""The item clock of an item handling (办件计时): acceptance, pauses, restarts, thresholds.

The arithmetic is :mod:`engine.timelimits`; this module reads a handling's clock
from its row and writes the results back: the limit snapshot taken at
acceptance (a later catalogue change does not move a running clock), the clock
start, the working days paused so far, and the two thresholds the lights and
the scheduler compare with (``warn_at``, ``due_at``).  When a due date moves,
the open task rows of the handling follow it (the inbox sorts by it) and
warning or escalation marks that no longer hold are cleared, so the scheduler
raises them again at the new instants.

``deadline(item_code)`` and ``deadline_warning(item_code)`` in timer
expressions resolve here (:func:`deadline_instant`): against the project's open
handling of that item when there is one (so a paused or extended clock is
honoured), else against the catalogue limit counted from now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine.calendar import LOCAL_TZ, CalendarError
from engine.catalog import Limit
from engine.errors import ScriptError
from engine.timelimits import ItemClock, Thresholds, paused, restarted, thresholds

from ...db import MEMO
from ...errors import Conflict
from ...models import HumanTask, ItemHandling, SpecialProcedure
from ..workflow import scripting

PAUSE_CORRECTION, PAUSE_SPECIAL = "correction", "special"


def item_limit(platform, item_code: str) -> Limit | None:
    """The limit an item is handled against (committed, else statutory); None if it has none."""
    try:
        item = platform.catalog.item(item_code)
    except Exception:  # noqa: BLE001 - an item unknown to the catalogue has no limit
        return None
    for limit in (item.committed_limit, item.statutory_limit):
        if limit.value >= 0 and limit.unit in ("working_days", "calendar_days", "hours", "immediate"):
            return limit
    return None


def restarts_on_correction(platform, item_code: str) -> bool:
    """Whether a correction (补正) restarts this item's clock instead of resuming it."""
    try:
        return platform.catalog.item(item_code).correction_clock == "restart"
    except Exception:  # noqa: BLE001
        return False


def clock_of(handling: ItemHandling) -> ItemClock | None:
    """The clock stored on a handling, or None when it runs without a limit."""
    if handling.limit_unit is None or handling.clock_started_at is None or handling.limit_value is None:
        return None
    return ItemClock(handling.clock_started_at, handling.limit_value, handling.limit_unit,
                     handling.paused_working_days or 0, handling.paused_seconds or 0)


def start(session: Session, platform, handling: ItemHandling, at: dt.datetime) -> None:
    """Start the clock at acceptance (受理) with the item's catalogue limit."""
    limit = item_limit(platform, handling.item_code)
    handling.paused_at = handling.pause_kind = None
    if limit is None:
        handling.limit_value = handling.limit_unit = handling.due_at = handling.warn_at = None
        return
    handling.limit_value, handling.limit_unit = limit.value, limit.unit
    _apply(session, platform, handling, ItemClock(at, limit.value, limit.unit), at)


def pause(handling: ItemHandling, kind: str, at: dt.datetime) -> None:
    """Stop the clock (补正 or 特别程序); 409 when it is already stopped."""
    if handling.paused_at is not None:
        raise Conflict(f"the clock of item {handling.item_code} is already stopped ({handling.pause_kind})")
    handling.paused_at, handling.pause_kind = at, kind


def resume(session: Session, platform, handling: ItemHandling, at: dt.datetime,
           restart: bool = False, since: dt.datetime | None = None) -> tuple[int, int]:
    """Run the clock again: extend by the pause, or restart it; return the (days, seconds) paused."""
    paused_at = handling.paused_at or since or at
    handling.paused_at = handling.pause_kind = None
    clock = clock_of(handling)
    if clock is None:
        return 0, 0
    moved = paused(platform.calendar, clock, paused_at, max(at, paused_at))
    amount = (moved.paused_days - clock.paused_days, moved.paused_seconds - clock.paused_seconds)
    _apply(session, platform, handling, restarted(clock, at) if restart else moved, at)
    return amount


def projected(platform, handling: ItemHandling, at: dt.datetime, at_least_days: int = 0) -> Thresholds | None:
    """The thresholds the clock would have if it ran again at ``at`` (its present ones if running)."""
    clock = clock_of(handling)
    if clock is None:
        return None
    if handling.paused_at is not None:
        resume_at = max(at, handling.paused_at)
        if handling.pause_kind == PAUSE_CORRECTION and restarts_on_correction(platform, handling.item_code):
            clock = restarted(clock, resume_at)
        else:
            moved = paused(platform.calendar, clock, handling.paused_at, resume_at)
            extra = max(0, at_least_days - (moved.paused_days - clock.paused_days))
            clock = ItemClock(moved.started_at, moved.value, moved.unit, moved.paused_days + extra,
                              moved.paused_seconds)
    return thresholds(platform.calendar, clock, platform.settings.WARNING_SHARE)


def _apply(session: Session, platform, handling: ItemHandling, clock: ItemClock, now: dt.datetime) -> None:
    found = thresholds(platform.calendar, clock, platform.settings.WARNING_SHARE)
    handling.clock_started_at = clock.started_at
    handling.paused_working_days, handling.paused_seconds = clock.paused_days, clock.paused_seconds
    handling.due_at, handling.warn_at = found.due_at, found.warn_at
    if handling.warned_at is not None and (found.warn_at is None or found.warn_at > now):
        handling.warned_at = None
    if handling.escalated_at is not None and found.due_at >= now:
        handling.escalated_at = None
    if handling.id is not None:
        session.execute(update(HumanTask).where(HumanTask.handling_id == handling.id,
                                                HumanTask.status == "open")
                        .values(due_at=found.due_at).execution_options(synchronize_session="fetch"))


def finish(handling: ItemHandling, platform, at: dt.datetime) -> None:
    """Close a handling at ``at`` and keep its working days (acceptance to decision, less the paused ones)."""
    handling.finished_at = at
    handling.working_days = working_days(platform.calendar, handling.accepted_at, at, handling.paused_working_days)


def working_days(calendar, accepted_at: dt.datetime | None, finished_at: dt.datetime,
                 paused_days: int | None) -> int | None:
    """The working days a finished handling took; None when the calendar does not cover its dates."""
    if accepted_at is None:
        return None
    try:
        return max(0, calendar.working_days_between(accepted_at, finished_at) - (paused_days or 0))
    except CalendarError:
        return None


def recount_missing(session: Session, platform) -> int:
    """Count the working days of the finished handlings that have none yet; how many were counted."""
    return recount(session, platform, missing_only=True)


def recount(session: Session, platform, first: dt.date | None = None, last: dt.date | None = None,
            missing_only: bool = False, calendar=None) -> int:
    """Count again the working days of the finished handlings whose span meets ``first``..``last``.

    Called when the calendar of those days changes, and by ``flask
    recount-working-days`` for every finished handling (or those still without a
    count); returns how many rows changed.  ``calendar`` counts on a calendar
    other than the platform's (an edit not yet committed).
    """
    conditions = [ItemHandling.finished_at.is_not(None)]
    if missing_only:
        conditions.append(ItemHandling.working_days.is_(None))
    if first is not None:
        conditions.append(ItemHandling.finished_at >= dt.datetime.combine(first, dt.time.min, LOCAL_TZ))
    if last is not None:
        conditions.append(ItemHandling.accepted_at < dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min,
                                                                         LOCAL_TZ))
    calendar = calendar or platform.calendar  # ``calendar``: one about to be committed
    calendar = calendar.current() if hasattr(type(calendar), "current") else calendar
    changed = []
    rows = session.execute(select(ItemHandling.id, ItemHandling.accepted_at, ItemHandling.finished_at,
                                  ItemHandling.paused_working_days, ItemHandling.working_days).where(*conditions))
    for handling_id, accepted, finished, paused_days, kept in rows:
        found = working_days(calendar, accepted, finished, paused_days)
        if found != kept:
            changed.append({"id": handling_id, "working_days": found})
    for begin in range(0, len(changed), 1000):  # bulk UPDATE by primary key
        session.execute(update(ItemHandling), changed[begin:begin + 1000])
    return len(changed)


# -- deadline(...) in timer expressions --------------------------------------------------------


#: The two reads of ``open_handling``, built once (building a statement costs more than running
#: a cached one's compiled form).
_OPEN_OF_INSTANCE = select(ItemHandling).where(
    ItemHandling.instance_id == bindparam("instance_id"), ItemHandling.finished_at.is_(None)) \
    .order_by(ItemHandling.id.desc())
_OPEN_OF_PROJECT = select(ItemHandling).where(
    ItemHandling.project_code == bindparam("project_code"), ItemHandling.finished_at.is_(None)) \
    .order_by(ItemHandling.id.desc())


def open_handling(session: Session, item_code: str, *, instance_id: int | None = None,
                  project_code: str | None = None) -> ItemHandling | None:
    """The newest unfinished handling of an item in one instance (or, by ``project_code``, in the project).

    A completion asks this for several items of one instance (the task's decision, the
    ``deadline(...)`` timers, each task it opens): the first question of a transaction reads all
    the instance's unfinished handlings in one statement and the others are answered from them
    (``remember_open`` adds a handling the transaction opens).  Handlings of an instance are
    opened only under its lock, which the asking transaction holds, so the list stays complete;
    a handling finished meanwhile is passed over, as the database would.  By project (the
    ``deadline(...)`` timers: a stage's acceptance asks for each of its items) it is the same, with
    all the project's unfinished handlings read at the first question; one that another instance
    of the project opens meanwhile is seen by the next transaction.
    """
    if instance_id is not None:
        by_item = _unfinished(session, ("open_handlings", instance_id), ("opened_handlings", instance_id),
                              _OPEN_OF_INSTANCE, {"instance_id": instance_id})
    else:
        by_item = _unfinished(session, ("project_open_handlings", project_code), ("opened_in_project", project_code),
                              _OPEN_OF_PROJECT, {"project_code": project_code})
    return next((h for h in by_item.get(item_code, ()) if h.finished_at is None), None)


def _unfinished(session: Session, key: tuple, opened_key: tuple, statement, params: dict) -> dict[str, list]:
    """The transaction's unfinished handlings of an instance or a project by item, newest first (read once)."""
    memo = session.info.setdefault(MEMO, {})
    by_item = memo.get(key)
    if by_item is None:
        by_item = {}
        with session.no_autoflush:  # what this transaction changed is in memory or in the memo
            rows = session.scalars(statement, params).all()
        for row in rows:  # newest first
            by_item.setdefault(row.item_code, []).append(row)
        for opened in memo.pop(opened_key, ()):  # opened here, maybe not flushed
            rows = by_item.setdefault(opened.item_code, [])
            if opened not in rows:
                rows.insert(0, opened)
        memo[key] = by_item
    return by_item


def remember_open(session: Session, handling: ItemHandling) -> None:
    """A handling just opened is the newest unfinished one of its item, in its instance and its project.

    Every path that opens a handling (``finished_at`` unset) tells this, so the transaction's lists
    of unfinished handlings stay complete (a handling opened finished, as a commitment's is, need not).
    """
    memo = session.info.setdefault(MEMO, {})
    for key, opened_key in ((("open_handlings", handling.instance_id), ("opened_handlings", handling.instance_id)),
                            (("project_open_handlings", handling.project_code),
                             ("opened_in_project", handling.project_code))):
        by_item = memo.get(key)
        if by_item is not None:
            by_item.setdefault(handling.item_code, []).insert(0, handling)
        else:  # joined to the list when it is read
            memo.setdefault(opened_key, []).append(handling)


def _expected_days(session: Session, handling: ItemHandling) -> int:
    if handling.pause_kind != PAUSE_SPECIAL or handling.id is None:
        return 0
    return session.scalar(select(SpecialProcedure.expected_days).where(
        SpecialProcedure.handling_id == handling.id, SpecialProcedure.ended_at.is_(None))) or 0


def _found(session: Session, platform, project_code: str, item_code: str, now: dt.datetime):
    handling = open_handling(session, item_code, project_code=project_code)
    if handling is None:
        return None
    return projected(platform, handling, now, _expected_days(session, handling))


def deadline_instant(platform, project_code: str | None, item_code: str, warning: bool = False) -> dt.datetime:
    """The instant ``deadline(item)`` (or ``deadline_warning(item)``) stands for, in UTC."""
    now = platform.now()
    found = None
    if project_code:
        session = scripting.current_session()
        if session is not None:
            with session.no_autoflush:
                found = _found(session, platform, project_code, item_code, now)
        else:
            with platform.sessions() as own:
                found = _found(own, platform, project_code, item_code, now)
    if found is None:
        limit = item_limit(platform, item_code)
        if limit is None:
            platform.catalog.item(item_code)  # raises for an unknown item
            raise ScriptError(f"item {item_code} has no time limit: deadline() cannot be computed")
        found = thresholds(platform.calendar, ItemClock(now, limit.value, limit.unit),
                           platform.settings.WARNING_SHARE)
    if warning and found.warn_at is not None:
        return found.warn_at
    return found.due_at


def deadline_helpers(platform) -> dict[str, Callable]:
    """``deadline(item)`` / ``deadline_warning(item)`` for scripts: the item clock of the task's project.

    Bound to the task data (its ``project.code``), they give the due (or
    yellow-light) instant of the project's open handling of the item, or of
    the item's catalogue limit counted from now (docs/time-limits.md).
    """
    def bind(warning: bool) -> Callable[[dict], Callable[[str], str]]:
        def factory(context: dict) -> Callable[[str], str]:
            project = context.get("project")
            code = project.get("code") if isinstance(project, dict) else None
            return lambda item_code: deadline_instant(platform, code, str(item_code), warning).isoformat()
        return factory

    return {"deadline": bind(False), "deadline_warning": bind(True)}

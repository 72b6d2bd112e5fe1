"""Build the platform of one process and subscribe the domain services to its hooks.

This is the one place that knows which domains react to what the workflow layer
does.  The order of subscription is the order of calling, inside the same
transaction (``app.hooks``): the item clock sets a new task's due time before
anything reads it; the decided items and 告知承诺/容缺 follow a run; supervision
closes its 督办 tasks after the item handling has finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from engine.catalog import load_catalog
from engine.forms import FormLibrary

from .config import Settings
from .db import make_engine, make_session_factory
from .hooks import Hooks
from .platform import Platform
from .services.catalogue import decisions
from .services.intermediary import contracts as intermediary_contracts
from .services.notify import messages as notify_messages
from .services.organisation import routing
from .services.planning import generation as planning_generation
from .services.seal import documents as seal_documents
from .services.timelimits import calendars, handlings, itemclock, supervision


def subscribe(hooks: Hooks) -> None:
    """Wire every domain's subscribers, in calling order."""
    hooks.subscribe("starting", decisions.on_starting)                   # the facts the DMN tables read
    hooks.subscribe("task_opened", handlings.on_task_opened)             # due time and 督办 routing
    hooks.subscribe("task_completed", handlings.on_task_completed)       # item handling state, clock
    hooks.subscribe("task_completed", supervision.on_task_completed)     # 督办 ends with its item
    hooks.subscribe("run", decisions.after_run)                          # decided items, 告知承诺, 容缺
    # planning (项目策划生成) and intermediary (中介服务): after the item clock, so their due times stand
    hooks.subscribe("starting", planning_generation.on_starting)         # stage 1 takes the planning result
    hooks.subscribe("task_opened", planning_generation.on_task_opened)   # departments' opinions are due
    hooks.subscribe("task_completed", planning_generation.on_task_completed)  # items checked, revised site
    hooks.subscribe("run", planning_generation.after_run)                # the result (策划生成结果)
    hooks.subscribe("task_opened", intermediary_contracts.on_task_opened)     # the firm's tasks to the firm
    hooks.subscribe("task_completed", intermediary_contracts.on_task_completed)  # the contract row
    hooks.subscribe("exchange_rows", intermediary_contracts.on_exchange_rows)    # SPGL_ZJFWSXBLXXB
    # notify (issue 11): the message centre and the outbox, after the due time is set
    hooks.subscribe("task_opened", notify_messages.on_task_opened)       # new task, correction, 督办
    hooks.subscribe("finished", notify_messages.on_finished)             # result issued
    hooks.subscribe("notice_raised", notify_messages.on_notice_raised)   # deadline warning, overdue
    # seal (issue 10): the departments' decisions kept; the window's 出件 queues the signed documents
    hooks.subscribe("task_completed", seal_documents.on_task_completed)  # the result queued for signing


def build_platform(settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> Platform:
    """Wire the platform from settings; no database access happens here."""
    engine = make_engine(settings.DATABASE_URL, prepared_statements=settings.DB_PREPARED_STATEMENTS,
                         pool_size=settings.DB_POOL_SIZE)
    catalog_dir = Path(settings.CATALOG_DIR)
    sessions = make_session_factory(engine)
    platform = Platform(settings=settings, sessions=sessions,
                        forms=FormLibrary(Path(settings.FORMS_DIR)),
                        catalog=load_catalog(catalog_dir),
                        # the database's holiday table (seeded from the file): every node follows an edit
                        calendar=calendars.database_calendar(sessions, catalog_dir / "holidays.json",
                                                             settings.HOLIDAY_CHECK_SECONDS),
                        helper_factories=(itemclock.deadline_helpers,))
    subscribe(platform.hooks)
    routing.CHECK_SECONDS = settings.CACHE_CHECK_SECONDS  # how stale a node's routes may be
    if clock is not None:
        platform.clock = clock
    return platform

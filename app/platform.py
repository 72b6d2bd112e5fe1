"""The platform's long-lived parts, built once per process and handed to services.

Services take ``(session, platform, ...)``: the session for the transaction the
caller owns, the platform for the specs, forms, catalogue, calendar and clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine.calendar import WorkingCalendar, load_overrides
from engine.cache import WorkflowCache
from engine.catalog import Catalog, load_catalog
from engine.forms import FormLibrary
from engine.runtime import Runtime
from engine.specs import SpecCache

from .config import Settings
from .db import make_engine, make_session_factory
from .models import DeploymentFile


def system_clock() -> dt.datetime:
    """Now, in UTC."""
    return dt.datetime.now(dt.UTC)


@dataclass
class Platform:
    """Specs, forms, catalogue, calendar, clock and the session factory."""

    settings: Settings
    sessions: sessionmaker
    forms: FormLibrary
    catalog: Catalog
    calendar: WorkingCalendar
    clock: Callable[[], dt.datetime] = system_clock
    runtime: Runtime = field(init=False)

    def __post_init__(self):
        self.specs = SpecCache(self._deployment_files)
        self.workflows = WorkflowCache(self.settings.WORKFLOW_CACHE_SIZE)
        self.runtime = Runtime(self.specs, helpers=self._script_helpers())

    def _deployment_files(self, version: int) -> dict[str, bytes]:
        with self.sessions() as session:
            rows = session.scalars(select(DeploymentFile).where(DeploymentFile.version == version))
            return {row.path: row.content for row in rows}

    def _script_helpers(self) -> dict[str, Callable]:
        def working_days_after(n: int) -> str:
            """ISO due time n working days from now (for timer expressions)."""
            return self.calendar.add_working_days(self.clock(), int(n)).astimezone(dt.UTC).isoformat()

        def deadline(item_code: str) -> str:
            """ISO due time of an item's committed limit counted from now."""
            item = self.catalog.item(item_code)
            limit = item.committed_limit or item.statutory_limit
            due = self.calendar.due_date(self.clock(), limit.value, limit.unit)
            return due.astimezone(dt.UTC).isoformat()

        return {"working_days_after": working_days_after, "deadline": deadline}

    def now(self) -> dt.datetime:
        """The platform clock (injectable in tests)."""
        return self.clock()


def build_platform(settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> Platform:
    """Wire the platform from settings; no database access happens here."""
    engine = make_engine(settings.DATABASE_URL)
    catalog_dir = Path(settings.CATALOG_DIR)
    overrides, extra_years = load_overrides(catalog_dir / "holidays.json")
    platform = Platform(settings=settings, sessions=make_session_factory(engine),
                        forms=FormLibrary(Path(settings.FORMS_DIR)),
                        catalog=load_catalog(catalog_dir),
                        calendar=WorkingCalendar(overrides, extra_years))
    if clock is not None:
        platform.clock = clock
    return platform

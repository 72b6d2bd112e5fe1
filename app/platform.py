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

from engine.cache import WorkflowCache
from engine.calendar import WorkingCalendar
from engine.catalog import Catalog, load_catalog
from engine.decisions import plan_helpers
from engine.forms import FormLibrary
from engine.holidays import HolidayFile
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
    calendar: WorkingCalendar | HolidayFile
    clock: Callable[[], dt.datetime] = system_clock
    runtime: Runtime = field(init=False)

    def __post_init__(self):
        self.specs = SpecCache(self._deployment_files)
        self.workflows = WorkflowCache(self.settings.WORKFLOW_CACHE_SIZE)
        self.runtime = Runtime(self.specs, helpers=self._script_helpers(),
                               data_helpers={**self._deadline_helpers(), **plan_helpers(self.catalog)},
                               clock=lambda: self.clock())

    def _deployment_files(self, version: int) -> dict[str, bytes]:
        with self.sessions() as session:
            rows = session.scalars(select(DeploymentFile).where(DeploymentFile.version == version))
            return {row.path: row.content for row in rows}

    def _script_helpers(self) -> dict[str, Callable]:
        def working_days_after(n: int) -> str:
            """ISO due time n working days from now (for timer expressions)."""
            return self.calendar.add_working_days(self.clock(), int(n)).astimezone(dt.UTC).isoformat()

        return {"working_days_after": working_days_after}

    def _deadline_helpers(self) -> dict[str, Callable]:
        """``deadline(item)`` / ``deadline_warning(item)``: the item clock of the task's project.

        Bound to the task data (its ``project.code``), they give the due (or
        yellow-light) instant of the project's open handling of the item, or of
        the item's catalogue limit counted from now (docs/time-limits.md).
        """
        from .services.itemclock import deadline_instant

        def bind(warning: bool) -> Callable[[dict], Callable[[str], str]]:
            def factory(context: dict) -> Callable[[str], str]:
                project = context.get("project")
                code = project.get("code") if isinstance(project, dict) else None
                return lambda item_code: deadline_instant(self, code, str(item_code), warning).isoformat()
            return factory

        return {"deadline": bind(False), "deadline_warning": bind(True)}

    def now(self) -> dt.datetime:
        """The platform clock (injectable in tests)."""
        return self.clock()


def build_platform(settings: Settings, clock: Callable[[], dt.datetime] | None = None) -> Platform:
    """Wire the platform from settings; no database access happens here."""
    engine = make_engine(settings.DATABASE_URL)
    catalog_dir = Path(settings.CATALOG_DIR)
    platform = Platform(settings=settings, sessions=make_session_factory(engine),
                        forms=FormLibrary(Path(settings.FORMS_DIR)),
                        catalog=load_catalog(catalog_dir),
                        calendar=HolidayFile(catalog_dir / "holidays.json"))  # follows admin edits
    if clock is not None:
        platform.clock = clock
    return platform

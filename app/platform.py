"""The platform's long-lived parts, built once per process and handed to services.

Services take ``(session, platform, ...)``: the session for the transaction the
caller owns, the platform for the specs, forms, catalogue, calendar, clock and
hooks.  Nothing here imports a service: ``app.wiring.build_platform`` builds a
platform and subscribes the services to its hooks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from engine.cache import WorkflowCache
from engine.calendar import WorkingCalendar
from engine.catalog import Catalog
from engine.decisions import plan_helpers
from engine.forms import FormLibrary
from engine.holidays import HolidayFile, HolidayTable
from engine.runtime import Runtime
from engine.specs import SpecCache

from .config import Settings
from .hooks import Hooks
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
    calendar: WorkingCalendar | HolidayFile | HolidayTable
    clock: Callable[[], dt.datetime] = system_clock
    #: builders of data helpers for scripts, each called with the platform (``app.wiring``)
    helper_factories: tuple[Callable[[Platform], dict[str, Callable]], ...] = ()
    hooks: Hooks = field(default_factory=Hooks)
    runtime: Runtime = field(init=False)

    def __post_init__(self):
        self.specs = SpecCache(self._deployment_files)
        self.workflows = WorkflowCache(self.settings.WORKFLOW_CACHE_SIZE)
        data_helpers = dict(plan_helpers(self.catalog))
        for factory in self.helper_factories:
            data_helpers.update(factory(self))
        self.runtime = Runtime(self.specs, helpers=self._script_helpers(), data_helpers=data_helpers,
                               clock=lambda: self.clock())

    @property
    def storage(self):
        """Uploaded materials and issued documents: ``put(key, bytes, type)`` / ``get(key)`` (``app.storage``)."""
        settings = self.settings
        wanted = (settings.STORAGE_URL, settings.STORAGE_ENDPOINT, settings.STORAGE_REGION, settings.UPLOAD_DIR)
        built = self.__dict__.get("_storage")
        if built is None or built[0] != wanted:  # built once; again only if the settings change (tests)
            from .storage import storage_for
            built = self.__dict__["_storage"] = (wanted, storage_for(settings))
        return built[1]

    def _deployment_files(self, version: int) -> dict[str, bytes]:
        with self.sessions() as session:
            rows = session.scalars(select(DeploymentFile).where(DeploymentFile.version == version))
            return {row.path: row.content for row in rows}

    def _script_helpers(self) -> dict[str, Callable]:
        def working_days_after(n: int) -> str:
            """ISO due time n working days from now (for timer expressions)."""
            return self.calendar.add_working_days(self.clock(), int(n)).astimezone(dt.UTC).isoformat()

        return {"working_days_after": working_days_after}

    def now(self) -> dt.datetime:
        """The platform clock (injectable in tests)."""
        return self.clock()

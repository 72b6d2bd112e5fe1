"""Generating a small history in tests, and removing it (its accounts and enterprises too)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select

from app.db import transaction
from app.models import Enterprise, User
from app.services.provisioning import history_run
from tests.conftest import wipe_project_rows

#: The instant the test histories end (a fixed day, so that runs compare).
ENDS = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def generate(platform, projects: int, seed: int = 2019, limit: int | None = None,
             profile: str = history_run.DEFAULT_PROFILE.name) -> int:
    """Begin (or resume) a run of ``projects`` over two years, generate up to ``limit``, finish; its id."""
    def scope():
        return transaction(platform.sessions)
    with scope() as session:
        run_id = history_run.begin(session, platform, projects, 2, seed, 1, ENDS, profile).id
    history_run.work(scope, platform, run_id, 0, limit=limit)
    with scope() as session:
        from app.models import HistoryRun
        history_run.finish(session, platform, session.get(HistoryRun, run_id))
    return run_id


def wipe(platform) -> None:
    """Every project row, the run, and the accounts and enterprises the run created."""
    with transaction(platform.sessions) as session:
        wipe_project_rows(session)  # the audit chain too (its table refuses DELETE on PostgreSQL)
        generated = select(User.enterprise_id).where(User.username.startswith(history_run.APPLICANT_PREFIX))
        enterprises = list(session.scalars(generated))
        session.execute(delete(User).where(User.username.startswith("hist_")))
        if enterprises:
            session.execute(delete(Enterprise).where(Enterprise.id.in_(enterprises)))

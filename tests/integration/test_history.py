"""``seed-history``: real engine states, item handlings, audit and timers, inside the period; resumable."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.errors import Conflict, Unauthorized
from app.models import (
    AuditEvent,
    Enterprise,
    HistoryWorker,
    HumanTask,
    ItemHandling,
    ItemHandlingEvent,
    ProcessInstance,
    Project,
    SupervisionNotice,
)
from app.services.people import accounts
from app.services.provisioning import history_run
from app.services.provisioning.history import SEED_ENTERPRISES, SEED_ITEMS, SEED_PROJECTS
from app.services.workflow.consistency import check_all
from tests.integration.history_steps import ENDS, generate, wipe

PROJECTS = 40


@pytest.fixture(scope="module")
def history(backend_platform):
    """A history of 40 projects on each backend, removed after the module."""
    wipe(backend_platform)
    generate(backend_platform, PROJECTS)
    yield backend_platform
    wipe(backend_platform)


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


def test_every_project_is_declared_and_most_file_stage_one(history):
    with transaction(history.sessions, write=False) as session:
        assert _count(session, Project) == PROJECTS
        filed = session.scalar(select(func.count(func.distinct(ProcessInstance.project_id))))
        assert 0.3 * PROJECTS <= filed <= 0.9 * PROJECTS
        stages = set(session.scalars(select(ProcessInstance.stage_key).distinct()))
        assert "initiation" in stages and stages - {"initiation", "verification"}  # some went on
        assert _count(session, ProcessInstance, ProcessInstance.status == "approved") > 0


def test_states_tasks_and_handlings_agree_as_the_engine_left_them(history):
    with transaction(history.sessions, write=False) as session:
        assert _count(session, ProcessInstance, ProcessInstance.state == "") == 0
        assert check_all(session, history) == []  # what `flask check` verifies
        handlings = _count(session, ItemHandling)
        assert handlings > PROJECTS
        without_events = _count(session, ItemHandling, ~ItemHandling.id.in_(select(ItemHandlingEvent.handling_id)))
        assert without_events == 0
        kinds = set(session.scalars(select(AuditEvent.kind).distinct()))
        assert {"project_declared", "stage_started", "task_completed", "stage_finished"} <= kinds
        assert "timers_fired" in kinds  # the warning timers fired on the simulated clock: 督办 tasks
        assert _count(session, HumanTask, HumanTask.audience == "supervisor") > 0


def test_every_time_lies_inside_the_period(history):
    begins = ENDS - dt.timedelta(days=round(365.25 * 2))
    with transaction(history.sessions, write=False) as session:
        first = session.scalar(select(func.min(Project.created_at)))
        last = max(session.scalar(select(func.max(AuditEvent.at))),
                   session.scalar(select(func.max(ItemHandlingEvent.at))))
        assert begins <= first and last <= ENDS
        late = _count(session, ItemHandling, ItemHandling.finished_at < ItemHandling.accepted_at)
        assert late == 0


def test_running_items_remain_at_the_end(history):
    with transaction(history.sessions, write=False) as session:
        # Some applications are still being worked when the period ends; the rest finished.
        finished = _count(session, ItemHandling, ItemHandling.finished_at.is_not(None))
        assert finished > 0.7 * _count(session, ItemHandling)


def test_the_time_limit_job_ran_when_the_period_ended(history):
    """Each item still open at the end past its warning instant has its one notice (warning or overdue)."""
    with transaction(history.sessions, write=False) as session:
        due = _count(session, ItemHandling, ItemHandling.finished_at.is_(None), ItemHandling.paused_at.is_(None),
                     ItemHandling.warn_at <= ENDS)
        assert _count(session, SupervisionNotice) == due
        assert _count(session, ItemHandling, ItemHandling.finished_at.is_(None), ItemHandling.warn_at <= ENDS,
                      ItemHandling.paused_at.is_(None), ItemHandling.warned_at.is_(None)) == 0


def test_generated_accounts_cannot_log_in(history):
    with transaction(history.sessions, write=False) as session:
        with pytest.raises(Unauthorized):
            accounts.authenticate(session, f"{history_run.APPLICANT_PREFIX}00000", "Demo@2026")
        with pytest.raises(Unauthorized):
            accounts.authenticate(session, f"{history_run.APPLICANT_PREFIX}00000", history_run.history.NO_LOGIN)


def test_a_different_history_is_refused_on_the_same_database(history):
    with transaction(history.sessions) as session:
        with pytest.raises(Conflict):
            history_run.begin(session, history, PROJECTS + 1, 2, 2019, 1, ENDS)


def test_resuming_makes_the_same_history_as_one_run(platform):
    """Stopped after 4 projects and resumed, the run equals an uninterrupted one."""
    def fingerprint():
        with transaction(platform.sessions, write=False) as session:
            return sorted(session.execute(select(Project.code, ItemHandling.item_code, ItemHandling.state,
                                                 ItemHandling.accepted_at, ItemHandling.finished_at)
                                          .join(ItemHandling, ItemHandling.project_id == Project.id)).all())
    try:
        wipe(platform)
        run_id = generate(platform, 9, seed=7, limit=4)
        with transaction(platform.sessions, write=False) as session:
            assert session.get(HistoryWorker, (run_id, 0)).done == 4
        generate(platform, 9, seed=7)
        resumed = fingerprint()
        wipe(platform)
        generate(platform, 9, seed=7)
        assert fingerprint() == resumed and resumed
    finally:
        wipe(platform)


@pytest.mark.slow
def test_totals_land_within_ten_percent_of_the_seed(platform):
    """Scaled to 160 projects: item handlings and enterprises per project within ±10 % of the seed's."""
    if platform.settings.DATABASE_URL.startswith("postgresql"):
        pytest.skip("the calibration does not depend on the backend; measured once, on SQLite")
    n = 160
    try:
        wipe(platform)
        generate(platform, n)
        with transaction(platform.sessions, write=False) as session:
            projects = _count(session, Project)
            items = _count(session, ItemHandling)
            enterprises = session.scalar(select(func.count(func.distinct(Project.enterprise_id))))
            generated = _count(session, Enterprise, Enterprise.credit_code.startswith("91469000"))
        assert projects == n and generated == enterprises
        assert abs(items / projects / (SEED_ITEMS / SEED_PROJECTS) - 1) <= 0.10, items
        assert abs(enterprises / projects / (SEED_ENTERPRISES / SEED_PROJECTS) - 1) <= 0.10, enterprises
    finally:
        wipe(platform)


def test_the_command_generates_with_one_process_per_core_on_postgresql_and_one_on_sqlite(backend_platform):
    from app import create_app
    from app.history_cli import default_workers
    from app.models import HistoryRun
    platform = backend_platform
    sqlite = platform.settings.DATABASE_URL.startswith("sqlite")
    runner = create_app(platform.settings, platform=platform).test_cli_runner()
    try:
        wipe(platform)
        result = runner.invoke(args=["seed-history", "--projects", "3", "--until", "2026-11-30"])
        assert result.exit_code == 0, result.output
        with transaction(platform.sessions, write=False) as session:
            run = session.scalar(select(HistoryRun))
            assert run.workers == (1 if sqlite else default_workers()) and _count(session, Project) == 3
            if not sqlite:  # the planner's statistics are fresh as soon as the history is there
                from sqlalchemy import text
                analysed = session.scalar(text("SELECT last_analyze FROM pg_stat_user_tables "
                                               "WHERE relname = 'item_handling' AND schemaname = current_schema()"))
                assert analysed is not None and "table statistics refreshed" in result.output
        if sqlite:
            refused = runner.invoke(args=["seed-history", "--projects", "3", "--workers", "2"])
            assert refused.exit_code != 0 and "--workers 1" in refused.output
    finally:
        wipe(platform)

"""The forecasting model learnt from a generated history (real engine, real PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import ForecastModel, HumanTask, ItemHandling, ProcessInstance, SpecialProcedure
from app.scheduler import refresh_forecast_model
from app.services.forecast import model as learning
from app.services.forecast import store
from tests.integration.history_steps import ENDS, generate, wipe

PROJECTS = 40  # a small generated history (~1 minute): enough for the initiation stage


@pytest.fixture(scope="module")
def history(backend_platform):
    """A history of 40 projects on PostgreSQL (the forecast reads many rows: one backend suffices)."""
    if backend_platform.settings.DATABASE_URL.startswith("sqlite"):
        pytest.skip("the forecast is exercised on PostgreSQL; the history generator is tested on both")
    wipe(backend_platform)
    generate(backend_platform, PROJECTS)
    yield backend_platform
    wipe(backend_platform)
    with transaction(backend_platform.sessions) as session:
        session.query(ForecastModel).delete()


def test_the_model_counts_every_task_of_the_period(history):
    with history.sessions() as session:
        model = learning.learn(session, history, ENDS)
        drc = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.form == "review.schema.json", HumanTask.lane_role == "drc", HumanTask.audience.is_(None)))
        approved = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.form == "review.schema.json", HumanTask.lane_role == "drc", HumanTask.outcome == "approve"))
        stage1 = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.stage_key == "initiation"))
    entry = model["tasks"]["review.schema.json||drc"]
    assert entry["n"] == drc > 0
    assert sum(r.get("approve", 0) for r in entry["outcomes"].values()) == approved
    assert entry["q"] == sorted(entry["q"]) and entry["q"][0] >= 0
    stage = model["stages"]["initiation"]
    assert stage["n"] == stage1 and len(stage["starts"]) == min(stage1, learning.START_SAMPLES)
    assert set(stage["starts"][0]) >= {"project", "application", "facts"}
    assert 0 < stage["items"]["S1-EIA-REGISTRATION"] <= 1
    assert any(key.startswith("initiation|") for key in model["arrivals"])
    assert model["corrections"]["n"] == sum(v["n"] for k, v in model["tasks"].items()
                                            if k == "correction_supplement.schema.json||applicant")


def test_a_period_is_read_as_it_stood_at_its_end(history):
    with history.sessions() as session:
        first = session.scalar(select(func.min(ProcessInstance.started_at)))
        middle = first + (ENDS - first) / 2
        model = learning.learn(session, history, middle)
        open_then = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.created_at < middle, HumanTask.audience.is_(None),
            (HumanTask.completed_at.is_(None)) | (HumanTask.completed_at >= middle)))
    pooled = [v for k, v in model["tasks"].items() if k.count("|") == 2 and k.endswith("||")]
    assert sum(v["n"] - v["done"] for v in pooled) == open_then  # censored, not dropped
    assert model["until"] == middle.isoformat()


def test_the_nightly_job_stores_a_model_that_pages_read_from_the_cache(history):
    store.forget()
    history.clock = lambda: ENDS
    try:
        model_id = refresh_forecast_model(history)
    finally:
        from app.platform import system_clock
        history.clock = system_clock
    assert model_id is not None
    with history.sessions() as session:
        row = session.get(ForecastModel, model_id)
        assert row.instances > 0 and row.until == ENDS
        current = store.current(session)
        assert current["until"] == ENDS.isoformat()
        assert store.current(session) is current  # the second read comes from the process cache


# -- the applicant's ETA ---------------------------------------------------------------------------

def _running_stage(platform, days_after_end: float = 3.0):
    """A history project that had not filed stage 1: filed at the end of the period, worked for a few days.

    The history's own step (``history.run_stage``) files it and works it until
    ``days_after_end`` working days later, so reviews are left running.
    """
    from app.models import Project, User
    from app.services.provisioning import history, history_run
    from app.services.provisioning.history import SimulatedClock

    clock, wall = SimulatedClock(ENDS), platform.clock
    platform.clock = clock
    try:
        with transaction(platform.sessions) as session:
            run = session.scalar(select(history_run.HistoryRun).order_by(history_run.HistoryRun.id.desc()))
            ctx = history_run.context(session, platform, run, clock)
            ctx.ends = history.after_working_days(platform.calendar, ENDS, days_after_end)
            filed = select(ProcessInstance.project_id)
            project = session.scalars(select(Project).where(Project.id.not_in(filed)).order_by(Project.id)).first()
            applicant = session.get(User, ctx.applicants[project.enterprise_id])
            import random
            facts = {"total_investment": 900.0, "land_area": 4000.0, "zone": True, "park": False}
            status = history.run_stage(ctx, session, random.Random(7), project, "initiation", applicant, facts, {})
            return project.code, status, clock.now
    finally:
        platform.clock = wall


@pytest.fixture(scope="module")
def with_model(history):
    history.clock = lambda: ENDS
    try:
        with transaction(history.sessions) as session:
            store.refresh(session, history, ENDS)
        store.forget()
        code, status, at = _running_stage(history)
        assert status == "running"
        yield history, code, at
    finally:
        from app.platform import system_clock
        history.clock = system_clock


def test_a_running_stage_gets_its_expected_completion_in_the_api_and_on_the_pages(with_model):
    from app import create_app
    platform, code, at = with_model
    platform.clock = lambda: at
    client = create_app(platform.settings, platform=platform).test_client()
    body = client.get(f"/api/v1/public/projects/{code}").get_json()
    stage = next(s for s in body["stages"] if s["key"] == "initiation")
    eta = stage["eta"]
    assert eta is not None and eta["open_tasks"] >= 1
    assert at.date().isoformat() <= eta["median_date"] <= eta["p90_date"]
    assert 0 <= eta["median_working_days"] <= eta["p90_working_days"]
    assert all(s["eta"] is None for s in body["stages"] if s["key"] != "initiation")
    page = client.get(f"/public/query?code={code}").get_data(as_text=True)
    assert f'data-stage="initiation" data-median="{eta["median_date"]}" data-p90="{eta["p90_date"]}"' in page
    assert "预计" in page and "最迟约" in page
    client.get("/lang/en")
    english = client.get(f"/public/query?code={code}").get_data(as_text=True)
    assert "expected by" in english and "at the latest about" in english


def test_the_eta_starts_from_where_the_stage_stands_and_moves_with_each_completion(with_model):
    from app.models import Project
    from app.services.forecast import eta as etas
    from app.services.provisioning import demo
    from app.services.workflow import instances
    platform, code, at = with_model
    with platform.sessions() as session:
        project = session.scalar(select(Project).where(Project.code == code))
        model = store.current(session)
        inst = next(i for i in project.instances if i.status == "running")
        now_eta = etas.instance_eta(session, platform, inst, model, now=at)
        later = platform.calendar.extend(at, dt.timedelta(days=15))
        aged = etas.instance_eta(session, platform, inst, model, now=later)
        assert aged.median_date >= later.date() and aged.median_date >= now_eta.median_date
        assert etas.instance_eta(session, platform, inst, model, now=at) == now_eta  # same state, same dates
        stopped = session.scalar(select(func.count()).select_from(SpecialProcedure).join(
            ItemHandling, ItemHandling.id == SpecialProcedure.handling_id).where(
            ItemHandling.instance_id == inst.id, SpecialProcedure.ended_at.is_(None)))
        correcting = session.scalar(select(func.count()).select_from(HumanTask).where(
            HumanTask.instance_id == inst.id, HumanTask.status == "open",
            HumanTask.form.in_(("correction_supplement.schema.json", "correction_recheck.schema.json"))))
        assert now_eta.paused == stopped + correcting  # paused clocks are read, not ignored
    platform.clock = lambda: at
    with transaction(platform.sessions) as session:
        row = next(r for r in demo.open_tasks(session, inst.id) if r.audience is None and (
            r.handling is None or r.handling.pause_kind != "special"))
        instances.complete_task(session, platform, row.id,
                                demo.task_answer(row.form, row.id, at.date()), demo.actor_for(session, row))
    with platform.sessions() as session:
        inst = session.get(ProcessInstance, inst.id)
        after = etas.instance_eta(session, platform, inst, model, now=at) if inst.status == "running" else None
    assert after is None or after != now_eta

"""The forecasting model learnt from a generated history (real engine, real PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import ForecastModel, HumanTask, ProcessInstance
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

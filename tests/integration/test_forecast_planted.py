"""A planted change in generated history, found by the model and by the forecast of a redesign.

The history is generated with the profile ``planning-slowdown``: from the middle
of the period on, 自然资源和规划 (planning) takes twice as long over each review,
nothing else changes.  The model learnt from the second half sees planning's
handling times doubled while another department's stay put; and the forecast of
a redesign of stage 1 that no longer sends items to planning shows a saving
that is about twice as large with that model as with the one learnt before the
change — the planted effect, found through the real engine.
"""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import Deployment, DeploymentFile, HistoryRun
from app.services.flows import deployments
from app.services.forecast import candidate
from app.services.forecast import model as learning
from tests.integration.history_steps import generate, wipe
from tests.integration.test_forecast import without_planning

PROJECTS = 160  # about 80 stage-1 applications, 60 planning reviews: a couple of minutes to generate
N = 200


@pytest.fixture(scope="module")
def planted(backend_platform):
    """The planted history and the redesign, removed after the module (PostgreSQL)."""
    if backend_platform.settings.DATABASE_URL.startswith("sqlite"):
        pytest.skip("the forecast is exercised on PostgreSQL; the history generator is tested on both")
    platform = backend_platform
    wipe(platform)
    generate(platform, PROJECTS, seed=11, profile="planning-slowdown")
    with transaction(platform.sessions) as session:
        run = session.scalar(select(HistoryRun).order_by(HistoryRun.id.desc()))
        middle = run.begins_at + (run.ends_at - run.begins_at) / 2
        active = deployments.active_version(session)
        files = {r.path: r.content for r in session.scalars(select(DeploymentFile).where(
            DeploymentFile.version == active))}
        redesign = deployments.deploy(session, platform, without_planning(files), "analyst1", "no planning").version
        before = learning.learn(session, platform, middle, run.begins_at)
        after = learning.learn(session, platform, run.ends_at, middle)
    yield platform, active, redesign, before, after
    with transaction(platform.sessions) as session:
        session.delete(session.get(Deployment, redesign))
    wipe(platform)


def slowdown(before: dict, after: dict, role: str) -> tuple[float, int]:
    """The median over a department's items of (median time after / median time before); how many items."""
    ratios = []
    for key, entry in after["tasks"].items():
        form, item, lane = key.split("|")
        old = before["tasks"].get(key)
        if form == "review.schema.json" and lane == role and item and old and entry["done"] >= 5 and old["done"] >= 5:
            ratios.append(learning.quantile(entry["q"], 0.5) / learning.quantile(old["q"], 0.5))
    return float(np.median(ratios)) if ratios else float("nan"), len(ratios)


def test_the_model_sees_the_planted_slowdown_and_only_there(planted):
    _, _, _, before, after = planted
    planning, items = slowdown(before, after, "planning")
    assert items >= 2 and 1.4 <= planning <= 3.0, planning   # planted: 2.0
    for role in ("drc", "environment"):                       # untouched
        ratio, items = slowdown(before, after, role)
        assert items >= 1 and 0.6 <= ratio <= 1.6, (role, ratio)


def test_the_forecast_of_removing_planning_finds_the_planted_effect(planted):
    platform, active, redesign, before, after = planted
    # the same applications on both sides (both halves' start data), so only the learnt times differ
    starts = before["stages"]["initiation"]["starts"] + after["stages"]["initiation"]["starts"]
    saved = {}
    for name, model in (("before", before), ("after", after)):
        model = {**model, "stages": {**model["stages"], "initiation": {**model["stages"]["initiation"],
                                                                        "starts": starts}}}
        result = candidate.forecast(platform, model, redesign, active, ["initiation"], n=N, seed=4)
        stage = result["stages"][0]
        saved[name] = -stage["difference"]["median"]
        ci = stage["difference"]["median_ci"]
        assert ci[1] < 0, (name, stage["difference"])  # removing a review saves time, beyond the noise
        assert stage["new"]["outcomes"].get("end_approved", 0) > 0.8 * N
    assert saved["after"] > 1.3 * saved["before"], saved  # the saving grew with the planted slowdown

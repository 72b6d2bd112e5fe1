"""Stage lifecycles: bare engine vs the services with persistence; long histories.

(a) the engine alone, in memory, running stage 1's approval path;
(b) the same path through the services on SQLite and PostgreSQL;
(c) completing one task after 20 correction loops vs in a fresh instance.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path

from sqlalchemy import select

from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.models import User
from app.services.people import projects
from app.services.provisioning import demo, reference
from app.services.workflow import instances
from app.stages import BY_KEY
from app.wiring import build_platform
from engine.catalog import load_catalog
from engine.decisions import facts, plan_helpers
from engine.runtime import Runtime
from engine.specs import SpecCache, build_bundles, parse_deployment, read_directory

from .report import Report

ROOT = Path(__file__).resolve().parent.parent
PROJECT = {"code": "2026-460100-48-02-000017", "name": "基准项目", "division": "460100",
           "flow_type": 3, "investment_type": "ratification"}
TODAY = dt.date(2026, 3, 2)


def engine_lifecycles(seconds: float = 3.0) -> tuple[float, float]:
    """(a): stage 1 lifecycles per second and task completions per second, engine only."""
    files = read_directory(ROOT / "processes")
    cache = SpecCache(lambda v: files)
    cache.add(1, build_bundles(parse_deployment(files), 1))
    far = "2099-01-01T00:00:00+00:00"  # the warning timers' instant: never due during the run
    runtime = Runtime(cache, data_helpers={**plan_helpers(load_catalog(ROOT / "catalog")),
                                           "deadline_warning": lambda context: (lambda item_code: far)})
    bundle = cache.get("stage_initiation", 1)
    application = demo.stage_application(BY_KEY["initiation"], _P, TODAY)
    start_facts = facts(investment_type="ratification", total_investment=application["total_investment"],
                        land_area=application["land_area"])  # what the stage's item decision reads
    lifecycles = tasks = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        workflow = runtime.start(bundle, {"project": PROJECT, "application": application, "facts": start_facts})
        while ready := runtime.ready_user_tasks(workflow):
            view = ready[0]
            runtime.complete(workflow, view.task_id, demo.task_answer(view.form, tasks, TODAY))
            tasks += 1
        lifecycles += 1
    elapsed = time.perf_counter() - start
    return lifecycles / elapsed, tasks / elapsed


class _P:
    name = "基准项目"
    investment_type = "ratification"


def make_platform(url: str):
    """A migrated, seeded platform on ``url``."""
    upgrade(url)
    platform = build_platform(Settings.from_env(DATABASE_URL=url))
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
        reference.deploy_initial(session, platform)
        reference.seed_demo(session, platform)
    return platform


def _applicant(platform) -> int:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(User.id).where(User.username == "applicant1"))


def _new_instance(platform, applicant_id: int) -> int:
    with transaction(platform.sessions) as session:
        applicant = session.get(User, applicant_id)
        project = projects.create_project(session, platform, applicant, {
            "name": "基准项目", "division": "460100", "investment_type": "ratification"})
        stage = BY_KEY["initiation"]
        return instances.start_stage(session, platform, project, stage,
                                     demo.stage_application(stage, project, TODAY), applicant).id


_ACTORS: dict[tuple, int] = {}


def _actor(session, row):
    """The officer (or applicant) for a task, looked up once per unit and lane."""
    key = (id(session.get_bind()), row.unit_id, row.lane_role, row.enterprise_id)
    if key not in _ACTORS:
        _ACTORS[key] = demo.actor_for(session, row).id
    return session.get(User, _ACTORS[key])


def _complete_next(platform, instance_id: int, decide=lambda row: None) -> bool:
    with transaction(platform.sessions, write=False) as session:
        rows = demo.open_tasks(session, instance_id)
    if not rows:
        return False
    row = rows[0]
    with transaction(platform.sessions) as session:
        instances.complete_task(session, platform, row.id, demo.task_answer(row.form, row.id, TODAY,
                                                                             decide(row)), _actor(session, row))
    return True


def service_lifecycles(platform, seconds: float = 3.0) -> tuple[float, float]:
    """(b): lifecycles and task completions per second through the services."""
    applicant_id = _applicant(platform)
    lifecycles = tasks = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        instance_id = _new_instance(platform, applicant_id)
        while _complete_next(platform, instance_id):
            tasks += 1
        lifecycles += 1
    elapsed = time.perf_counter() - start
    return lifecycles / elapsed, tasks / elapsed


def correction_history(platform, loops: int = 20, samples: int = 12) -> dict[str, float]:
    """(c): median ms to approve the EIA review after 20 correction loops vs in a fresh instance.

    The same task is timed in both instances (the environment department's review), warm (the
    process saved the instance last, so its live workflow is cached) and cold (state loaded from
    the database, as on another web worker).
    """
    applicant_id = _applicant(platform)
    times: dict[str, list[float]] = {"fresh_warm": [], "fresh_cold": [], "long_warm": [], "long_cold": []}
    for sample in range(samples):
        cold = sample % 2 == 1
        for kind in ("fresh", "long"):
            instance_id = _new_instance(platform, applicant_id)
            _complete_next(platform, instance_id)  # the window accepts
            for _ in range(loops if kind == "long" else 0):
                _loop_once(platform, instance_id)
            if cold:
                platform.workflows.clear()
            times[f"{kind}_{'cold' if cold else 'warm'}"].append(
                _time_named(platform, instance_id, "review_environment"))
    return {key: statistics.median(values) * 1000 for key, values in times.items()}


def _time_named(platform, instance_id: int, name: str) -> float:
    """Seconds to approve the open task ``name`` through the services."""
    with transaction(platform.sessions, write=False) as session:
        row = next(r for r in demo.open_tasks(session, instance_id) if r.spec_name == name)
    start = time.perf_counter()
    with transaction(platform.sessions) as session:
        instances.complete_task(session, platform, row.id, demo.task_answer(row.form, row.id, TODAY),
                                _actor(session, row))
    return time.perf_counter() - start


def _loop_once(platform, instance_id: int) -> None:
    with transaction(platform.sessions, write=False) as session:
        rows = {r.spec_name: r for r in demo.open_tasks(session, instance_id)}
    for name in ("review_environment", "correction_supplement", "correction_recheck"):
        if name not in rows:
            with transaction(platform.sessions, write=False) as session:
                rows = {r.spec_name: r for r in demo.open_tasks(session, instance_id)}
        row = rows[name]
        with transaction(platform.sessions) as session:
            answer = demo.task_answer(row.form, row.id, TODAY, "correct" if name == "review_environment" else None)
            instances.complete_task(session, platform, row.id, answer, _actor(session, row))
        rows = {}


def run(report: Report, sqlite_url: str, postgres_url: str | None) -> None:
    """Measure (a), (b) and (c) and add them to the report."""
    per_lifecycle, engine_tps = engine_lifecycles()
    report.add("engine_only_lifecycles_per_s", per_lifecycle, "lifecycles/s")
    report.add("engine_only_task_completions_per_s", engine_tps, "completions/s")
    sqlite = make_platform(sqlite_url)
    _, sqlite_tps = service_lifecycles(sqlite)
    report.add("services_sqlite_task_completions_per_s", sqlite_tps, "completions/s")
    report.add("services_sqlite_vs_engine_ratio", sqlite_tps / engine_tps, "ratio", ">= 0.5")
    if postgres_url:
        pg = make_platform(postgres_url)
        _, pg_tps = service_lifecycles(pg)
        report.add("services_postgres_task_completions_per_s", pg_tps, "completions/s")
        report.add("services_postgres_vs_engine_ratio", pg_tps / engine_tps, "ratio")
    history = correction_history(sqlite)
    report.add("complete_task_fresh_instance_ms", history["fresh_cold"], "ms", note="state loaded")
    report.add("complete_task_after_20_corrections_ms", history["long_cold"], "ms", note="state loaded")
    report.add("correction_history_cost_ratio", history["long_cold"] / history["fresh_cold"], "ratio", "<= 2.0",
               "same task, state loaded from the database")
    report.add("correction_history_cost_ratio_cached", history["long_warm"] / history["fresh_warm"], "ratio",
               note="same task, live workflow cached")

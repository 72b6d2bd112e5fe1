"""The forecasting model learnt from a generated history (real engine, real PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import ForecastModel, HumanTask, ItemHandling, ProcessInstance, SpecialProcedure
from app.scheduler import refresh_forecast_model
from app.services.forecast import candidate, store
from app.services.forecast import model as learning
from tests.integration.history_steps import ENDS, generate, wipe

PROJECTS = 40  # a small generated history (~1 minute): enough for the initiation stage
BASELINE = 30  # the active version's simulated projects the nightly job stores with the model (1,000 live)


@pytest.fixture(scope="module")
def history(backend_platform):
    """A history of 40 projects on PostgreSQL (the forecast reads many rows: one backend suffices)."""
    if backend_platform.settings.DATABASE_URL.startswith("sqlite"):
        pytest.skip("the forecast is exercised on PostgreSQL; the history generator is tested on both")
    settings = backend_platform.settings
    kept = settings.FORECAST_BASELINE_PROJECTS, settings.FORECAST_WORKERS
    settings.FORECAST_BASELINE_PROJECTS, settings.FORECAST_WORKERS = BASELINE, 1  # small and in-process here
    wipe(backend_platform)
    generate(backend_platform, PROJECTS)
    yield backend_platform
    settings.FORECAST_BASELINE_PROJECTS, settings.FORECAST_WORKERS = kept
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
    stored = current["baselines"]["initiation"]
    assert (stored["n"], stored["seed"], len(stored["days"])) == (BASELINE, 1, BASELINE)


# -- the applicant's ETA ---------------------------------------------------------------------------

def _running_stage(platform, days_after_end: float = 3.0):
    """A history project that had not filed stage 1: filed at the end of the period, worked for a few days.

    The history's own step (``history.run_stage``) files it and works it until
    ``days_after_end`` working days later, so reviews are left running.
    """
    from app.models import Project, User
    from app.services.provisioning import history, history_run
    from app.services.provisioning.history import SimulatedClock
    from engine.calendar import after_office_days

    clock, wall = SimulatedClock(ENDS), platform.clock
    platform.clock = clock
    try:
        with transaction(platform.sessions) as session:
            run = session.scalar(select(history_run.HistoryRun).order_by(history_run.HistoryRun.id.desc()))
            ctx = history_run.context(session, platform, run, clock)
            ctx.ends = after_office_days(platform.calendar, ENDS, days_after_end)
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


# -- forecasting a candidate version ----------------------------------------------------------------

def without_planning(files: dict) -> dict:
    """A redesign of stage 1 that no longer sends any item to 自然资源和规划 (planning)."""
    path = "stages/initiation.bpmn"
    return {**files, path: files[path].replace(b"len(items_planning) &gt; 0", b"False")}


def with_new_check(files: dict, median: float = 4.0, p90: float = 6.0) -> dict:
    """A redesign of stage 1 with one more review, by a department new to the stage, timed by the analyst."""
    from lxml import etree

    from tests.fixtures.bpmn_variants import NS, add_parallel_review
    path = "stages/initiation.bpmn"
    content = add_parallel_review(files[path], role="meteorology", task_id="review_new_check",
                                  name="新增气象论证", item_code="S2-LIGHTNING-DESIGN")
    root = etree.fromstring(content)
    props = root.find(".//bpmn:userTask[@id='review_new_check']/bpmn:extensionElements/spiffworkflow:properties", NS)
    for name, value in (("forecast_days", median), ("forecast_p90_days", p90),
                        ("forecast_outcomes", "approve:0.9,correct:0.1")):
        etree.SubElement(props, f"{{{NS['spiffworkflow']}}}property", name=name, value=str(value))
    return {**files, path: etree.tostring(root, xml_declaration=True, encoding="UTF-8")}


@pytest.fixture(scope="module")
def candidates(with_model):
    """Two drafts deployed beside the active version (removed after the module)."""
    from app.models import Deployment, DeploymentFile
    from app.services.flows import deployments
    platform = with_model[0]
    with transaction(platform.sessions) as session:
        files = {r.path: r.content for r in session.scalars(select(DeploymentFile).where(
            DeploymentFile.version == deployments.active_version(session)))}
        removed = deployments.deploy(session, platform, without_planning(files), "analyst1", "no planning").version
        added = deployments.deploy(session, platform, with_new_check(files), "analyst1", "new check").version
    yield platform, removed, added
    with transaction(platform.sessions) as session:
        for version in (removed, added):
            session.delete(session.get(Deployment, version))


def _api(platform, username="analyst1"):
    from app import create_app
    from tests.conftest import Api
    client = create_app(platform.settings, platform=platform).test_client()
    return client, Api(client, username)


def test_a_candidate_is_forecast_against_the_active_version_by_the_engine(candidates):
    platform, removed, added = candidates
    client, api = _api(platform)
    answer = client.post(f"/api/v1/processes/{removed}/forecast", json={"n": 60, "seed": 5}, headers=api.headers)
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert [s["stage"] for s in body["stages"]] == ["initiation"]  # the only stage whose flow changed
    stage = body["stages"][0]
    assert stage["old"]["n"] == stage["new"]["n"] == 60
    assert stage["old"]["ended"] >= 55 and stage["new"]["ended"] >= 55
    d = stage["difference"]
    assert d["median_ci"][0] <= d["median"] <= d["median_ci"][1]
    assert d["p90_ci"][0] <= d["p90"] <= d["p90_ci"][1]
    assert stage["new"]["median"] <= stage["old"]["median"]  # one review fewer can only shorten the stage
    assert stage["analyst_elements"] == [] and stage["new"]["analyst_share"] == 0
    assert sum(stage["histogram"]["old"]) == stage["old"]["ended"]
    assert sum(stage["histogram"]["new"]) == stage["new"]["ended"]
    again = client.post(f"/api/v1/processes/{removed}/forecast", json={"n": 60, "seed": 5}, headers=api.headers)
    assert again.get_json()["stages"] == body["stages"]  # seeded: reproducible


def test_the_stored_baseline_is_exactly_what_a_fresh_simulation_gives(candidates):
    platform, removed, added = candidates
    with platform.sessions() as session:
        model = store.current(session)
        from app.services.flows.deployments import active_version
        active = active_version(session)
    assert model["baselines"]["initiation"]["version"] == active
    candidate._BASELINES.clear()
    stored = candidate.forecast(platform, model, removed, active, ["initiation"], BASELINE, 1)
    candidate._BASELINES.clear()
    fresh = candidate.forecast(platform, {k: v for k, v in model.items() if k != "baselines"}, removed, active,
                               ["initiation"], BASELINE, 1)
    assert stored["stages"] == fresh["stages"]
    assert candidate.stored_baseline(model, "initiation", active, BASELINE + 1, 1) is None  # another n: simulated


def test_forked_workers_never_read_the_calendar_table_and_match_one_process(candidates):
    """The platform's holiday table re-reads its epoch from the database now and then; a forked
    worker that did so would talk over the parent's connection. The simulation takes a snapshot."""
    from app.services.flows.deployments import active_version
    platform, removed, added = candidates
    calendar = platform.calendar
    if not hasattr(calendar, "check_seconds"):
        pytest.skip("the platform's calendar is not read from the database")
    with platform.sessions() as session:
        model = store.current(session)
        assert active_version(session) != removed
    kept, calendar.check_seconds = calendar.check_seconds, 0  # a live table checks at every question
    try:
        forked = candidate.simulate_version(platform, model, "initiation", removed, 3 * candidate.CHUNK, 3, 2)
        alone = candidate.simulate_version(platform, model, "initiation", removed, 3 * candidate.CHUNK, 3, 1)
    finally:
        calendar.check_seconds = kept
    assert forked == alone and all(r.days is not None for r in forked)


def test_a_simulation_past_the_declared_years_counts_weekdays_and_says_so():
    from app.services.forecast.simulate import ASSUMED_YEARS, assumed_years, fixed_calendar
    from engine.calendar import WorkingCalendar
    declared = WorkingCalendar({}, range(2019, 2028))
    last = max(declared.covered_years())
    fixed = fixed_calendar(declared)
    assert assumed_years(declared, fixed) == list(range(last + 1, last + 1 + ASSUMED_YEARS))
    monday = dt.date(last + 1, 1, 1)
    monday += dt.timedelta(days=(7 - monday.weekday()) % 7)
    assert fixed.is_working_day(monday) and not fixed.is_working_day(monday + dt.timedelta(days=5))
    assert fixed.add_working_days(monday, 5) == monday + dt.timedelta(days=7)  # Mon + 5 working days: next Mon
    with pytest.raises(Exception, match=str(last + 1)):
        declared.is_working_day(monday)  # the platform itself never guesses a year


def test_a_simulated_project_past_every_assumed_year_is_given_up_not_fatal(candidates, monkeypatch):
    from app.services.forecast import simulate
    platform, removed, added = candidates
    with platform.sessions() as session:
        model = store.current(session)
    sim = simulate.Simulator(platform, model, candidate.stage_process("initiation"), removed,
                             candidate.np.random.default_rng(1))
    start = model["stages"]["initiation"]["starts"][0]
    last = max(sim.calendar.covered_years())
    ended = sim.run(start, dt.datetime(last, 6, 1, 2, tzinfo=dt.UTC))
    assert ended.days is not None  # inside the years: it ends
    gone = sim.run(start, dt.datetime(last, 12, 31, 8, tzinfo=dt.UTC))  # 16:00 on its last day
    assert gone.days is None and gone.end_event is None  # its first deadline falls past them
    monkeypatch.setattr(sim, "_run", lambda *a: (_ for _ in ()).throw(ValueError("a real fault")))
    with pytest.raises(ValueError):
        sim.run(start, dt.datetime(last, 6, 1, 2, tzinfo=dt.UTC))  # anything else is never swallowed


def test_a_project_that_never_leaves_a_correction_loop_is_given_up_and_counted(candidates, monkeypatch):
    from app.services.forecast import simulate
    platform, removed, added = candidates
    with platform.sessions() as session:
        model = store.current(session)
    plain = candidate.simulate_version(platform, model, "initiation", removed, 10, 4)
    assert not any(r.stuck for r in plain) and candidate.summary(plain)["stuck"] == 0
    real = simulate.outcome_shares
    forced = {"review.schema.json": {"correct": 1.0}, "window_accept.schema.json": {"accept": 1.0}}
    monkeypatch.setattr(simulate, "outcome_shares", lambda m, form, *a: forced.get(form) or real(m, form, *a))
    monkeypatch.setattr(simulate, "MAX_STEPS", 80)  # every accepted application's reviews correct, forever
    looping = candidate.simulate_version(platform, model, "initiation", removed, 10, 4)
    stuck = [r for r in looping if r.stuck]
    assert len(stuck) >= 8 and all(r.days is None and r.end_event is None and r.tasks > 20 for r in stuck)
    summary = candidate.summary(looping)
    assert summary["stuck"] == len(stuck) and summary["ended"] == 10 - len(stuck)


def test_elements_new_in_the_candidate_take_the_analysts_figures_and_say_so(candidates):
    platform, removed, added = candidates
    client, api = _api(platform)
    body = client.post(f"/api/v1/processes/{added}/forecast", json={"n": 40, "stages": ["initiation"]},
                       headers=api.headers).get_json()
    stage = body["stages"][0]
    assert stage["analyst_elements"] == [{"id": "review_new_check", "name": "新增气象论证", "median_days": 4.0,
                                          "p90_days": 6.0, "outcomes": {"approve": 0.9, "correct": 0.1}}]
    assert stage["new_elements"] == [{"id": "review_new_check", "name": "新增气象论证", "analyst": True}]
    assert stage["new"]["analyst_share"] > 0.9  # every accepted application passes the new review
    assert stage["old"]["analyst_share"] == 0
    assert stage["new"]["median"] > stage["old"]["median"]  # a four-day review in parallel slows the stage


def test_the_forecast_refuses_what_it_cannot_do_with_clear_answers(candidates):
    platform, removed, added = candidates
    client, api = _api(platform)
    post = lambda v, body: client.post(f"/api/v1/processes/{v}/forecast", json=body, headers=api.headers)  # noqa: E731
    with platform.sessions() as session:
        from app.services.flows.deployments import active_version
        active = active_version(session)
    assert post(active, {}).status_code == 409
    assert post(999, {}).status_code == 404
    assert post(removed, {"n": 0}).status_code == 422
    assert post(removed, {"n": "many"}).status_code == 422
    assert post(removed, {"stages": ["nowhere"]}).status_code == 422
    assert post(removed, {"async": "yes"}).status_code == 422
    window = _api(platform, "window1")[1]
    assert client.post(f"/api/v1/processes/{removed}/forecast", json={}, headers=window.headers).status_code == 403
    assert client.get(f"/api/v1/processes/{removed}/forecast/nojob", headers=api.headers).status_code == 404


def test_the_activation_page_runs_the_forecast_with_a_progress_bar(candidates):
    import time as clock

    from app import create_app
    from tests.integration.webclient import Pages
    platform, removed, added = candidates
    client = create_app(platform.settings, platform=platform).test_client()
    pages = Pages(client, "analyst1")
    html = pages.get(f"/admin/versions/{removed}/activate").get_data(as_text=True)
    assert 'id="forecast"' in html and "echarts.min.js" in html and 'id="forecast-progress"' in html
    token = pages.token()
    started = client.post(f"/admin/versions/{removed}/forecast", json={"n": 30, "seed": 2},
                          headers={"X-CSRFToken": token})
    assert started.status_code == 202, started.get_json()
    url = started.get_json()["progress_url"]
    for _ in range(600):  # poll as the page does (the result, never the time, is asserted)
        job = client.get(url).get_json()
        assert 0 <= job["done"] <= job["total"] == 60
        if job["status"] != "running":
            break
        clock.sleep(0.2)
    assert job["status"] == "done", job["error"]
    assert job["result"]["stages"][0]["new"]["n"] == 30
    pages.get("/lang/en")
    english = pages.get(f"/admin/versions/{removed}/activate").get_data(as_text=True)
    assert "Forecast before activating" in english
    text = json.loads(english.split('id="ui-text">')[1].split("</script>")[0])
    assert text and all(value != key for key, value in text.items())


def test_a_background_forecast_is_polled_from_another_node_and_matches_the_direct_answer(candidates):
    from app import create_app
    from tests.conftest import Api
    platform, removed, added = candidates
    client, api = _api(platform)
    started = client.post(f"/api/v1/processes/{removed}/forecast", json={"n": 30, "seed": 4, "async": True},
                          headers=api.headers)
    assert started.status_code == 202, started.get_json()
    job_id = started.get_json()["job"]
    node = create_app(platform.settings)  # a second node: its own platform and pool, no shared memory
    other, other_api = node.test_client(), None
    try:
        other_api = Api(other, "analyst1")
        _poll_from_the_other_node(platform, client, api, other, other_api, removed, added, job_id)
    finally:
        node.extensions["platform"].sessions.kw["bind"].dispose()


def _poll_from_the_other_node(platform, client, api, other, other_api, removed, added, job_id):
    import time as clock

    from app.models import ForecastJob
    url = f"/api/v1/processes/{removed}/forecast/{job_id}"
    for _ in range(600):  # poll as a page would (the result, never the time, is asserted)
        job = other.get(url, headers=other_api.headers).get_json()
        assert 0 <= job["done"] <= job["total"] == 60
        if job["status"] != "running":
            break
        clock.sleep(0.2)
    assert job["status"] == "done", job["error"]
    direct = client.post(f"/api/v1/processes/{removed}/forecast", json={"n": 30, "seed": 4}, headers=api.headers)
    assert job["result"] == direct.get_json()  # the row keeps exactly what the direct answer says
    assert job["done"] == 60 and job["n"] == 30 and job["stages"] == ["initiation"]
    with platform.sessions() as session:
        row = session.get(ForecastJob, job_id)
        assert row.started_by == "analyst1" and row.ended_at is not None
    assert other.get(f"/api/v1/processes/{added}/forecast/{job_id}",
                     headers=other_api.headers).status_code == 404  # another version's job is not this one's


def test_a_job_waiting_for_another_forecast_keeps_beating_then_runs(candidates, monkeypatch):
    import time as clock

    from app import forecast_runner
    from app.models import ForecastJob
    platform, removed, added = candidates
    with platform.sessions() as session:
        model = store.current(session)
    monkeypatch.setattr(forecast_runner, "HEARTBEAT_SECONDS", 0.1)
    with candidate._SIMULATING:  # another forecast of this process is simulating
        job_id = forecast_runner.start(platform, model, removed, removed - 1, ["initiation"], 10, 1, 1)
        with platform.sessions() as session:
            first = session.get(ForecastJob, job_id).heartbeat_at
        clock.sleep(0.6)
        with platform.sessions() as session:
            waiting = session.get(ForecastJob, job_id)
            assert waiting.status == "running" and waiting.done == 0 and waiting.heartbeat_at > first
    for _ in range(300):
        with platform.sessions() as session:
            job = session.get(ForecastJob, job_id)
            if job.status != "running":
                break
        clock.sleep(0.1)
    assert job.status == "done" and job.done == 20, job.error


def test_a_job_whose_process_died_is_reported_failed_and_cannot_be_revived(candidates):
    from app.models.base import utcnow
    from app.services.forecast import jobs
    platform, removed, added = candidates
    client, api = _api(platform)
    now = utcnow()  # heartbeats are real time on every node, whatever the platform's clock
    with transaction(platform.sessions) as session:
        jobs.open_job(session, "d" * 32, now - dt.timedelta(seconds=jobs.DEAD_AFTER + 5), version=removed,
                      active=removed - 1, stages=["initiation"], n=10, seed=1, runner="node-b:4242")
        jobs.open_job(session, "e" * 32, now - dt.timedelta(seconds=jobs.DEAD_AFTER - 20), version=removed,
                      active=removed - 1, stages=["initiation"], n=10, seed=1, runner="node-b:4243")
    dead = client.get(f"/api/v1/processes/{removed}/forecast/{'d' * 32}", headers=api.headers).get_json()
    assert dead["status"] == "failed" and "node-b:4242" in dead["error"] and dead["result"] is None
    alive = client.get(f"/api/v1/processes/{removed}/forecast/{'e' * 32}", headers=api.headers).get_json()
    assert alive["status"] == "running" and alive["error"] is None
    with transaction(platform.sessions) as session:
        assert jobs.record(session, "e" * 32, now, error="RuntimeError: stopped") is True
        assert jobs.record(session, "e" * 32, now, done=5) is False  # ended: a late progress write changes nothing
    ended = client.get(f"/api/v1/processes/{removed}/forecast/{'e' * 32}", headers=api.headers).get_json()
    assert ended["status"] == "failed" and ended["error"] == "RuntimeError: stopped" and ended["done"] == 0
    with transaction(platform.sessions) as session:  # a day after it ended, the next job forgets it
        jobs.open_job(session, "f" * 32, now + jobs.KEEP + dt.timedelta(minutes=1), version=removed,
                      active=removed - 1, stages=["initiation"], n=10, seed=1, runner="node-a:1")
    assert client.get(f"/api/v1/processes/{removed}/forecast/{'e' * 32}", headers=api.headers).status_code == 404
    assert client.get(f"/api/v1/processes/{removed}/forecast/{'x' * 400}", headers=api.headers).status_code == 404


# -- the backtest ------------------------------------------------------------------------------------

def test_the_backtest_learns_before_the_cut_and_scores_the_rest(history):
    from app.services.forecast import backtest
    with history.sessions() as session:
        result = backtest.backtest(session, history, simulated=30)
        first = dt.datetime.fromisoformat(result["first"])
        last = dt.datetime.fromisoformat(result["last"])
        cut = dt.datetime.fromisoformat(result["cut"])
        before = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.started_at < cut))
    assert abs((cut - first) / (last - first) - 0.8) < 1e-6
    assert result["model_instances"] == before
    stage = next(s for s in result["stages"] if s["stage"] == "initiation")
    real, fc, naive = stage["real"], stage["forecast"], stage["naive"]
    assert fc["median_error"] == pytest.approx((fc["median"] - real["median"]) / real["median"], abs=0.01)
    assert naive["median"] == naive["p90"] and naive["emd"] >= 0 and fc["emd"] >= 0
    assert stage["simulated_n"] >= 30 * 0.8
    assert real["median_ci"][0] <= real["median"] <= real["median_ci"][1]
    assert real["p90_ci"][0] <= real["p90"] <= real["p90_ci"][1]
    # a small held-out sample is not scored: its own median is known only to a wide interval
    assert stage["counts"] == (stage["real_n"] >= backtest.MIN_HELD_OUT
                               and real["median_resolution"] <= backtest.TARGETS["median"])
    assert "initiation" in backtest.table(result)


def test_the_held_out_medians_interval_narrows_with_the_sample():
    from app.services.forecast import backtest
    rng = backtest.np.random.default_rng(7)

    def bimodal(n):
        return backtest.np.concatenate([rng.uniform(1, 2.5, n // 2), rng.uniform(4, 20, n - n // 2)])
    small = backtest._compare(bimodal(200), bimodal(400), 4.8)["real"]
    large = backtest._compare(bimodal(3000), bimodal(400), 4.8)["real"]
    assert small["median_resolution"] > backtest.TARGETS["median"]  # 200 cannot resolve ±15 % between modes
    assert large["median_resolution"] < small["median_resolution"] / 2


def test_the_commands_learn_and_backtest(history, tmp_path):
    from app import create_app
    runner = create_app(history.settings, platform=history).test_cli_runner()
    history.clock = lambda: ENDS
    try:
        learnt = runner.invoke(args=["forecast", "learn"])
    finally:
        from app.platform import system_clock
        history.clock = system_clock
    assert learnt.exit_code == 0, learnt.output
    assert "forecast model" in learnt.output and "stage applications" in learnt.output
    out = tmp_path / "backtest.json"
    tested = runner.invoke(args=["forecast", "backtest", "--simulated", "20", "--json", str(out)])
    assert tested.exit_code == 0, tested.output
    assert "initiation" in tested.output and "targets: median within ±15 %" in tested.output
    assert json.loads(out.read_text())["stages"][0]["stage"] == "initiation"


def test_the_applicants_own_project_page_shows_the_eta(with_model):
    from app import create_app
    from app.models import Project, User
    from tests.integration.webclient import Pages
    platform, code, at = with_model
    with transaction(platform.sessions) as session:  # the running project becomes applicant1's enterprise's
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        session.scalar(select(Project).where(Project.code == code)).enterprise_id = applicant.enterprise_id
    platform.clock = lambda: at
    try:
        client = create_app(platform.settings, platform=platform).test_client()
        page = Pages(client, "applicant1").get(f"/portal/projects/{code}").get_data(as_text=True)
    finally:
        from app.platform import system_clock
        platform.clock = system_clock
    assert 'class="eta-stage" data-stage="initiation"' in page and "最迟约" in page


def test_tolerance_acceptance_is_simulated_only_where_a_material_may_be_missing(backend_platform, monkeypatch):
    """容缺受理 needs a tolerable material among the decided items; the simulation follows the rule."""
    from app.services.catalogue.gaps import tolerable_materials
    from app.services.forecast import simulate
    platform = backend_platform
    items = list(platform.catalog.items)

    def plan(item):
        return [{"code": item.code, "commitment": False}]

    def opens(item):
        return bool(tolerable_materials(platform, [simulate.SimpleNamespace(item_code=item.code, mode="review")]))
    tolerant = next(i for i in items if opens(i))
    strict = next(i for i in items if not opens(i))
    sim = simulate.Simulator.__new__(simulate.Simulator)  # only answer() is exercised: no spec needed
    sim.platform, sim.rng, sim.clock = platform, candidate.np.random.default_rng(3), simulate.SimClock(ENDS)
    view = simulate.SimpleNamespace(form="window_accept.schema.json")
    for item, expected in ((tolerant, True), (strict, False)):
        monkeypatch.setattr(simulate, "decided_items", lambda workflow, item=item: plan(item))
        answer = sim.answer(view, "accept", 1.0, workflow=object())
        assert answer.get("tolerance_acceptance", False) is expected, item.code
        if expected:
            assert answer["tolerated_materials"][0] in tolerable_materials(
                platform, [simulate.SimpleNamespace(item_code=item.code, mode="review")])

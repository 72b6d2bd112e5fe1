"""(e) Data at ten times the seed's scale, and the server time of three pages.

The generator fills a database with ``projects`` projects (default 200,000),
two item handlings each (400,000) with their tasks and audit events, 56,450
enterprises and the 331 units, using bulk inserts (SQLAlchemy Core), not the
services.  The rows copy one real stage-1 instance that the services ran up to
the department reviews (its tasks, items and routing), but not its serialized
state: a stage-1 state is about 90 KB, 18 GB at this scale.  None of the three
pages loads a state, nor does the diagram marks request (it reads the marks
every save writes beside the state), so they are measured exactly as in
production; the marks request is timed separately on the real instance.

It then times, through the Flask test client (server time, no network), the
officer's inbox page, a project's page (progress, diagram marks, history) and
the progress-by-code query, and reports each p95 against the target.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import statistics
import time
from collections.abc import Callable

from sqlalchemy import insert, select, text

from app import create_app
from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.models import Enterprise, HumanTask, ItemHandling, ProcessInstance, Project, Unit, User
from app.services.people import projects
from app.services.provisioning import demo, reference
from app.services.trail import audit
from app.services.workflow import instances
from app.stages import BY_KEY
from app.wiring import build_platform
from engine.codes import check_character
from engine.credit import ALPHABET, credit_check_character

from .report import Report

ENTERPRISES = 56_450
BATCH = 5_000
SAMPLES = 120


def p95(values: list[float]) -> float:
    """The 95th percentile of a list of timings."""
    return statistics.quantiles(values, n=20)[-1] if len(values) >= 20 else max(values)


def credit_code(n: int) -> str:
    """A valid unified social credit code numbered ``n``."""
    body = f"91460100{n:09d}"
    head = body[:8] + "".join(ALPHABET[int(c)] for c in body[8:])
    return head + credit_check_character(head)


def project_code(year: int, division: str, n: int) -> str:
    """A valid national project code numbered ``n``."""
    digits = f"{year}{division[:6]}4802{n % 100000:05d}"
    return f"{year}-{division[:6]}-48-02-{n % 100000:05d}{check_character(digits)}"


def template(platform, applicant_id: int) -> tuple[dict, list[dict]]:
    """One real stage-1 instance run by the services to its reviews: its row and open tasks."""
    with transaction(platform.sessions) as session:
        applicant = session.get(User, applicant_id)
        project = projects.create_project(session, platform, applicant, {
            "name": "模板项目", "division": "460100", "investment_type": "ratification"})
        data = demo.stage_application(BY_KEY["initiation"], project, platform.now().date())
        demo.supply_materials(session, platform, applicant, project, BY_KEY["initiation"], data)
        instance = projects.apply_for_stage(session, platform, applicant, project.code, "initiation", data)
        window = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                         HumanTask.status == "open")).first()
        actor = demo.actor_for(session, window)
        instances.complete_task(session, platform, window.id, {"outcome": "accept", "opinion": "同意"}, actor)
        session.refresh(instance)
        row = {c: getattr(instance, c) for c in ("stage_key", "process_id", "spec_key", "state",
                                                 "serializer_version", "application", "marks")}
        tasks = [{c: getattr(t, c) for c in ("task_id", "spec_name", "title", "process_id", "lane_role", "form",
                                             "item_code")}
                 for t in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                                  HumanTask.status == "open"))]
    return row, tasks


def _flush(session, model, rows: list[dict]) -> None:
    if rows:
        session.execute(insert(model.__table__), rows)
        rows.clear()


def generate(platform, n_projects: int, say: Callable[[str], None] = print, enterprises: int = ENTERPRISES) -> None:
    """Fill the database: enterprises, projects, one stage-1 instance each, handlings, tasks, audit."""
    rng = random.Random(20260302)
    with transaction(platform.sessions) as session:
        applicant_id = session.scalar(select(User.id).where(User.username == "applicant1"))
    instance_row, task_rows = template(platform, applicant_id)
    by_lane = {t["lane_role"]: t for t in task_rows if t["item_code"]}  # two departments' reviews
    review_tasks = list(by_lane.values())[:2] or task_rows[:2]
    now = platform.now()
    start = time.perf_counter()
    with transaction(platform.sessions) as session:
        divisions = [d.code for d in platform.catalog.divisions if d.level != "province"]
        route = {(r, d): session.scalar(select(Unit.id).where(Unit.code == platform.catalog.route(r, d).code))
                 for r in {t["lane_role"] for t in review_tasks} for d in divisions}
        first = (session.scalar(select(Enterprise.id).order_by(Enterprise.id.desc())) or 0) + 1
        rows = [{"id": first + i, "name": f"海南测试建设{i:05d}有限公司", "credit_code": credit_code(i),
                 "created_at": now} for i in range(enterprises)]
        for i in range(0, len(rows), BATCH):
            _flush(session, Enterprise, rows[i:i + BATCH])
        enterprise_ids = [first + i for i in range(enterprises)]
    say(f"    {enterprises} enterprises in {time.perf_counter() - start:.0f} s")
    next_id = {}
    with transaction(platform.sessions, write=False) as session:
        for model in (Project, ProcessInstance, ItemHandling, HumanTask):
            next_id[model] = (session.scalar(select(model.id).order_by(model.id.desc())) or 0) + 1
    for offset in range(0, n_projects, BATCH):
        with transaction(platform.sessions) as session:
            _batch(session, rng, next_id, offset, min(BATCH, n_projects - offset), enterprise_ids, divisions,
                   route, instance_row, review_tasks, now)
        if (offset // BATCH) % 8 == 0:
            say(f"    {offset + BATCH} projects ({time.perf_counter() - start:.0f} s)")
    with transaction(platform.sessions) as session:
        if session.get_bind().dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for model in (Enterprise, Project, ProcessInstance, ItemHandling, HumanTask):
                table = model.__tablename__
                session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                     f"(SELECT max(id) FROM {table}))"))
        else:
            session.execute(text("ANALYZE"))
    engine = platform.sessions.kw["bind"]
    if engine.dialect.name == "postgresql":  # as autovacuum would: statistics and the visibility map
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    say(f"    generated {n_projects} projects in {time.perf_counter() - start:.0f} s")


def _batch(session, rng, next_id, offset, count, enterprise_ids, divisions, route, instance_row, review_tasks,
           now) -> None:
    """One batch of projects with their instance, two handlings, their tasks and audit events."""
    projects_, instances_, handlings, tasks_, events = [], [], [], [], []
    for k in range(count):
        n = offset + k
        pid, iid = next_id[Project] + n, next_id[ProcessInstance] + n
        division = rng.choice(divisions)
        created = now - dt.timedelta(days=rng.randint(1, 700), minutes=rng.randint(0, 1440))
        code = project_code(2020 + n // 100000, division, n)
        projects_.append({"id": pid, "code": code, "name": f"测试项目{n:06d}",
                          "enterprise_id": rng.choice(enterprise_ids), "division_code": division, "flow_type": 3,
                          "investment_type": "ratification", "created_at": created})
        running = rng.random() < 0.3
        instances_.append({"id": iid, "project_id": pid, **instance_row, "state": "{}", "version": 1,
                           "status": "running" if running else "approved", "started_at": created,
                           "completed_at": None if running else created + dt.timedelta(days=20)})
        events.append({"at": created, "project_code": code, "engineering_code": code, "kind": "project_declared",
                       "detail": "{}"})
        events.append({"at": created, "project_code": code, "engineering_code": code, "instance_id": iid,
                       "kind": "stage_started",
                       "detail": '{"stage": "initiation"}'})
        for j, task in enumerate(review_tasks):
            hid, tid = next_id[ItemHandling] + 2 * n + j, next_id[HumanTask] + 2 * n + j
            unit = route[(task["lane_role"], division)]
            due = created + dt.timedelta(days=28)
            handlings.append({"id": hid, "project_id": pid, "instance_id": iid, "project_code": code,
                              "item_code": task["item_code"] or "S1-EIA", "unit_id": unit,
                              "state": 8 if running else 11, "accepted_at": created, "due_at": due,
                              "finished_at": None if running else created + dt.timedelta(days=15)})
            tasks_.append({"id": tid, "instance_id": iid, "project_id": pid, **task, "unit_id": unit,
                           "status": "open" if running else "completed", "created_at": created, "due_at": due})
    for model, rows in ((Project, projects_), (ProcessInstance, instances_), (ItemHandling, handlings),
                        (HumanTask, tasks_)):
        _flush(session, model, rows)
    audit.append_many(session, events)  # in the hash chain, as the services would have written them


def logged_in(app, username: str):
    """A test client logged in through the login form (with its CSRF token)."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": reference.DEMO_PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def _timed(client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        begin = time.perf_counter()
        response = client.get(path)
        out.append((time.perf_counter() - begin) * 1000)
        assert response.status_code == 200, (path, response.status_code, response.get_data(as_text=True)[:300])
    return out


def measure(report: Report, platform, label: str) -> None:
    """p95 server time of the inbox page, a project's page and the progress-by-code query."""
    app = create_app(platform.settings, platform=platform)
    rng = random.Random(7)
    with transaction(platform.sessions, write=False) as session:
        # projects the officer may open: a task of theirs was routed to the officer's unit
        unit_id = session.scalar(select(User.unit_id).where(User.username == "drc_haikou"))
        codes = list(session.scalars(select(Project.code).where(Project.id.in_(
            select(HumanTask.project_id).where(HumanTask.unit_id == unit_id))).order_by(Project.id).limit(5000)))
    officer, reviewer, public = logged_in(app, "drc_haikou"), logged_in(app, "planning_haikou"), app.test_client()
    samples = [rng.choice(codes) for _ in range(SAMPLES)]
    _timed(officer, ["/officer/", f"/officer/projects/{codes[0]}"])  # warm up: templates compiled once
    _timed(public, [f"/public/query?code={codes[0]}"])
    inbox = _timed(officer, [f"/officer/?page={1 + i % 5}" for i in range(SAMPLES // 2)]) + \
        _timed(reviewer, ["/officer/" for _ in range(SAMPLES // 2)])
    project = _timed(officer, [f"/officer/projects/{c}" for c in samples])
    query = _timed(public, [f"/public/query?code={c}" for c in samples])
    report.add(f"scale_{label}_inbox_page_p95_ms", p95(inbox), "ms", "<= 100")
    report.add(f"scale_{label}_project_page_p95_ms", p95(project), "ms", "<= 100")
    report.add(f"scale_{label}_progress_by_code_p95_ms", p95(query), "ms", "<= 100")
    with transaction(platform.sessions, write=False) as session:
        real = session.scalars(select(ProcessInstance).where(ProcessInstance.state != "{}")
                               .order_by(ProcessInstance.id)).first()
        real_code = real.project.code
    marks = _timed(officer, [f"/officer/projects/{real_code}/diagram/{real.id}/marks" for _ in range(40)])
    report.add(f"scale_{label}_diagram_marks_p95_ms", p95(marks), "ms", "<= 30" if label == "postgres" else "",
               "read from the instance row's marks")


def make_platform(url: str):
    """A migrated platform with the catalogue, the first deployment and the demo accounts."""
    upgrade(url)
    platform = build_platform(Settings.from_env(DATABASE_URL=url, SECRET_KEY=secrets.token_urlsafe(32)))
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
        reference.deploy_initial(session, platform)
        reference.seed_demo(session, platform)
    return platform


def run(report: Report, sqlite_url: str, postgres_url: str | None, n_projects: int = 200_000) -> None:
    """Generate at scale on each backend and measure the three pages."""
    for label, url in (("sqlite", sqlite_url), ("postgres", postgres_url)):
        if not url:
            continue
        print(f"  {label}: generating {n_projects} projects")
        platform = make_platform(url)
        generate(platform, n_projects, say=print)
        measure(report, platform, label)
        platform.sessions.kw["bind"].dispose()

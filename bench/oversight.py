"""(f) The supervision dashboard's queries on the seed-scale history, each one's p95 (PostgreSQL).

The history is made by ``flask seed-history``'s generator (the real engine on a
simulated clock): ``SAMPLE`` projects in a fresh schema, then their rows
(projects, stage instances without their states, item handlings, tasks and
notices) are copied with new ids and codes until the seed's 20,247 projects are
there (41,363 item handlings expected, about 2 per project).  Generating all of
them through the engine takes about half an hour (``BENCH_HISTORY_FULL=1``); the
dashboard's queries read only these rows, so they are timed as
they would be.  With ``BENCH_HISTORY_URL`` the queries are timed on that
database as it is instead (e.g. one that ``flask seed-history`` filled).  With
``BENCH_HISTORY_FULL=1`` the seed's 20,247 projects are generated in full, as the
command does (one process per core; about half an hour), and the run's minutes
and totals are reported against the seed's before the queries are timed on it.

Each query runs for the three scopes (the province, 海口 and one unit) under
random filters (a year, a quarter or no period; a division; a flow type; a
stage) and its p95 is reported against the issue's target of 200 ms.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import random
import secrets
import time

from sqlalchemy import func, select, text

from app import create_app
from app.config import Settings
from app.db import transaction
from app.history_cli import _scope_for
from app.models import ItemHandling, Project, Unit
from app.services.oversight import figures
from app.services.oversight.scope import CITY, PROVINCE, UNIT, Filters, Scope, city_divisions
from app.services.provisioning import history_run
from app.services.provisioning.history import SEED_PROJECTS
from app.stages import BY_KEY
from app.wiring import build_platform

from .report import Report
from .scale import logged_in, make_platform, p95

SAMPLE = int(os.environ.get("BENCH_HISTORY_SAMPLE", "400"))
RUNS = 40
ENDS = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)
#: Tables copied to reach the seed's scale: (table, {column: table whose id it references}).
COPIED = (("project", {"id": "project"}),
          ("process_instance", {"id": "process_instance", "project_id": "project"}),
          ("item_handling", {"id": "item_handling", "project_id": "project", "instance_id": "process_instance"}),
          ("human_task", {"id": "human_task", "project_id": "project", "instance_id": "process_instance",
                          "handling_id": "item_handling"}),
          ("supervision_notice", {"id": "supervision_notice", "handling_id": "item_handling"}))


def sample_history(platform, projects: int) -> float:
    """Generate ``projects`` projects with the real generator; the seconds it took."""
    begin = time.perf_counter()
    scope = _scope_for(platform)
    with scope() as session:
        run = history_run.begin(session, platform, projects, 2, 2019, 1, ENDS)
    history_run.work(scope, platform, run.id, 0)
    with scope() as session:
        history_run.finish(session, platform, session.get(type(run), run.id))
    return time.perf_counter() - begin


def copy_to_seed_scale(platform, target: int = SEED_PROJECTS) -> int:
    """Copy the generated rows until ``target`` projects exist; how many copies were made."""
    engine = platform.sessions.kw["bind"]
    with engine.begin() as conn:
        present = conn.scalar(text("SELECT count(*) FROM project"))
        top = {t: conn.scalar(text(f"SELECT coalesce(max(id), 0) FROM {t}")) for t, _ in COPIED}
        columns = {t: [r[0] for r in conn.execute(text(
            "SELECT column_name FROM information_schema.columns WHERE table_name = :t "
            "AND table_schema = current_schema() ORDER BY ordinal_position"), {"t": t})] for t, _ in COPIED}
    copies = max(0, -(-(target - present) // present))
    for k in range(1, copies + 1):
        with engine.begin() as conn:
            for table, refs in COPIED:
                exprs = []
                for c in columns[table]:
                    if c in refs:
                        exprs.append(f"{c} + {k * top[refs[c]]}")
                    elif table == "project" and c == "code":
                        exprs.append(f"left(code, 19) || lpad(((id + {k * top['project']}) % 100000)::text, 5, '0')"
                                     f" || '{k % 10}'")
                    elif c == "project_code":
                        exprs.append(f"left(project_code, 19) || lpad(((project_id + {k * top['project']}) % 100000)"
                                     f"::text, 5, '0') || '{k % 10}'" if table != "supervision_notice"
                                     else "project_code")
                    elif table == "process_instance" and c == "state":
                        exprs.append("'{}'")  # the dashboard never reads a state
                    else:
                        exprs.append(c)
                conn.execute(text(f"INSERT INTO {table} ({', '.join(columns[table])}) SELECT {', '.join(exprs)} "
                                  f"FROM {table} WHERE id <= {top[table]}"))
        with engine.begin() as conn:
            if conn.scalar(text("SELECT count(*) FROM project")) >= target:
                copies = k
                break
    with engine.begin() as conn:
        excess = conn.scalar(text("SELECT count(*) FROM project")) - target
        if excess > 0:  # trim to the seed's count exactly: drop the last copy's newest projects
            ids = f"SELECT id FROM project ORDER BY id DESC LIMIT {excess}"
            conn.execute(text(f"DELETE FROM supervision_notice WHERE handling_id IN (SELECT id FROM item_handling "
                              f"WHERE project_id IN ({ids}))"))
            for table in ("human_task", "item_handling", "process_instance"):
                conn.execute(text(f"DELETE FROM {table} WHERE project_id IN ({ids})"))
            conn.execute(text(f"DELETE FROM project WHERE id IN ({ids})"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
    return copies


def _filters(rng: random.Random, scope: Scope, platform) -> Filters:
    year = rng.choice([None, 2025, 2026])
    begins = ends = None
    if year:
        if rng.random() < 0.5:
            q = rng.randrange(4)
            begins, ends = dt.date(year, 3 * q + 1, 1), dt.date(year + (q == 3), (3 * q + 3) % 12 + 1, 1)
            ends -= dt.timedelta(days=1)
        else:
            begins, ends = dt.date(year, 1, 1), dt.date(year, 12, 31)
    divisions = list(scope.divisions) if scope.level == CITY else [
        d.code for d in platform.catalog.divisions if d.level != "province"]
    division = rng.choice(divisions) if scope.level != UNIT and rng.random() < 0.3 else None
    flow_type = rng.choice(range(1, 11)) if rng.random() < 0.3 else None
    stage = rng.choice(list(BY_KEY)) if rng.random() < 0.3 else None
    return Filters(begins, ends, division, flow_type, stage)


QUERIES = {
    "summary": lambda s, p, sc, f: figures.summary(s, p, sc, f),
    **{f"durations_{by}": functools.partial(lambda by, s, p, sc, f: figures.durations(s, p, sc, f, by), by)
       for by in figures.GROUPINGS},
    "trend": lambda s, p, sc, f: figures.trend(s, p, sc, f),
    "overdue": lambda s, p, sc, f: figures.overdue(s, p, sc, f),
    "notices": lambda s, p, sc, f: figures.notices(s, p, sc),
}


def measure(report: Report, platform, label: str) -> None:
    """Each dashboard query's p95 over scopes and filters; the whole page's p95 for a city supervisor."""
    with transaction(platform.sessions, write=False) as session:
        unit_id = session.scalar(select(ItemHandling.unit_id).group_by(ItemHandling.unit_id)
                                 .order_by(func.count().desc()).limit(1))
        unit_name = session.scalar(select(Unit.name).where(Unit.id == unit_id))
        projects = session.scalar(select(func.count(Project.id)))
        items = session.scalar(select(func.count(ItemHandling.id)))
    print(f"    {projects} projects, {items} item handlings")
    report.add(f"oversight_{label}_history_projects", projects, "projects", "", "dashboard bench data")
    report.add(f"oversight_{label}_history_item_handlings", items, "items", "", "seed: 41,363")
    scopes = [Scope(PROVINCE, name="海南省"), Scope(CITY, divisions=city_divisions(platform, "460100"), name="海口市"),
              Scope(UNIT, unit_id=unit_id, name=unit_name)]
    rng = random.Random(12)
    timings = {name: [] for name in QUERIES}
    for _ in range(RUNS):
        for scope in scopes:
            filters = _filters(rng, scope, platform) if rng.random() < 0.7 else Filters()
            with transaction(platform.sessions, write=False) as session:
                for name, query in QUERIES.items():
                    begin = time.perf_counter()
                    query(session, platform, scope, filters)
                    timings[name].append((time.perf_counter() - begin) * 1000)
    for name, values in timings.items():
        report.add(f"oversight_{label}_{name}_p95_ms", p95(values), "ms", "<= 200")
    app = create_app(platform.settings, platform=platform)
    client = logged_in(app, "supervisor1")
    client.get("/oversight/")  # templates compiled once
    pages = []
    for _ in range(20):
        begin = time.perf_counter()
        assert client.get("/oversight/").status_code == 200
        pages.append((time.perf_counter() - begin) * 1000)
    report.add(f"oversight_{label}_dashboard_page_p95_ms", p95(pages), "ms", "", "海口 supervisor, every figure")


def run(report: Report, postgres_url: str | None) -> None:
    """Build the seed-scale history (or take ``BENCH_HISTORY_URL``) and time the dashboard's queries."""
    given = os.environ.get("BENCH_HISTORY_URL")
    if given:
        platform = build_platform(Settings.from_env(DATABASE_URL=given, SECRET_KEY=secrets.token_urlsafe(32)))
        measure(report, platform, "given")
        return
    if not postgres_url:
        return
    if os.environ.get("BENCH_HISTORY_FULL") == "1":
        full_history(report, postgres_url)
        return
    platform = make_platform(postgres_url)
    print(f"  generating {SAMPLE} projects with the real engine")
    seconds = sample_history(platform, SAMPLE)
    report.add("history_generation_projects_per_s", SAMPLE / seconds, "projects/s", "",
               f"{SAMPLE} projects, one worker, PostgreSQL")
    report.add("history_generation_seed_scale_estimate_min", SEED_PROJECTS / (SAMPLE / seconds) / 60, "min",
               "", "20,247 projects at this rate with one worker (BENCH_HISTORY_FULL=1 measures the real run)")
    copies = copy_to_seed_scale(platform)
    print(f"  copied the sample {copies} times")
    measure(report, platform, "postgres")
    platform.sessions.kw["bind"].dispose()


def full_history(report: Report, postgres_url: str) -> None:
    """``BENCH_HISTORY_FULL=1``: the seed's 20,247 projects generated as ``flask seed-history`` does
    (one process per core), its minutes and totals against the seed's, then the queries on it."""
    from app.history_cli import default_workers, generate
    from app.models import Enterprise
    from app.services.provisioning.history import SEED_ENTERPRISES, SEED_ITEMS
    platform = make_platform(postgres_url)
    workers = default_workers()
    print(f"  generating {SEED_PROJECTS:,} projects with the real engine, {workers} processes")
    done = generate(platform, SEED_PROJECTS, 2, 2019, workers, ENDS, echo=print)
    report.add("history_generation_seed_scale_min", done["seconds"] / 60, "min", "<= 30",
               f"{SEED_PROJECTS:,} projects, {workers} processes, PostgreSQL; {_load()}")
    with transaction(platform.sessions, write=False) as session:
        items = session.scalar(select(func.count(ItemHandling.id)))
        enterprises = session.scalar(select(func.count(Enterprise.id)).where(
            Enterprise.credit_code.startswith("91469000")))
    report.add("history_item_handlings_vs_seed", abs(items / SEED_ITEMS - 1) * 100, "%", "<= 10",
               f"{items:,} generated, seed {SEED_ITEMS:,}")
    report.add("history_enterprises_vs_seed", abs(enterprises / SEED_ENTERPRISES - 1) * 100, "%", "<= 10",
               f"{enterprises:,} generated, seed {SEED_ENTERPRISES:,}")
    measure(report, platform, "generated")
    platform.sessions.kw["bind"].dispose()


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f}/{five:.1f} on {os.cpu_count()} cores"

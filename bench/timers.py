"""Timers at scale on PostgreSQL: one scheduler tick's claim, and how late real timers fire.

(a) 100,000 pending timers and 1,000 due ones, inserted as instance rows: the
    time one scheduler tick takes to find and claim the due ones
    (``TimerWorker.claim`` with a batch of 1,000: select ``FOR UPDATE SKIP
    LOCKED``, write owner and expiry, commit), median of five ticks;
(b) real timer workflows (``timer_bench`` of tests/fixtures/timers.bpmn, due
    over the next ~20 seconds) fired by a real scheduler process
    (``flask scheduler``, the one ``make run`` starts), beside the 100,000
    pending rows: the delay between each timer's due time and its firing
    (the ``timers_fired`` audit record written by the scheduler).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import delete, func, select, text, update

from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.models import AuditEvent, Deployment, DeploymentFile, Division, Enterprise, ProcessInstance, Project
from app.scheduler import TimerWorker
from app.services.workflow import instances
from app.wiring import build_platform

from .report import Report

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "timers.bpmn"
PENDING, DUE, REAL = 100_000, 1_000, 300


def _projects(platform) -> tuple[int, int]:
    """Two projects: one owning the inserted rows, one the real timer workflows."""
    with transaction(platform.sessions) as session:
        session.add(Division(code="460100", name="海口市", level="city", parent_code="460000", concentrated=True))
        enterprise = Enterprise(name="基准企业", credit_code="91460100MA5TBENCH1")
        session.add(enterprise)
        session.flush()
        ids = []
        for code in ("2026-460100-48-02-000099", "2026-460100-48-02-000100"):
            project = Project(code=code, name="定时器基准项目", enterprise_id=enterprise.id, division_code="460100",
                              investment_type="ratification", created_at=platform.now())
            session.add(project)
            session.flush()
            ids.append(project.id)
        return ids[0], ids[1]


def _insert_rows(platform, project_id: int) -> None:
    """101,000 timer rows: 1,000 already due, scattered among 100,000 due from tomorrow on.

    Due rows lie among pending ones as they would in a live table (instances
    are created at all times, their timers fall due at all times); none of the
    pending ones falls due during the run.
    """
    total, spacing = PENDING + DUE, (PENDING + DUE) // DUE
    insert = text("""
        INSERT INTO process_instance (project_id, stage_key, process_id, spec_key, state, serializer_version,
                                      version, status, application, next_timer_at, started_at)
        SELECT :project, 'bench', 'timer_bench', 'timer_bench@1', '{}', 'hn-1', 1, 'running', '{}',
               CASE WHEN g % :spacing = 0 AND g / :spacing <= :due
                    THEN CAST(:now AS timestamptz) - g * interval '1 millisecond'
                    ELSE CAST(:now AS timestamptz) + interval '1 day' + g * interval '1 second' END,
               CAST(:now AS timestamptz)
        FROM generate_series(1, :total) AS g""")
    with transaction(platform.sessions) as session:
        session.execute(insert, {"project": project_id, "now": platform.now(), "spacing": spacing, "due": DUE,
                                 "total": total})
    with platform.sessions.kw["bind"].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("ANALYZE process_instance"))


def claim_tick_ms(platform, project_id: int) -> float:
    """(a): median milliseconds of one tick claiming the 1,000 due among 100,000 pending."""
    _insert_rows(platform, project_id)
    platform.settings.SCHEDULER_BATCH = DUE
    samples = []
    for n in range(5):
        worker = TimerWorker(platform, owner=f"bench-{n}")
        began = time.perf_counter()
        claimed = worker.claim()
        samples.append((time.perf_counter() - began) * 1000)
        assert len(claimed) == DUE, f"claimed {len(claimed)} of {DUE}"
        with transaction(platform.sessions) as session:  # give them back for the next sample
            session.execute(update(ProcessInstance).where(ProcessInstance.id.in_(claimed))
                            .values(timer_owner=None, timer_claim_expires=None))
    with transaction(platform.sessions) as session:
        session.execute(delete(ProcessInstance).where(ProcessInstance.next_timer_at <= platform.now()))
    print("  claim samples (ms):", ", ".join(f"{v:.1f}" for v in samples))
    return statistics.median(samples)


def _deploy_fixture(platform) -> int:
    files = {"fixtures/timers.bpmn": FIXTURE.read_bytes()}
    with transaction(platform.sessions) as session:
        version = (session.scalar(select(func.max(Deployment.version))) or 0) + 1
        deployment = Deployment(version=version, content_hash=hashlib.sha256(files["fixtures/timers.bpmn"])
                                .hexdigest(), author="bench", comment="timer fixtures", active=False,
                                created_at=platform.now())
        deployment.files = [DeploymentFile(path=p, content=c) for p, c in files.items()]
        session.add(deployment)
    return version


def _scheduler(url: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "app"}
    log = open(os.environ.get("BENCH_SCHEDULER_LOG", os.devnull), "w")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "scheduler"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def firing_delays(platform, url: str, project_id: int) -> list[float]:
    """(b): seconds between due time and firing of real timers, fired by a scheduler process."""
    version = _deploy_fixture(platform)
    process = _scheduler(url)
    dues = {}
    try:
        first_due = platform.now() + dt.timedelta(seconds=8)
        for batch in range(0, REAL, 25):  # committed in small batches: the scheduler sees them at once
            with transaction(platform.sessions) as session:
                project = session.get(Project, project_id)
                for n in range(batch, min(batch + 25, REAL)):
                    due = first_due + dt.timedelta(seconds=20 * n / REAL)
                    instance = instances.start_process(session, platform, project, "bench", "timer_bench",
                                                       {"due": due.isoformat()}, None, version=version)
                    dues[instance.id] = due
        deadline = max(dues.values()) + dt.timedelta(seconds=30)
        while platform.now() < deadline:
            time.sleep(0.5)
            with transaction(platform.sessions, write=False) as session:
                done = session.scalar(select(func.count(ProcessInstance.id)).where(
                    ProcessInstance.id.in_(dues), ProcessInstance.status != "running"))
            if done == len(dues):
                break
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    with transaction(platform.sessions, write=False) as session:
        fired = {row[0]: row[1] for row in session.execute(select(AuditEvent.instance_id, func.min(AuditEvent.at))
                 .where(AuditEvent.kind == "timers_fired", AuditEvent.instance_id.in_(dues))
                 .group_by(AuditEvent.instance_id))}
    missing = len(dues) - len(fired)
    if missing:
        print(f"  {missing} of {len(dues)} timers did not fire within 30 s of the last due time")
    return [(fired[i] - dues[i]).total_seconds() for i in fired] + [float("inf")] * missing


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def run(report: Report, pg_url: str | None) -> None:
    """Both figures on a fresh PostgreSQL schema (skipped without PostgreSQL)."""
    if pg_url is None:
        print("  PostgreSQL is not available: the timer figures are skipped")
        return
    upgrade(pg_url)
    platform = build_platform(Settings.from_env(DATABASE_URL=pg_url))
    try:
        rows_project, real_project = _projects(platform)
        report.add(f"timers: one tick claims {DUE:,} due among {PENDING:,} pending (PostgreSQL)",
                   claim_tick_ms(platform, rows_project), "ms", "<= 25", "median of 5 ticks")
        delays = firing_delays(platform, pg_url, real_project)
        report.add(f"timers: firing delay p50 ({REAL} timers, scheduler process)", _percentile(delays, 0.5), "s")
        report.add(f"timers: firing delay p99 ({REAL} timers, scheduler process)", _percentile(delays, 0.99), "s",
                   "<= 2", f"max {max(delays):.2f} s, interval {platform.settings.SCHEDULER_INTERVAL_SECONDS} s")
    finally:
        platform.sessions.kw["bind"].dispose()

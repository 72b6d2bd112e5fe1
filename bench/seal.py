"""The seal and the trail: render + sign one result; verify a 100,000-row audit chain.

(a) One stage result with five items rendered (fpdf2, Noto Serif CJK, PDF/A-2b, QR code, seal)
    and signed (PAdES, pyHanko, ECDSA P-256): median of 20 after one warm-up (the first
    document of a process also parses the font once).
(b) ``flask audit verify``'s work (``trail.audit.verify_chain``) over 100,000 chained rows
    written the way ``audit.record`` writes them, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from app.config import Settings
from app.db import make_engine, make_session_factory, transaction
from app.migrations import upgrade
from app.services.seal import certs, documents
from app.services.trail import audit

from .report import Report

ROWS = 100_000
ITEMS = [("S1-PROJ-APPROVAL", "企业投资项目核准", "海口市行政审批服务局"),
         ("S1-LAND-PRE", "建设项目用地预审与选址意见书核发", "海口市行政审批服务局"),
         ("S1-LAND-PERMIT", "建设用地规划许可证核发", "海口市行政审批服务局"),
         ("S1-EIA", "建设项目环境影响评价审批", "海口市行政审批服务局"),
         ("S1-ENERGY", "固定资产投资项目节能审查", "海口市行政审批服务局")]


class _Platform:
    def __init__(self, settings):
        self.settings = settings


def _facts() -> dict:
    return {"kind": "result", "number": "琼审2026-000123", "cert_id": "HN2026BENCH0000001",
            "project_code": "2026-460100-47-01-000123", "project_name": "椰林湾综合楼项目",
            "engineering_code": "2026-460100-47-01-000123", "applicant": "海南椰林建设发展有限公司",
            "credit_code": "91460100MA5T00001L", "stage": "initiation", "stage_name": "立项用地规划许可",
            "unit": "海口市行政审批服务局", "unit_code": "BENCH", "date": "2026-12-02", "delivery": "electronic",
            "note": "", "items": [{"item_code": c, "item_name": n, "department": "发展改革", "unit_name": u,
                                   "outcome": "approve", "number": f"琼批2026-{i:06d}", "date": "2026-12-01"}
                                  for i, (c, n, u) in enumerate(ITEMS, 1)]}


def render_and_sign(report: Report) -> None:
    with tempfile.TemporaryDirectory() as keys:
        settings = Settings.from_env(SEAL_KEY_DIR=keys, TESTING=True, SECRET_KEY="bench-secret-key-0123456789")
        certs.issue_seal(certs.Paths.of(settings), "BENCH", "海口市行政审批服务局")
        platform = _Platform(settings)
        now = dt.datetime.now(dt.UTC)
        first = time.perf_counter()
        documents.render_and_sign(platform, _facts(), "BENCH", now)
        first = (time.perf_counter() - first) * 1000
        times, cpu = [], []
        for _ in range(20):
            begin, begin_cpu = time.perf_counter(), time.process_time()
            pdf = documents.render_and_sign(platform, _facts(), "BENCH", now)
            times.append((time.perf_counter() - begin) * 1000)
            cpu.append((time.process_time() - begin_cpu) * 1000)
    times.sort()
    report.add("seal: render + sign one result (median)", statistics.median(times), "ms", "<= 300",
               f"p95 {times[int(len(times) * 0.95) - 1]:.0f} ms, CPU {statistics.median(cpu):.0f} ms, first "
               f"{first:.0f} ms (font parsed once), {len(pdf) // 1024} KiB, load {os.getloadavg()[0]:.1f}")


def _fill(url: str) -> None:
    """100,000 chained rows, as ``audit.record`` computes them, inserted in batches (the trail's bulk path)."""
    sessions = make_session_factory(make_engine(url))
    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with transaction(sessions) as session:
        for first in range(1, ROWS + 1, 5000):
            batch = []
            for seq in range(first, min(first + 5000, ROWS + 1)):
                code = f"2026-460100-48-02-{seq // 7:06d}"
                detail = json.dumps({"task": "review", "title": "部门审查", "outcome": "approve", "n": seq},
                                    ensure_ascii=False)
                batch.append({"at": at + dt.timedelta(seconds=seq), "project_code": code, "engineering_code": code,
                              "instance_id": seq // 9, "kind": "task_completed", "detail": detail})
            audit.append_many(session, batch)
    sessions.kw["bind"].dispose()


def verify_chain(report: Report, label: str, url: str) -> None:
    upgrade(url)
    _fill(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    begin, begin_cpu = time.perf_counter(), time.process_time()
    with transaction(sessions, write=False) as session:
        result = audit.verify_chain(session)
    seconds, cpu = time.perf_counter() - begin, time.process_time() - begin_cpu
    engine.dispose()
    assert result.ok and result.rows == ROWS, result.line()
    report.add(f"trail: verify a {ROWS:,}-row audit chain ({label})", seconds, "s", "<= 5",
               f"{ROWS / seconds:,.0f} rows/s, CPU {cpu:.2f} s, load {os.getloadavg()[0]:.1f}")


def run(report: Report, sqlite_dir: str, pg_url: str | None) -> None:
    render_and_sign(report)
    verify_chain(report, "SQLite", f"sqlite:///{Path(sqlite_dir) / 'chain.db'}")
    if pg_url:
        verify_chain(report, "PostgreSQL", pg_url)

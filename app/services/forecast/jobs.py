"""Forecast jobs: the ``forecast_job`` rows any node answers a poll from (the runner: ``app.forecast_runner``).

A forecast of 1,000 projects takes tens of seconds; the modeler starts one,
shows a progress bar from ``done``/``total`` and draws the chart from
``result``.  The runner writes a job's progress and a heartbeat as it goes and
its result or error at the end; a poll answered by another gunicorn worker or
another node reads the same row.  A running job whose heartbeat is older than
``DEAD_AFTER`` seconds is reported failed: the process that ran it is gone
(killed, restarted), and nothing else will finish it.  Jobs are forgotten
``KEEP`` after they end.  A job's times are the machines' real time, never a
platform's simulated clock: a heartbeat is about the process, not the province.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ...models import ForecastJob

DEAD_AFTER = 60            # seconds without a heartbeat after which a running job is reported failed
KEEP = dt.timedelta(days=1)


def open_job(session: Session, job_id: str, now: dt.datetime, *, version: int, active: int, stages: list[str],
             n: int, seed: int, runner: str, started_by: str | None = None) -> ForecastJob:
    """A new running job (and jobs that ended more than ``KEEP`` ago forgotten)."""
    session.execute(delete(ForecastJob).where(ForecastJob.ended_at < now - KEEP))
    job = ForecastJob(id=job_id, version=version, active=active, stages=json.dumps(stages), n=n, seed=seed,
                      status="running", done=0, total=2 * n * len(stages), runner=runner,
                      started_by=started_by, started_at=now, heartbeat_at=now)
    session.add(job)
    return job


def record(session: Session, job_id: str, now: dt.datetime, *, done: int | None = None,
           total: int | None = None, result: dict | None = None, error: str | None = None) -> bool:
    """A running job's progress and heartbeat; with ``result`` or ``error`` it ends (done or failed).

    False when the job is no longer running (it ended already): nothing is written.
    """
    values: dict[str, Any] = {"heartbeat_at": now}
    if done is not None:
        values["done"] = done
    if total is not None:
        values["total"] = total
    if result is not None:
        values.update(status="done", result=json.dumps(result, ensure_ascii=False), ended_at=now)
    elif error is not None:
        values.update(status="failed", error=error, ended_at=now)
    changed = session.execute(update(ForecastJob).where(ForecastJob.id == job_id, ForecastJob.status == "running")
                              .values(**values))
    return bool(changed.rowcount)


def get(session: Session, job_id: str, now: dt.datetime) -> dict[str, Any] | None:
    """A job as the page polls it (None when there is no such job).

    A running job that has not beaten for ``DEAD_AFTER`` seconds is answered
    as failed, saying when it was last heard of and where it ran.
    """
    job = session.scalar(select(ForecastJob).where(ForecastJob.id == job_id)) if len(job_id) <= 32 else None
    if job is None:
        return None
    status, error = job.status, job.error
    if status == "running" and (now - job.heartbeat_at).total_seconds() > DEAD_AFTER:
        status = "failed"
        error = (f"the forecast stopped: its process ({job.runner}) was last heard of at "
                 f"{job.heartbeat_at:%Y-%m-%d %H:%M:%S} UTC; start it again")
    return {"id": job.id, "version": job.version, "active": job.active, "stages": json.loads(job.stages),
            "n": job.n, "seed": job.seed, "status": status, "done": job.done, "total": job.total,
            "result": json.loads(job.result) if job.result else None, "error": error,
            "started_at": job.started_at.isoformat(), "ended_at": job.ended_at.isoformat() if job.ended_at else None}

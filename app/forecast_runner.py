"""Runs a forecast job in a thread of the process that accepted it, in its own short transactions.

The job's row (``app.services.forecast.jobs``) is committed before the thread
starts, so a poll that arrives at once, on any node, finds it.  Progress is
written at most every ``WRITE_EVERY`` seconds, and a heartbeat every
``HEARTBEAT_SECONDS`` even without progress (a job may wait for another
forecast of the same process); the result or the error at the end.  If this
process dies, the heartbeat stops and the job is reported failed after
``jobs.DEAD_AFTER`` seconds.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid

from .db import transaction
from .models.base import utcnow
from .services.forecast import candidate, jobs

log = logging.getLogger(__name__)

WRITE_EVERY = 1.0  # seconds between progress writes of a running job
#: seconds between heartbeats, progress or not (a job may wait for another forecast of this
#: process to finish: one simulation runs at a time); well inside ``jobs.DEAD_AFTER``
HEARTBEAT_SECONDS = 10.0


def runner_name() -> str:
    """The host and process running a job (said when it is reported dead)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def start(platform, model: dict, version: int, active: int, stages: list[str], n: int, seed: int,
          workers: int, started_by: str | None = None) -> str:
    """Record a job and run the forecast in a thread; the job's id."""
    job_id = uuid.uuid4().hex
    with transaction(platform.sessions) as session:
        jobs.open_job(session, job_id, utcnow(), version=version, active=active, stages=stages, n=n,
                      seed=seed, runner=runner_name(), started_by=started_by)
    threading.Thread(target=_run, name=f"forecast-{job_id[:12]}", daemon=True,
                     args=(platform, job_id, model, version, active, stages, n, seed, workers)).start()
    return job_id


def _run(platform, job_id: str, model: dict, version: int, active: int, stages: list[str], n: int,
         seed: int, workers: int) -> None:
    written = time.monotonic()

    def write(**values) -> None:
        with transaction(platform.sessions) as session:
            jobs.record(session, job_id, utcnow(), **values)

    def progress(done: int, total: int) -> None:
        nonlocal written
        if time.monotonic() - written >= WRITE_EVERY:
            written = time.monotonic()
            write(done=done, total=total)

    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                write()
            except Exception:  # noqa: BLE001 - a missed beat is retried at the next one
                log.warning("forecast job %s: heartbeat not written", job_id, exc_info=True)

    beating = threading.Thread(target=beat, name=f"forecast-beat-{job_id[:12]}", daemon=True)
    beating.start()
    try:
        result = candidate.forecast(platform, model, version, active, stages, n, seed, workers, progress)
    except Exception as exc:  # noqa: BLE001 - reported to the page, never lost in a thread
        outcome = {"error": f"{exc.__class__.__name__}: {exc}"}
    else:
        outcome = {"done": 2 * n * len(stages), "result": result}
    finally:
        stop.set()
        beating.join()
    write(**outcome)

"""Forecasts that run beside a page: started, polled for progress, read when done (per process).

A forecast of 1,000 projects takes tens of seconds; the modeler starts one,
shows a progress bar from ``progress`` and draws the chart from ``result``.
Jobs live in the process that started them (the API answers 404 for a job it
does not hold, e.g. after a restart) and are forgotten an hour after they end.
The simulated baseline of the active version is kept (``candidate``'s cache),
so a second forecast of an edited draft simulates the draft alone.
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

from . import candidate

KEEP_SECONDS = 3600
_jobs: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def start(platform, model: dict, version: int, active: int, stages: list[str], n: int, seed: int,
          workers: int) -> str:
    """Start a forecast in a thread; its job id."""
    job_id = uuid.uuid4().hex[:12]
    job = {"id": job_id, "version": version, "status": "running", "done": 0, "total": 2 * n * len(stages),
           "result": None, "error": None, "started": time.time(), "ended": None}
    with _lock:
        _prune()
        _jobs[job_id] = job

    def progress(done: int, total: int) -> None:
        job["done"], job["total"] = done, total

    def work() -> None:
        try:
            job["result"] = candidate.forecast(platform, model, version, active, stages, n, seed, workers, progress)
            job["status"] = "done"
        except Exception as exc:  # noqa: BLE001 - reported to the page, never lost in a thread
            job["status"], job["error"] = "failed", f"{exc.__class__.__name__}: {exc}"
        finally:
            job["ended"] = time.time()

    threading.Thread(target=work, name=f"forecast-{job_id}", daemon=True).start()
    return job_id


def get(job_id: str) -> dict[str, Any] | None:
    """A job's state (None when this process holds no such job)."""
    with _lock:
        return _jobs.get(job_id)


def _prune() -> None:
    now = time.time()
    for key in [k for k, j in _jobs.items() if j["ended"] and now - j["ended"] > KEEP_SECONDS]:
        del _jobs[key]

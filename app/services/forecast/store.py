"""The newest model in the ``forecast_model`` table, and kept in the process between page views.

``refresh`` learns the model of the last ``FORECAST_WINDOW_DAYS`` (the
scheduler calls it nightly), simulates the active version's baseline of
``FORECAST_BASELINE_PROJECTS`` projects per stage and stores both; ``current`` returns the newest live
model, read from the table at most once per ``RECHECK`` seconds per process,
so that an ETA on a page costs no more than one small query.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...db import url_key
from ...models import ForecastModel
from ..flows.deployments import active_version
from . import model as learning

RECHECK = 60.0
KEEP = 5
_cache: dict[str, Any] = {}
_lock = threading.Lock()


def save(session: Session, content: dict[str, Any], purpose: str = "live") -> ForecastModel:
    """Store a learnt model; keep the last ``KEEP`` live ones."""
    row = ForecastModel(until=dt.datetime.fromisoformat(content["until"]),
                        since=dt.datetime.fromisoformat(content["since"]) if content.get("since") else None,
                        instances=content["instances"], tasks=content["task_count"], purpose=purpose,
                        content=json.dumps(content, ensure_ascii=False, separators=(",", ":")))
    session.add(row)
    session.flush()
    old = session.scalars(select(ForecastModel.id).where(ForecastModel.purpose == purpose)
                          .order_by(ForecastModel.id.desc()).offset(KEEP)).all()
    if old:
        session.execute(delete(ForecastModel).where(ForecastModel.id.in_(old)))
    return row


def refresh(session: Session, platform, now: dt.datetime | None = None) -> ForecastModel:
    """Learn the live model from the last window of history and store it (the nightly job)."""
    until = now or platform.now()
    days = getattr(platform.settings, "FORECAST_WINDOW_DAYS", 730)
    content = learning.learn(session, platform, until, until - dt.timedelta(days=days))
    n = getattr(platform.settings, "FORECAST_BASELINE_PROJECTS", 0)
    if n:  # the active version's simulated projects, so that a draft's first forecast simulates the draft alone
        from .candidate import baselines
        content["baselines"] = baselines(platform, content, active_version(session), n,
                                         workers=platform.settings.FORECAST_WORKERS)
    row = save(session, content)
    forget()
    return row


def current(session: Session) -> dict[str, Any] | None:
    """The newest live model (None when none was learnt yet), cached per process."""
    key = url_key(session)
    with _lock:
        entry = _cache.get(key)
        if entry is not None and time.monotonic() - entry[0] < RECHECK:
            return entry[2]
    newest = session.scalar(select(ForecastModel.id).where(ForecastModel.purpose == "live")
                            .order_by(ForecastModel.id.desc()).limit(1))
    if newest is None:
        return None
    if entry is not None and entry[1] == newest:
        content = entry[2]
    else:
        content = json.loads(session.get(ForecastModel, newest).content)
    with _lock:
        _cache[key] = (time.monotonic(), newest, content)
    return content


def forget() -> None:
    """Drop the process's cached models (after a refresh, and in tests)."""
    with _lock:
        _cache.clear()

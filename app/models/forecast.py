"""The forecasting model learnt from history (one row per build; the newest is the one in use)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class ForecastModel(Base):
    """A model of how work really goes, learnt from the task rows and the audit trail of a period."""

    __tablename__ = "forecast_model"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    built_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    instances: Mapped[int] = mapped_column(Integer, default=0)
    tasks: Mapped[int] = mapped_column(Integer, default=0)
    purpose: Mapped[str] = mapped_column(String(20), default="live")  # "live" or "backtest"
    content: Mapped[str] = mapped_column(Text)  # JSON (app.services.forecast.model.Model)

    def __repr__(self) -> str:
        return f"<ForecastModel {self.id} {self.until:%Y-%m-%d} {self.instances} instances>"


class ForecastJob(Base):
    """A forecast running in the background: any node answers its progress and result from this row.

    The runner writes ``done``/``total`` and ``heartbeat_at`` as it goes; a running job whose
    heartbeat is older than ``jobs.DEAD_AFTER`` is reported failed (its process is gone).
    """

    __tablename__ = "forecast_job"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, index=True)
    active: Mapped[int] = mapped_column(Integer)
    stages: Mapped[str] = mapped_column(Text)  # JSON list of stage keys
    n: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="running")  # running, done, failed
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str | None] = mapped_column(Text)  # JSON (candidate.forecast)
    error: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(120))  # host and process that runs it
    started_by: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)

    def __repr__(self) -> str:
        return f"<ForecastJob {self.id} v{self.version} {self.status} {self.done}/{self.total}>"

"""Oversight: the bookkeeping of a generated history run (``flask seed-history``), for resuming it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class HistoryRun(Base):
    """The parameters of the one generated history of this database, and when it finished."""

    __tablename__ = "history_run"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seed: Mapped[int] = mapped_column(Integer)
    projects: Mapped[int] = mapped_column(Integer)
    enterprises: Mapped[int] = mapped_column(Integer)
    workers: Mapped[int] = mapped_column(Integer)
    begins_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    profile: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<HistoryRun {self.id} {self.projects} projects>"


class HistoryWorker(Base):
    """How far one worker of a run got: the next project number it will generate."""

    __tablename__ = "history_worker"
    run_id: Mapped[int] = mapped_column(ForeignKey("history_run.id", ondelete="CASCADE"), primary_key=True)
    worker: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_index: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)

    def __repr__(self) -> str:
        return f"<HistoryWorker {self.run_id}/{self.worker} next={self.next_index}>"

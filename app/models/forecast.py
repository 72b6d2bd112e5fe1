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

"""Scale-out: state every node shares through the database (the holiday table, cache epochs)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime


class CalendarYear(Base):
    """One year of the administrators' holiday table (seeded from ``catalog/holidays.json``)."""

    __tablename__ = "calendar_year"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry: Mapped[str] = mapped_column(Text)  # JSON: declared, notice, holidays, workdays
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[int | None] = mapped_column(Integer)


class CacheEpoch(Base):
    """A counter per cache every node keeps (calendar, routing, tokens): a change bumps it in its
    transaction, and each node drops its cached copy when it sees a new value."""

    __tablename__ = "cache_epoch"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    epoch: Mapped[int] = mapped_column(BigInteger, default=0)
    changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

"""The national data exchange (SPGL): what was pushed to the front database, and the code tables.

The front database itself (前置库) is not ours: its tables are described in
``app.services.exchange.frontdb`` and live behind ``HN_SPGL_URL``.  Here the
platform keeps its own book of every row it derived for the exchange: the last
content it pushed, the serial number (LSH) of that push, and what the national
side answered (SJSCZT/SBYY).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class ExchangeRow(Base):
    """One row the platform derives for an SPGL table, known by its local key (DFSJZJ).

    ``state``: ``waiting`` (its parent is not accepted yet), ``invalid`` (failed the
    local checks, never pushed), ``pushed`` (in the front database, not yet
    checked), ``accepted`` (SJSCZT 3), ``rejected`` (SJSCZT 2, ``reason`` holds
    SBYY), ``withdrawn`` (the local data is gone; the front row was invalidated).
    """

    __tablename__ = "exchange_row"
    __table_args__ = (UniqueConstraint("table_name", "local_key"),
                      Index("ix_exchange_row_state", "state", "table_name"),
                      Index("ix_exchange_row_parent", "parent_table", "parent_key"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40))
    local_key: Mapped[str] = mapped_column(String(120))
    project_code: Mapped[str | None] = mapped_column(String(40), index=True)
    parent_table: Mapped[str | None] = mapped_column(String(40))
    parent_key: Mapped[str | None] = mapped_column(String(120))
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[str] = mapped_column(Text, default="{}")  # the fields last derived, as JSON
    state: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text, default="")
    lsh: Mapped[str | None] = mapped_column(String(40))  # the front row now valid for it
    pushed_hash: Mapped[str | None] = mapped_column(String(64))  # the content of that front row
    pushes: Mapped[int] = mapped_column(Integer, default=0)
    pushed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ExchangeRow {self.table_name} {self.local_key} {self.state}>"


class ExchangePush(Base):
    """One push of one row: its serial number (LSH) and, later, the national answer."""

    __tablename__ = "exchange_push"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("exchange_row.id", ondelete="CASCADE"), index=True)
    lsh: Mapped[str] = mapped_column(String(40), unique=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    pushed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[int] = mapped_column(Integer, default=0)  # SJSCZT as last read back
    reason: Mapped[str] = mapped_column(Text, default="")
    invalidated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    invalid_reason: Mapped[str] = mapped_column(Text, default="")
    row: Mapped[ExchangeRow] = relationship(lazy="select")

    def __repr__(self) -> str:
        return f"<ExchangePush {self.lsh} status={self.status}>"


class ExchangeOverride(Base):
    """An administrator's value for one field of one exchange row (a correction, audited)."""

    __tablename__ = "exchange_override"
    __table_args__ = (UniqueConstraint("table_name", "local_key", "field"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40))
    local_key: Mapped[str] = mapped_column(String(120))
    field: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(500))
    set_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ExchangeOverride {self.table_name} {self.local_key} {self.field}={self.value!r}>"


class ExchangeCode(Base):
    """One entry of an SPGL code table (TDHQFS, XMTZLY, GCFL, JSXZ, ...), edited by administrators.

    ``is_default`` marks the value a project gets when nothing more specific is
    known; ``verified`` is False for meanings inferred rather than read in the standard.
    """

    __tablename__ = "exchange_code"
    __table_args__ = (UniqueConstraint("code_table", "code"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_table: Mapped[str] = mapped_column(String(20))
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<ExchangeCode {self.code_table} {self.code} {self.name}>"

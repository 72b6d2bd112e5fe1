"""Time limits: special procedures that stop an item's clock, and supervision notices."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class SpecialProcedure(Base):
    """A special procedure (特别程序: expert review, hearing, testing, ...) of an item handling.

    Its time is not counted (行政许可法 §45): the item's clock stops at
    ``started_at`` and, at ``ended_at``, its due date moves by ``paused_days``.
    """

    __tablename__ = "special_procedure"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handling_id: Mapped[int] = mapped_column(ForeignKey("item_handling.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    expected_days: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    ended_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    result: Mapped[str] = mapped_column(Text, default="")
    paused_days: Mapped[int | None] = mapped_column(Integer)
    paused_seconds: Mapped[int | None] = mapped_column(Integer)
    handling = relationship("ItemHandling", lazy="select")

    def __repr__(self) -> str:
        return f"<SpecialProcedure {self.id} {self.kind} handling={self.handling_id}>"


class SupervisionNotice(Base):
    """A notice for a unit's supervisors: an item nears (warning) or passed (overdue) its limit."""

    __tablename__ = "supervision_notice"
    __table_args__ = (Index("ix_supervision_notice_inbox", "unit_id", "acknowledged_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    handling_id: Mapped[int | None] = mapped_column(ForeignKey("item_handling.id"), index=True)
    project_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    handling = relationship("ItemHandling", lazy="select")

    def __repr__(self) -> str:
        return f"<SupervisionNotice {self.id} {self.kind} {self.project_code} {self.item_code}>"

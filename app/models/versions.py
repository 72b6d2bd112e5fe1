"""Migrations of running instances between deployed versions, kept for undo."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class InstanceMigration(Base):
    """One instance moved from one spec key to another, with the state it had before.

    ``row_version_after`` is the instance's row version right after the move: an
    undo is allowed only while the row still has it (the instance has not moved on).
    """

    __tablename__ = "instance_migration"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    from_spec_key: Mapped[str] = mapped_column(String(100))
    to_spec_key: Mapped[str] = mapped_column(String(100))
    previous_state: Mapped[str] = mapped_column(Text, deferred=True)
    previous_serializer_version: Mapped[str] = mapped_column(String(20))
    row_version_after: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    actor_name: Mapped[str] = mapped_column(String(80))
    migrated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(80))

    def __repr__(self) -> str:
        return f"<InstanceMigration {self.instance_id} {self.from_spec_key} -> {self.to_spec_key}>"

"""Projects, the item handlings of their reviews, and the audit trail."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Project(Base):
    """An engineering construction project, known by its code (一项一码)."""

    __tablename__ = "project"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    flow_type: Mapped[int] = mapped_column(Integer, default=3)
    investment_type: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    instances = relationship("ProcessInstance", back_populates="project", lazy="select",
                             order_by="ProcessInstance.id")
    enterprise = relationship("Enterprise", lazy="select")  # the registered filer (security: whose is it)

    def __repr__(self) -> str:
        return f"<Project {self.code}>"


class ItemHandling(Base):
    """One department's handling of one catalogue item for one project (办件)."""

    __tablename__ = "item_handling"
    __table_args__ = (Index("ix_item_handling_project", "project_id", "item_code"),
                      Index("ix_item_handling_due", "due_at"),
                      Index("ix_item_handling_finished", "finished_at"),
                      Index("ix_item_handling_code_item", "project_code", "item_code"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    project_code: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(40))
    engineering_code: Mapped[str | None] = mapped_column(String(40))  # level 1-3 code of the application
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    state: Mapped[int] = mapped_column(Integer)
    accepted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # the item clock (engine.timelimits, app.services.itemclock): limit, start, pauses, thresholds
    limit_value: Mapped[int | None] = mapped_column(Integer)
    limit_unit: Mapped[str | None] = mapped_column(String(20))
    clock_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pause_kind: Mapped[str | None] = mapped_column(String(20))
    paused_working_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # working days from acceptance to the decision less the paused ones, kept when the handling finishes
    # (timelimits.itemclock.finish) and recounted when the calendar of those days changes
    working_days: Mapped[int | None] = mapped_column(Integer)
    warned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    events = relationship("ItemHandlingEvent", lazy="select", order_by="ItemHandlingEvent.id",
                          cascade="all, delete-orphan")

    def __repr__(self) -> str:
        return f"<ItemHandling {self.project_code} {self.item_code} state={self.state}>"


class ItemHandlingEvent(Base):
    """A state change of an item handling, with its national state code (BLZT)."""

    __tablename__ = "item_handling_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handling_id: Mapped[int] = mapped_column(ForeignKey("item_handling.id"), index=True)
    state: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    opinion: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<ItemHandlingEvent {self.handling_id} state={self.state}>"


class AuditEvent(Base):
    """Full trace (全程留痕): every action on a project, by whom and when."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    project_code: Mapped[str | None] = mapped_column(String(40), index=True)
    engineering_code: Mapped[str | None] = mapped_column(String(40))  # the level 2/3 code when one applies
    instance_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    # the hash chain (issue 10, trail/audit.py): the row's place, its predecessor's hash, its own hash over
    # the canonical bytes kept as they were hashed (never re-serialised)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    row_hash: Mapped[str | None] = mapped_column(String(64))
    canonical: Mapped[str | None] = mapped_column(Text)
    project = relationship(Project, primaryjoin="foreign(AuditEvent.project_code) == Project.code",
                           viewonly=True)

    def __repr__(self) -> str:
        return f"<AuditEvent {self.kind} {self.project_code}>"


class AuditHead(Base):
    """The one row holding the audit chain's head: locked by every writer, so the chain never forks."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64))

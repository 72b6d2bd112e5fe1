"""What the catalogue decided for a project: each stage's items, commitments, gaps, level codes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class StagePlan(Base):
    """The items a stage instance needs, as its DMN decided them, and how far the window got."""

    __tablename__ = "stage_plan"
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    catalog_version: Mapped[str] = mapped_column(String(20))
    facts: Mapped[str] = mapped_column(Text, default="{}")
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    gaps_open: Mapped[bool] = mapped_column(Boolean, default=False)

    def __repr__(self) -> str:
        return f"<StagePlan instance={self.instance_id} accepted={self.accepted_at is not None}>"


class StageItem(Base):
    """One decided item of a stage instance: reviewed by its department, or approved on commitment."""

    __tablename__ = "stage_item"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(20))  # "review" or "commitment"
    position: Mapped[int] = mapped_column(Integer)

    def __repr__(self) -> str:
        return f"<StageItem {self.instance_id} {self.item_code} {self.mode}>"


class Commitment(Base):
    """A signed commitment (告知承诺): approved at once, verified later, possibly revoked."""

    __tablename__ = "commitment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    item_code: Mapped[str] = mapped_column(String(40))
    handling_id: Mapped[int] = mapped_column(ForeignKey("item_handling.id"))
    verification_instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    signed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    verify_by: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    state: Mapped[str] = mapped_column(String(20), default="pending")  # pending, confirmed, revoked
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<Commitment {self.item_code} {self.state}>"


class MaterialGap(Base):
    """A non-essential material missing at acceptance (容缺), to be supplied before the result."""

    __tablename__ = "material_gap"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"))
    item_code: Mapped[str] = mapped_column(String(40))
    material: Mapped[str] = mapped_column(String(200))
    supply_by: Mapped[dt.date] = mapped_column(Date)
    supplied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<MaterialGap {self.item_code} {self.material!r}>"


class EngineeringCode(Base):
    """A level-2 (sub-project, -Gnn) or level-3 (unit or section, -Dnn) code of a project (三级工程码)."""

    __tablename__ = "engineering_code"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    parent_code: Mapped[str] = mapped_column(String(40), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # sub_project, unit, section
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    def __repr__(self) -> str:
        return f"<EngineeringCode {self.code}>"

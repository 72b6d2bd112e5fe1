"""中介服务 (intermediary services): registered firms, their qualifications, and the services commissioned."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class IntermediaryFirm(Base):
    """A registered intermediary (中介机构): an enterprise listed in the directory (中介超市)."""

    __tablename__ = "intermediary_firm"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), unique=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"))
    contact: Mapped[str] = mapped_column(String(200), default="")
    introduction: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    registered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    enterprise = relationship("Enterprise", lazy="joined")
    qualifications: Mapped[list[IntermediaryQualification]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="IntermediaryQualification.id")

    def __repr__(self) -> str:
        return f"<IntermediaryFirm {self.id} enterprise={self.enterprise_id}>"


class IntermediaryQualification(Base):
    """A qualification of a firm: the service it covers, grade, validity and the items it supports."""

    __tablename__ = "intermediary_qualification"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    firm_id: Mapped[int] = mapped_column(ForeignKey("intermediary_firm.id", ondelete="CASCADE"), index=True)
    service: Mapped[str] = mapped_column(String(30))  # catalog/intermediary_services.json code
    grade: Mapped[str] = mapped_column(String(30))  # 甲级, 乙级, 一类, …
    certificate_no: Mapped[str] = mapped_column(String(60))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    items: Mapped[str] = mapped_column(Text, default="[]")  # JSON: item codes its service supports

    def __repr__(self) -> str:
        return f"<IntermediaryQualification {self.firm_id} {self.service} {self.grade}>"


class IntermediaryService(Base):
    """One service for one project: the selection of a firm and the tracked contract that follows."""

    __tablename__ = "intermediary_service"
    __table_args__ = (Index("ix_intermediary_service_firm", "firm_id", "status"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    service: Mapped[str] = mapped_column(String(30))
    firm_id: Mapped[int] = mapped_column(ForeignKey("intermediary_firm.id"))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    # the selection (选取): direct choice, or a random draw among the qualified firms, recorded
    method: Mapped[str] = mapped_column(String(10))  # direct, random
    candidates: Mapped[str] = mapped_column(Text, default="[]")  # JSON: firm ids qualified at the draw
    draw_seed: Mapped[str | None] = mapped_column(String(64))  # the draw's seed: anyone can repeat it
    selected_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    selected_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the contract (服务合同)
    committed_days: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="commissioned")
    accepted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    warn_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    refusal: Mapped[str] = mapped_column(Text, default="")
    report_material_id: Mapped[int | None] = mapped_column(Integer)  # the material the report became
    conclusion: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(Integer)  # 好差评: 1-5
    rating_comment: Mapped[str] = mapped_column(Text, default="")
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    project = relationship("Project", lazy="joined")
    firm: Mapped[IntermediaryFirm] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<IntermediaryService {self.id} {self.service} firm={self.firm_id} {self.status}>"

"""项目策划生成 (project planning generation): plan zones and the proposals checked against them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class PlanZone(Base):
    """One zone of a division's plan layers (一张蓝图): a GeoJSON polygon with its kind."""

    __tablename__ = "plan_zone"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    kind: Mapped[str] = mapped_column(String(30))  # planning.zones.KINDS
    name: Mapped[str] = mapped_column(String(200))
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon or MultiPolygon (WGS 84 lon/lat)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<PlanZone {self.id} {self.division_code} {self.kind}>"


class PlanningProposal(Base):
    """A project proposed for planning generation by its lead department, and its result (策划生成结果)."""

    __tablename__ = "planning_proposal"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), unique=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    lead_role: Mapped[str] = mapped_column(String(30))  # drc or planning
    proposed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    site: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon of the site
    area_m2: Mapped[float] = mapped_column(Float)  # the area stated by the proposer
    measured_area_m2: Mapped[float] = mapped_column(Float)  # the polygon's area, measured
    findings: Mapped[str] = mapped_column(Text, default="[]")  # JSON: one per zone the site touches
    status: Mapped[str] = mapped_column(String(20), default="reviewing")  # reviewing, generated, withdrawn
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    conditions: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [{role, department, text}]
    required_items: Mapped[str] = mapped_column(Text, default="[]")  # JSON: item codes stage 1 must handle
    settled_items: Mapped[str] = mapped_column(Text, default="[]")  # JSON: item codes stage 1 skips
    regional_assessment: Mapped[bool] = mapped_column(Boolean, default=False)
    proposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    generated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    project = relationship("Project", lazy="joined")

    def __repr__(self) -> str:
        return f"<PlanningProposal {self.id} project={self.project_id} {self.status}>"

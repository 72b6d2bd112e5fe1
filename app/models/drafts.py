"""The applicant's own records: stage drafts kept on the server and every version of a material."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow


class StageDraft(Base):
    """What an applicant typed into a stage's form and has not submitted yet (one per project and stage)."""

    __tablename__ = "stage_draft"
    __table_args__ = (UniqueConstraint("project_id", "stage_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id", ondelete="CASCADE"))
    stage_key: Mapped[str] = mapped_column(String(30))
    values: Mapped[str] = mapped_column(Text, default="{}")  # JSON: the posted strings, field by field
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<StageDraft {self.project_id} {self.stage_key}>"


class MaterialVersion(Base):
    """One uploaded file of a material; a replaced material keeps its earlier versions."""

    __tablename__ = "material_version"
    __table_args__ = (UniqueConstraint("material_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    material_id: Mapped[int] = mapped_column(ForeignKey("material.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<MaterialVersion {self.material_id} v{self.version}>"

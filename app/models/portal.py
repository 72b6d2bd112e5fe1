"""Applicant-side records: uploaded materials and failed login attempts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, UTCDateTime, utcnow
from .workflow import HumanTask


class Material(Base):
    """An application material of a project (申请材料); its bytes live on disk by sha256.

    One row per project and material name: an upload serves every item of the
    project that lists a material of that name.
    """

    __tablename__ = "material"
    __table_args__ = (UniqueConstraint("project_id", "name"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    content_type: Mapped[str] = mapped_column(String(100))
    original_name: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Material {self.project_id} {self.name} {self.sha256[:8]}>"


class LoginFailure(Base):
    """One failed login, kept to throttle guessing per user name and address."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_key", "username", "address", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(80))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<LoginFailure {self.username}@{self.address}>"


#: The workbench inbox: a unit's open tasks of the officer's lanes, oldest deadline first; it
#: covers the inbox's count and page of ids (audience: supervision tasks are kept apart).
INBOX_BY_LANE = Index("ix_human_task_unit_lane", HumanTask.unit_id, HumanTask.lane_role, HumanTask.status,
                      HumanTask.due_at, HumanTask.audience)

"""Deployed flows, running process instances and the human tasks they open."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, UTCDateTime, utcnow


class Deployment(Base):
    """One version of the whole ``processes/`` file set."""

    __tablename__ = "deployment"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(80))
    comment: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    files: Mapped[list[DeploymentFile]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    def __repr__(self) -> str:
        return f"<Deployment v{self.version} {self.content_hash[:8]}>"


class DeploymentFile(Base):
    """A BPMN or DMN file of a deployment."""

    __tablename__ = "deployment_file"
    version: Mapped[int] = mapped_column(ForeignKey("deployment.version", ondelete="CASCADE"),
                                         primary_key=True)
    path: Mapped[str] = mapped_column(String(200), primary_key=True)
    content: Mapped[bytes] = mapped_column(LargeBinary)

    def __repr__(self) -> str:
        return f"<DeploymentFile v{self.version} {self.path}>"


class ProcessInstance(Base):
    """One stage application of one project, with its SpiffWorkflow state.

    ``state`` holds the serialized task tree without the spec (``spec_key`` names
    it); ``version`` is the optimistic concurrency counter.
    """

    __tablename__ = "process_instance"
    __table_args__ = (Index("ix_process_instance_timer", "next_timer_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    stage_key: Mapped[str] = mapped_column(String(30))
    process_id: Mapped[str] = mapped_column(String(80))
    spec_key: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(Text, deferred=True)
    serializer_version: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(20), default="running")
    end_event: Mapped[str | None] = mapped_column(String(80))
    application: Mapped[str] = mapped_column(Text, default="{}", deferred=True)
    engineering_code: Mapped[str | None] = mapped_column(String(40))  # the code filed under (三级工程码)
    next_timer_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    timer_owner: Mapped[str | None] = mapped_column(String(80))
    timer_claim_expires: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: The diagram's marks, ``{"done": [...], "active": [...]}`` (BPMN element ids of the top level),
    #: written by every save so that no read has to load the state (NULL: saved before they existed).
    marks: Mapped[str | None] = mapped_column(Text, deferred=True)
    project = relationship("Project", back_populates="instances", lazy="joined")

    __mapper_args__ = {"version_id_col": version}

    def __repr__(self) -> str:
        return f"<ProcessInstance {self.id} {self.spec_key} {self.status}>"


class HumanTask(Base):
    """An open or finished user task, routed to a unit (or an enterprise)."""

    __tablename__ = "human_task"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_human_task_inbox", "unit_id", "status", "due_at"),
        Index("ix_human_task_enterprise", "enterprise_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"), index=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("project.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    spec_name: Mapped[str] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(200))
    process_id: Mapped[str] = mapped_column(String(80))
    lane_role: Mapped[str | None] = mapped_column(String(30))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"))
    item_code: Mapped[str | None] = mapped_column(String(40))
    form: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="open")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    outcome: Mapped[str | None] = mapped_column(String(20))
    handling_id: Mapped[int | None] = mapped_column(Integer, index=True)  # the item handling it works on
    audience: Mapped[str | None] = mapped_column(String(20))  # "supervisor": a supervision task
    instance: Mapped[ProcessInstance] = relationship(lazy="select")
    handling = relationship("ItemHandling", primaryjoin="foreign(HumanTask.handling_id) == ItemHandling.id",
                            lazy="select")

    def __repr__(self) -> str:
        return f"<HumanTask {self.id} {self.spec_name} {self.status}>"

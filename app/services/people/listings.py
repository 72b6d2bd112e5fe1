"""Lists the pages show: an enterprise's projects, the workbench inbox with its light filter."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput
from ...models import HumanTask, ItemHandling, Project, User
from ..timelimits import lights
from ..workflow import tasks

LIGHTS = ("green", "yellow", "red", "none")


@dataclass
class ProjectPage:
    """One page of an enterprise's projects, newest first."""

    rows: list[Project]
    total: int
    page: int
    page_size: int


def enterprise_projects(session: Session, user: User, page: int = 1, page_size: int = 20) -> ProjectPage:
    """The projects of the user's enterprise (nothing for a user without one)."""
    if user.enterprise_id is None:
        return ProjectPage([], 0, page, page_size)
    query = select(Project).where(Project.enterprise_id == user.enterprise_id)
    total = session.scalar(select(func.count(Project.id)).where(Project.enterprise_id == user.enterprise_id))
    rows = session.scalars(query.order_by(Project.id.desc()).limit(page_size).offset((page - 1) * page_size))
    return ProjectPage(list(rows), total or 0, page, page_size)


def light_condition(session: Session, light: str, now: dt.datetime, share: float) -> ColumnElement:
    """SQL for tasks whose item handling shows ``light`` now (``none``: tasks without a time limit).

    The lights are defined once, in ``app.services.lights``, on the thresholds
    the item clock stores (``share`` is applied there, from ``WARNING_SHARE``).
    """
    if light not in LIGHTS:
        raise InvalidInput("light must be green, yellow, red or none", {"light": "invalid"})
    matching = select(ItemHandling.id).where(lights.condition(light, now))
    if light == "none":
        return or_(HumanTask.handling_id.is_(None), HumanTask.handling_id.in_(matching))
    return HumanTask.handling_id.in_(matching)


def task_light(row: HumanTask, now: dt.datetime, share: float) -> str:
    """The same light for one task row (that of its item handling)."""
    return lights.task_light(row, now)


def inbox(session: Session, platform, user: User, page: int = 1, page_size: int = 50, stage: str | None = None,
          item: str | None = None, project: str | None = None, light: str | None = None,
          sort: str | None = None) -> tasks.InboxPage:
    """The unit's open tasks (the tasks service decides visibility), filtered also by light, sorted."""
    where = [light_condition(session, light, platform.now(), platform.settings.WARNING_SHARE)] if light else []
    return tasks.inbox(session, user, page, page_size, stage=stage or None, item=item or None,
                       project=project or None, where=where, sort=sort or "deadline")

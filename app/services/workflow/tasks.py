"""Human tasks: keeping them in step with the engine, inboxes, claims."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session, selectinload

from engine.runtime import UserTaskView

from ...db import remembered
from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...models import HumanTask, ProcessInstance, User
from ..organisation import routing

if TYPE_CHECKING:
    from ...platform import Platform

OFFICER_ROLES = {"window", "officer", "supervisor"}
SUPERVISOR = "supervisor"  # HumanTask.audience of supervision (督办) tasks
#: Lanes routed to an enterprise that is not the project's: the commissioned intermediary (中介服务).
FIRM_LANES = {"intermediary"}


def sync_human_tasks(session: Session, platform: Platform, instance: ProcessInstance,
                     ready: Iterable[UserTaskView]) -> None:
    """Open a row for every new ready user task; cancel rows whose task went away."""
    with session.no_autoflush:  # one flush at the end of the save, not one per lookup
        _sync(session, platform, instance, {view.task_id: view for view in ready})


def _sync(session: Session, platform: Platform, instance: ProcessInstance,
          ready: dict[str, UserTaskView]) -> None:
    # rows changed in this unit of work but not yet flushed keep their in-memory status
    kept = _kept_rows(session, instance.id)
    open_rows = [row for row in kept if row.status == "open"]
    known = {row.task_id for row in open_rows}
    for row in open_rows:
        if row.task_id not in ready:
            row.status = "cancelled"
            row.completed_at = platform.now()
    project = instance.project
    for task_id, view in ready.items():
        if task_id in known:
            continue
        row = HumanTask(instance_id=instance.id, project_id=project.id, task_id=task_id,
                        spec_name=view.spec_name, title=view.title, process_id=view.process_id,
                        lane_role=view.lane, item_code=view.item_code, form=view.form,
                        status="open", created_at=platform.now(),
                        audience=SUPERVISOR if view.properties.get("audience") == SUPERVISOR else None)
        if view.lane == "applicant":
            row.enterprise_id = project.enterprise_id
        elif view.lane in FIRM_LANES:
            pass  # a ``task_opened`` subscriber routes it to the firm the applicant commissioned
        elif view.lane:
            row.unit_id = routing.resolve(session, view.lane, project.division_code)
        platform.hooks.emit("task_opened", session, platform, instance, row)  # due time, item handling
        session.add(row)
        kept.append(row)


def _kept_rows(session: Session, instance_id: int) -> list[HumanTask]:
    """The instance's task rows that were open when this transaction first asked, and those it opened since.

    Only ``_sync`` opens task rows, so the list stays complete for the transaction; a row's own
    ``status`` says whether it is still open.
    """
    return remembered(session, ("open_tasks", instance_id), lambda: list(session.scalars(
        _OPEN_OF_INSTANCE, {"instance_id": instance_id})))


_OPEN_OF_INSTANCE = select(HumanTask).where(HumanTask.instance_id == bindparam("instance_id"),
                                            HumanTask.status == "open")


def open_rows(session: Session, instance_id: int) -> list[HumanTask]:
    """The open task rows of an instance, oldest first (remembered for the transaction, see ``_kept_rows``)."""
    session.flush()  # rows opened by this transaction get their ids
    return sorted((row for row in _kept_rows(session, instance_id) if row.status == "open"), key=lambda r: r.id)


def get_task(session: Session, task_id: int, refresh: bool = False) -> HumanTask:
    """A human task row by id, or 404."""
    query = select(HumanTask).where(HumanTask.id == task_id)
    if refresh:
        query = query.execution_options(populate_existing=True)
    row = session.scalars(query).one_or_none()
    if row is None:
        raise NotFound(f"task {task_id} does not exist")
    return row


def may_see(user: User, row: HumanTask) -> bool:
    """Who may open a task (read it, its application and materials).

    Administrators see every task; a supervisor sees its unit's work; an officer or window its
    unit's tasks of its lanes; an applicant its enterprise's.  Supervision tasks (督办) are the
    supervisors' alone.  Seeing is not acting: ``may_complete`` says who may act.
    """
    if user.role == "admin":
        return True
    if row.audience == SUPERVISOR:  # supervision tasks: the supervisors of the unit only
        return user.role == SUPERVISOR and user.unit_id is not None and row.unit_id == user.unit_id
    if row.enterprise_id is not None:  # the project's enterprise, or the intermediary it commissioned
        role = "intermediary" if row.lane_role in FIRM_LANES else "applicant"
        return user.role == role and user.enterprise_id == row.enterprise_id
    if user.role not in OFFICER_ROLES or user.unit_id is None or row.unit_id != user.unit_id:
        return False
    return not user.lanes or row.lane_role in user.lanes


def may_complete(user: User, row: HumanTask) -> bool:
    """Who may claim and complete a task: the role whose name the task's lane bears.

    The window and department officers act on their unit's tasks of their lanes; a supervisor
    only on the supervision tasks (督办, ``audience=supervisor``) routed to its unit; an
    applicant on its enterprise's tasks, an intermediary on the tasks of a service it was commissioned for.
    Administrators and analysts never act for a department.
    """
    if not may_see(user, row):
        return False
    if row.audience == SUPERVISOR:
        return user.role == SUPERVISOR
    if row.enterprise_id is not None:  # the project's enterprise, or the intermediary it commissioned
        return user.role == ("intermediary" if row.lane_role in FIRM_LANES else "applicant")
    return user.role in ("window", "officer")


def visible_task(session: Session, user: User, task_id: int) -> HumanTask:
    """A task the user may see, else 404 (no hint that it exists)."""
    row = get_task(session, task_id)
    if not may_see(user, row):
        raise NotFound(f"task {task_id} does not exist")
    return row


def ensure_can_complete(row: HumanTask, user: User) -> None:
    """The one check before claiming or completing: 404 unseen, 403 not one's to do, 409 done or held."""
    if not may_see(user, row):
        raise NotFound(f"task {row.id} does not exist")
    if not may_complete(user, row):
        raise Forbidden(f"a {user.role} may see this task but not act on it: it belongs to the "
                        f"{row.lane_role or 'supervision'} lane")
    if row.status != "open":
        raise Conflict(f"task {row.id} was already {row.status}")
    if row.assignee_id is not None and row.assignee_id != user.id:
        raise Conflict(f"task {row.id} is held by another officer")


def mark_completed(session: Session, platform: Platform, row: HumanTask, data: dict[str, Any],
                   actor: User) -> None:
    """Close the row of a task the engine has just completed."""
    row.status = "completed"
    row.completed_at = platform.now()
    row.completed_by = actor.id
    row.outcome = str(data.get("outcome"))[:20] if data.get("outcome") is not None else None


def claim(session: Session, user: User, task_id: int) -> HumanTask:
    """Take a task so no one else completes it; 403 if it is not one's to do, 409 if someone holds it."""
    row = get_task(session, task_id)
    ensure_can_complete(row, user)
    row.assignee_id = user.id
    return row


def unclaim(session: Session, user: User, task_id: int) -> HumanTask:
    """Give a held task back to the unit (only the one who holds it, or who could hold it)."""
    row = visible_task(session, user, task_id)
    if not may_complete(user, row):
        raise Forbidden("only who may act on this task may give it back")
    if row.assignee_id not in (None, user.id):
        raise Conflict(f"task {row.id} is held by another officer")
    row.assignee_id = None
    return row


@dataclass
class InboxPage:
    """One page of an inbox, oldest deadline first."""

    rows: list[HumanTask]
    total: int
    page: int
    page_size: int


#: How an inbox can be ordered: oldest deadline first, or by when the application was submitted.
INBOX_SORTS = ("deadline", "submitted", "submitted_desc")


def inbox(session: Session, user: User, page: int = 1, page_size: int = 50,
          stage: str | None = None, item: str | None = None, project: str | None = None,
          where: Iterable = (), sort: str = "deadline") -> InboxPage:
    """The open tasks routed to the user's unit (or enterprise), oldest deadline first.

    ``where`` adds further conditions on ``HumanTask`` (e.g. the workbench's light filter);
    ``sort`` is one of ``INBOX_SORTS``: by deadline, or by when the application was submitted.
    """
    if sort not in INBOX_SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(INBOX_SORTS)}", {"sort": "invalid"})
    query = select(HumanTask).where(HumanTask.status == "open", *where)
    if user.role == "applicant":
        query = query.where(HumanTask.enterprise_id == user.enterprise_id, HumanTask.lane_role.not_in(FIRM_LANES))
    elif user.role == "intermediary":
        query = query.where(HumanTask.enterprise_id == user.enterprise_id, HumanTask.lane_role.in_(FIRM_LANES))
    elif user.role in OFFICER_ROLES and user.unit_id is not None:
        query = query.where(HumanTask.unit_id == user.unit_id)
        if user.lanes:
            query = query.where(HumanTask.lane_role.in_(user.lanes))
        if user.role != SUPERVISOR:
            query = query.where(or_(HumanTask.audience.is_(None), HumanTask.audience != SUPERVISOR))
    elif user.role != "admin":
        return InboxPage([], 0, page, page_size)
    if stage or sort != "deadline":
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    if stage:
        query = query.where(ProcessInstance.stage_key == stage)
    if item:
        query = query.where(HumanTask.item_code == item)
    if project:
        from ...models import Project
        query = query.join(Project, Project.id == HumanTask.project_id).where(Project.code == project)
    # Count and page over task ids only (an index-only scan with ix_human_task_unit_lane), then
    # load the one page of rows: sorting whole rows of a large unit's inbox costs far more.
    ids = query.with_only_columns(HumanTask.id)
    ordering = (HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.id)
    total = session.scalar(select(func.count()).select_from(ids.subquery()))
    if sort == "deadline":
        page_ids = ids.order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
    else:  # by submission: the application's start; ties by task
        submitted = ProcessInstance.started_at.desc() if sort == "submitted_desc" else ProcessInstance.started_at
        ordering = (submitted, HumanTask.id)
        page_ids = ids.order_by(*ordering).limit(page_size).offset((page - 1) * page_size)
        ordered = {task_id: n for n, task_id in enumerate(session.scalars(page_ids))}
        rows = session.scalars(select(HumanTask).where(HumanTask.id.in_(list(ordered)))
                               .options(selectinload(HumanTask.handling), selectinload(HumanTask.instance))).all()
        return InboxPage(sorted(rows, key=lambda r: ordered[r.id]), total or 0, page, page_size)
    rows = session.scalars(select(HumanTask).where(HumanTask.id.in_(page_ids.scalar_subquery()))
                           .order_by(*ordering)
                           .options(selectinload(HumanTask.handling), selectinload(HumanTask.instance))).all()
    return InboxPage(list(rows), total or 0, page, page_size)

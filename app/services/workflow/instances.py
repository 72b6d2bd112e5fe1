"""Engine operations on one process instance, each under the instance's row lock.

Every operation follows the same shape: lock the row, load the state with the
sandbox re-attached, run, save the state and sync the derived rows (open human
tasks, next timer due time, item handlings, audit) in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import EngineError, ScriptError
from engine.serializer import SERIALIZER_VERSION

from ...db import is_sqlite, url_key
from ...errors import Conflict, InvalidInput, NotFound
from ...models import HumanTask, ProcessInstance, Project, User
from ...stages import Stage
from ..flows.deployments import active_version
from ..trail import audit
from . import scripting, tasks

if TYPE_CHECKING:
    from ...platform import Platform

END_STATUS = {"end_approved": "approved", "end_refused": "refused", "end_rejected": "rejected",
              "end_revoked": "revoked"}


def lock_instance(session: Session, instance_id: int) -> ProcessInstance:
    """Load an instance row for update (``FOR UPDATE`` on PostgreSQL), or 404.

    On SQLite the write transaction began with ``BEGIN IMMEDIATE`` and already
    holds the database's write lock.  ``lock_task`` locks a task with its instance.
    """
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id)
    if not is_sqlite(session):
        query = query.with_for_update(of=ProcessInstance)
    instance = session.scalars(query.execution_options(populate_existing=True)).unique().one_or_none()
    if instance is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    return instance


#: ``lock_task``'s statement, built once (every completion runs it).
_TASK_WITH_INSTANCE = (select(ProcessInstance, HumanTask).join(HumanTask, HumanTask.instance_id == ProcessInstance.id)
                       .where(HumanTask.id == bindparam("task_id")).execution_options(populate_existing=True))
_TASK_WITH_INSTANCE_FOR_UPDATE = _TASK_WITH_INSTANCE.with_for_update(of=[ProcessInstance, HumanTask])


def lock_task(session: Session, task_id: int) -> tuple[ProcessInstance, HumanTask]:
    """A human task row and its instance, both read for update in one statement (or 404).

    Both rows are locked (``FOR UPDATE OF`` both), so PostgreSQL re-reads each at its latest
    committed version once the lock is granted: a task completed by the transaction we waited
    for is seen as completed, never as the open row of the statement's snapshot.
    """
    query = _TASK_WITH_INSTANCE if is_sqlite(session) else _TASK_WITH_INSTANCE_FOR_UPDATE
    found = session.execute(query, {"task_id": task_id}).unique().one_or_none()
    if found is None:
        raise NotFound(f"task {task_id} does not exist")
    return found[0], found[1]


@contextmanager
def running(session: Session, platform: Platform, instance_id: int | None = None, *,
            locked: ProcessInstance | None = None) -> Iterator[tuple]:
    """Lock, load, yield ``(instance, workflow)``, then save and sync.

    ``locked``: an instance this transaction has locked already (``lock_task``).
    """
    instance = locked if locked is not None else lock_instance(session, instance_id)
    workflow = platform.workflows.take(_cache_key(session, instance.id), instance.version)
    if workflow is None:
        workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
    with scripting.script_session(session):  # deadline(...) timers read this transaction's handlings
        yield instance, workflow
        save(session, platform, instance, workflow)


def _cache_key(session: Session, instance_id: int) -> tuple[str, int]:
    return (url_key(session), instance_id)


def save(session: Session, platform: Platform, instance: ProcessInstance, workflow) -> None:
    """Store the state and bring the derived rows in line with it."""
    runtime = platform.runtime
    instance.state = runtime.dump(workflow)
    instance.serializer_version = SERIALIZER_VERSION
    instance.next_timer_at = runtime.next_timer_due(workflow)
    instance.marks = json.dumps(runtime.element_marks(workflow), separators=(",", ":"))
    outcome = runtime.outcome(workflow)
    if outcome is not None and instance.status == "running":
        instance.status = END_STATUS.get(outcome.end_event or "", "completed")
        instance.end_event = outcome.end_event
        instance.completed_at = platform.now()
        audit.record(session, platform, "stage_finished", instance=instance,
                     detail={"stage": instance.stage_key, "status": instance.status})
        platform.hooks.emit("finished", session, platform, instance)  # the result's notifications
    tasks.sync_human_tasks(session, platform, instance, runtime.ready_user_tasks(workflow))
    platform.hooks.emit("run", session, platform, instance, workflow)  # decided items, 告知承诺, 容缺
    try:
        session.flush()
    except StaleDataError as exc:
        raise Conflict("the application was changed by someone else; reload and try again") from exc
    platform.workflows.put(_cache_key(session, instance.id), instance.version, workflow)


def forget(session: Session, platform: Platform, instance: ProcessInstance) -> None:
    """Drop the cached workflow of an instance whose transaction is about to roll back (a refused start)."""
    platform.workflows.take(_cache_key(session, instance.id), instance.version)


def start_stage(session: Session, platform: Platform, project: Project, stage: Stage,
                data: dict[str, Any], actor: User | None, engineering_code: str | None = None) -> ProcessInstance:
    """Start a stage application with its one form (一张表单), filed under a code of any level."""
    platform.forms.validate(stage.form, data)
    return start_process(session, platform, project, stage.key, stage.process_id, data, actor,
                         engineering_code=engineering_code)


def start_process(session: Session, platform: Platform, project: Project, stage_key: str, process_id: str,
                  data: dict[str, Any], actor: User | None, version: int | None = None,
                  engineering_code: str | None = None) -> ProcessInstance:
    """Start an instance of a deployed process (default: the active deployment) with its data."""
    version = version or active_version(session)
    bundle = platform.specs.get(process_id, version)
    start_data = {"project": project_data(project), "application": data}
    platform.hooks.emit("starting", session, platform, project, stage_key, data, start_data)  # DMN facts
    try:
        with scripting.script_session(session):
            workflow = platform.runtime.start(bundle, start_data)
    except ScriptError as exc:
        raise InvalidInput(f"the application cannot start: {exc.message}") from exc
    instance = ProcessInstance(project_id=project.id, stage_key=stage_key, process_id=process_id,
                               spec_key=bundle.key, state="", serializer_version=SERIALIZER_VERSION,
                               status="running", application=json.dumps(data, ensure_ascii=False),
                               started_at=platform.now(), engineering_code=engineering_code or project.code)
    instance.project = project
    session.add(instance)
    session.flush()
    audit.record(session, platform, "stage_started", actor=actor, instance=instance,
                 detail={"stage": stage_key, "spec": bundle.key})
    save(session, platform, instance, workflow)
    return instance


def complete_task(session: Session, platform: Platform, human_task_id: int, data: dict[str, Any],
                  actor: User) -> Any:
    """Complete a routed user task with validated form data; 409 if already done."""
    locked, task_row = lock_task(session, human_task_id)  # the task row is read under the instance's lock
    with running(session, platform, locked=locked) as (instance, workflow):
        set_committed_value(task_row, "instance", instance)  # the answer's view reads it: no second load
        tasks.ensure_can_complete(task_row, actor)
        if task_row.form:
            platform.forms.validate(task_row.form, data)
        try:
            platform.runtime.complete(workflow, task_row.task_id, data)
        except EngineError as exc:
            raise InvalidInput(f"the task could not be completed: {exc.message}") from exc
        tasks.mark_completed(session, platform, task_row, data, actor)
        platform.hooks.emit("task_completed", session, platform, instance, workflow, task_row, data, actor)
        audit.record(session, platform, "task_completed", actor=actor, instance=instance,
                     detail={"task": task_row.spec_name, "title": task_row.title,
                             "item": task_row.item_code, "outcome": data.get("outcome"),
                             "opinion": data.get("opinion", "")})
    return task_row


def fire_timers(session: Session, platform: Platform, instance_id: int, owner: str | None = None) -> list[str]:
    """Fire the due timers of one instance (called by the scheduler); return the names of those that fired.

    With ``owner``, nothing happens unless that scheduler still holds the
    instance's claim: an expired claim may have been taken over by another.
    """
    locked = lock_instance(session, instance_id)
    if owner is not None and locked.timer_owner != owner:
        return []
    with running(session, platform, locked=locked) as (instance, workflow):
        fired = platform.runtime.fire_timers(workflow)
        if fired:
            audit.record(session, platform, "timers_fired", instance=instance, detail={"timers": fired})
    return fired


def project_data(project: Project) -> dict[str, Any]:
    """The project facts every stage process starts with."""
    return {"code": project.code, "name": project.name, "division": project.division_code,
            "flow_type": project.flow_type, "investment_type": project.investment_type}

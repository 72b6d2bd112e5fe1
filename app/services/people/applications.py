"""The applicant's side of a running stage: correction requests and withdrawal (BLZT 2)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...errors import Conflict, Forbidden, NotFound
from ...models import AuditEvent, HumanTask, ItemHandling, ItemHandlingEvent, ProcessInstance, User
from ..timelimits import itemclock
from ..trail import audit
from ..workflow import instances
from . import materials
from .projects import visible_project

WITHDRAWN = 2  # national handling state: withdrawn by the applicant
CORRECTION_OUTCOMES = ("correct", "insufficient")


def correction_request(session: Session, platform, row: HumanTask) -> dict[str, Any]:
    """Who asked for the correction behind an applicant's task, their opinion and the missing materials."""
    events = session.scalars(select(AuditEvent).where(
        AuditEvent.instance_id == row.instance_id, AuditEvent.kind == "task_completed",
        AuditEvent.at <= row.created_at).order_by(AuditEvent.id.desc()).limit(100))
    request: dict[str, Any] = {"by": "", "opinion": "", "missing_materials": [], "at": None}
    for event in events:
        detail = json.loads(event.detail or "{}")
        if detail.get("outcome") in CORRECTION_OUTCOMES:
            request.update(by=detail.get("title", ""), opinion=detail.get("opinion", ""), at=event.at)
            break
    request["missing_materials"] = _missing_materials(platform, row)
    return request


def _missing_materials(platform, row: HumanTask) -> list[str]:
    """The materials listed by the form that asked for the correction (from the task's data)."""
    instance = row.instance
    try:
        workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
        data = platform.runtime.find_task(workflow, row.task_id).data
    except Exception:  # noqa: BLE001 - the list is a convenience; the opinion says it all
        return []
    answers = [v for k, v in data.items() if isinstance(v, dict) and v.get("outcome") in CORRECTION_OUTCOMES]
    recheck = data.get("correction_recheck")
    if isinstance(recheck, dict) and recheck.get("outcome") == "insufficient":
        answers = [recheck]
    found: list[str] = []
    for answer in answers:
        found += [m for m in answer.get("missing_materials") or [] if isinstance(m, str) and m not in found]
    return found


def filed_application(session: Session, platform, project, instance_id: int) -> dict[str, Any]:
    """What was filed with one of the project's stage applications: the form as filed, and each
    material of its decided items with the version that was current then and every later one."""
    from ...stages import BY_KEY
    from ..catalogue import decisions
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.project_id != project.id or instance.stage_key not in BY_KEY:
        raise NotFound(f"no application {instance_id} for project {project.code}")
    stage = BY_KEY[instance.stage_key]
    data = json.loads(instance.application or "{}")
    codes = [row.item_code for row in decisions.plan_items(session, instance.id)]
    needed = materials.checklist(session, platform, project, stage, data, item_codes=codes)
    ids = [n.upload.id for n in needed if n.upload is not None]
    versions = materials.versions_of(session, ids)
    rows = []
    for entry in needed:
        kept = versions.get(entry.upload.id, []) if entry.upload else []
        filed = next((v for v in kept if v.uploaded_at <= instance.started_at), None)
        rows.append({"need": entry, "filed": filed, "versions": kept,
                     "later": [v for v in kept if v.uploaded_at > instance.started_at]})
    return {"instance": instance, "stage": stage, "data": data, "materials": rows,
            "schema": platform.forms.schema(stage.form), "items": codes}


def correction_deadline(platform, row: HumanTask):
    """When a correction (补正) is due: the task's own deadline, else ``CORRECTION_WORKING_DAYS``
    working days after it was asked for."""
    if row.due_at is not None:
        return row.due_at
    return platform.calendar.due_date(row.created_at, platform.settings.CORRECTION_WORKING_DAYS, "working_days")


def withdraw(session: Session, platform, actor: User, code: str, instance_id: int) -> ProcessInstance:
    """Withdraw a running stage application: its tasks are cancelled, its open items marked BLZT 2."""
    project = visible_project(session, actor, code)
    if actor.role not in ("applicant", "admin"):
        raise Forbidden("only the applicant withdraws an application")
    instance = session.get(ProcessInstance, instance_id)
    if instance is None or instance.project_id != project.id:
        raise NotFound(f"no application {instance_id} for project {code}")
    with instances.running(session, platform, instance_id) as (locked, workflow):
        if locked.status != "running":
            raise Conflict(f"the application is already {locked.status}")
        workflow.cancel()
        locked.status = "withdrawn"
        locked.completed_at = platform.now()
        for handling in session.scalars(select(ItemHandling).where(
                ItemHandling.instance_id == locked.id, ItemHandling.finished_at.is_(None))):
            handling.state = WITHDRAWN
            itemclock.finish(handling, platform, platform.now())
            session.add(ItemHandlingEvent(handling_id=handling.id, state=WITHDRAWN, at=platform.now(),
                                          actor_id=actor.id, opinion="申请人撤回申请"))
        audit.record(session, platform, "stage_withdrawn", actor=actor, instance=locked,
                     detail={"stage": locked.stage_key})
    return locked

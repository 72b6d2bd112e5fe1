"""A project's progress (码上跟踪): stage bar, item handlings with lights, diagram marks, history."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field

from lxml import etree
from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import url_key
from ...models import AuditEvent, DeploymentFile, HumanTask, ItemHandling, ProcessInstance, Project, Unit, User
from ...stages import STAGES
from ..timelimits import lights
from ..timelimits.handlings import STATE_NAMES
from ..trail import audit
from .projects import stage_status

STATUS_NAMES = {"locked": "未开放", "open": "可申报", "running": "办理中", "approved": "已办结",
                "refused": "不予许可", "rejected": "不予受理", "withdrawn": "已撤回", "completed": "已结束"}
BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
_DIAGRAMS: dict[tuple[str, int, str], bytes] = {}
_LANED: dict[tuple[str, bool], bytes] = {}


def light_of(platform, handling: ItemHandling, now: dt.datetime) -> str:
    """The traffic light of an item handling (the time-limit service's one definition)."""
    return lights.light(handling, now)


@dataclass
class ItemRow:
    """One item handling as the progress page shows it."""

    id: int
    item_code: str
    item_name: str
    stage: str
    state: int
    state_name: str
    unit_name: str
    accepted_at: dt.datetime
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    light: str
    role: str = ""  # the lane role that reviews the item
    role_name: str = ""  # its department, as people say it (自然资源和规划)
    role_name_en: str = ""


@dataclass
class Progress:
    """Everything the progress page needs."""

    project: Project
    stages: list[dict]
    items: list[ItemRow]
    instances: list[ProcessInstance]
    history: list[dict] = field(default_factory=list)


def item_rows(session: Session, platform, project: Project) -> list[ItemRow]:
    """The project's item handlings with department, deadline and light."""
    now = platform.now()
    rows = session.execute(
        select(ItemHandling, Unit.name, ProcessInstance.stage_key)
        .join(ProcessInstance, ProcessInstance.id == ItemHandling.instance_id)
        .outerjoin(Unit, Unit.id == ItemHandling.unit_id)
        .where(ItemHandling.project_id == project.id).order_by(ItemHandling.id)).all()
    out = []
    for h, unit_name, stage_key in rows:
        try:
            item = platform.catalog.item(h.item_code)
            name, role = item.name, item.role
        except Exception:  # noqa: BLE001 - an item no longer in the catalogue shows its code
            name, role = h.item_code, ""
        department = platform.catalog.roles.get(role)
        out.append(ItemRow(h.id, h.item_code, name, stage_key, h.state, STATE_NAMES.get(h.state, str(h.state)),
                           unit_name or "", h.accepted_at, h.due_at, h.finished_at, light_of(platform, h, now),
                           role, department.name if department else "", department.name_en if department else ""))
    return out


def stage_bar(project: Project) -> list[dict]:
    """The four stages and the parallel track with their statuses."""
    return [{"key": s.key, "order": s.order, "name": s.name, "name_en": s.name_en,
             "status": (status := stage_status(project, s)), "status_name": STATUS_NAMES.get(status, status)}
            for s in STAGES]


def history(session: Session, project: Project, limit: int = 200) -> list[dict]:
    """The project's audit events, newest first, with the actor's name."""
    rows = session.execute(select(AuditEvent, User.display_name)
                           .outerjoin(User, User.id == AuditEvent.actor_id)
                           .where(AuditEvent.project_code == project.code)
                           .order_by(AuditEvent.id.desc()).limit(limit)).all()
    marks = audit.verified_marks(session, [event for event, _ in rows])  # the hash chain (issue 10)
    out = []
    for event, actor in rows:
        try:
            detail = json.loads(event.detail or "{}")
        except ValueError:
            detail = {}
        out.append({"at": event.at, "kind": event.kind, "actor": actor or "系统", "detail": detail,
                    "seq": event.seq, "row_hash": event.row_hash, "verified": marks.get(event.id, False)})
    return out


def project_progress(session: Session, platform, project: Project, with_history: bool = True) -> Progress:
    """Stage bar, item handlings and (optionally) the history of one project."""
    instances = list(session.scalars(select(ProcessInstance).where(ProcessInstance.project_id == project.id)
                                     .order_by(ProcessInstance.id)))
    return Progress(project, stage_bar(project), item_rows(session, platform, project), instances,
                    history(session, project) if with_history else [])


def diagram_xml(session: Session, spec_key: str) -> bytes | None:
    """The BPMN file of the deployment that defines the spec key's process."""
    process_id, _, version = spec_key.rpartition("@")
    key = (url_key(session), int(version or 0), process_id)
    if key not in _DIAGRAMS:
        for row in session.scalars(select(DeploymentFile).where(DeploymentFile.version == key[1])):
            if not row.path.endswith(".bpmn"):
                continue
            tree = etree.fromstring(row.content, etree.XMLParser(resolve_entities=False, no_network=True))
            if tree.find(f"{{{BPMN_NS}}}process[@id='{process_id}']") is not None:
                _DIAGRAMS[key] = row.content
                break
    return _DIAGRAMS.get(key)


def diagram_marks(platform, instance: ProcessInstance) -> dict[str, list[str]]:
    """The BPMN element ids of the instance's top level that are done and that are active.

    Read from the row's ``marks`` (written by every save); only an instance saved before
    marks existed has its state loaded, once, to compute them.
    """
    if instance.marks:
        return json.loads(instance.marks)
    workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
    return platform.runtime.element_marks(workflow)


def department_lanes(xml: bytes, catalog, english: bool = False) -> bytes:
    """The BPMN file with each lane named by its department (自然资源和规划), not its role code."""
    key = (hashlib.sha256(xml).hexdigest(), english)
    if key not in _LANED:
        tree = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, no_network=True))
        for lane in tree.iter(f"{{{BPMN_NS}}}lane"):
            role = catalog.roles.get((lane.get("name") or "").strip())
            if role is not None:
                lane.set("name", (role.name_en or role.name) if english else role.name)
        if len(_LANED) > 64:
            _LANED.clear()
        _LANED[key] = etree.tostring(tree, xml_declaration=True, encoding="UTF-8")
    return _LANED[key]


def stage_timeline(session: Session, platform, instance: ProcessInstance | None) -> list[dict]:
    """The application's steps in order, in plain words: submitted, each task with who and when, the end.

    Read from the task rows (never from the workflow state), for people who do not read BPMN.
    """
    if instance is None:
        return []
    steps = [{"kind": "start", "title": "提交申请", "at": instance.started_at, "status": "done",
              "department": "", "unit": ""}]
    rows = session.execute(select(HumanTask, Unit.name).outerjoin(Unit, Unit.id == HumanTask.unit_id)
                           .where(HumanTask.instance_id == instance.id, HumanTask.audience.is_(None))
                           .order_by(HumanTask.created_at, HumanTask.id)).all()
    for task, unit_name in rows:
        role = platform.catalog.roles.get(task.lane_role or "")
        department = ("申请人" if task.lane_role == "applicant" else role.name if role else "")
        steps.append({"kind": "task", "title": task.title, "department": department,
                      "department_en": role.name_en if role else "", "unit": unit_name or "",
                      "status": {"open": "active", "completed": "done"}.get(task.status, task.status),
                      "at": task.completed_at if task.status == "completed" else task.created_at,
                      "due_at": task.due_at, "outcome": task.outcome})
    if instance.status != "running":
        steps.append({"kind": "end", "title": STATUS_NAMES.get(instance.status, instance.status),
                      "at": instance.completed_at, "status": instance.status, "department": "", "unit": ""})
    return steps

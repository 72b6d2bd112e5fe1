"""Selecting a firm and the tracked contract (服务合同) that follows: commission, accept, deliver, rate.

The ``intermediary_service`` process (``processes/intermediary/service.bpmn``) runs
the contract's tasks; the row beside it keeps what the directory, supervisors
and the exchange read.  The delivery time is counted in working days on the
platform's clock from the acceptance, and its light is the items' one
(:func:`engine.timelimits.light`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping, Sequence
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.timelimits import ItemClock, light, thresholds

from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...models import HumanTask, IntermediaryService, Material, ProcessInstance, Project, User
from ..exchange.extract import Derived
from ..exchange.tables import INTERMEDIARY
from ..organisation import routing
from ..people import materials, projects
from ..trail import audit
from ..workflow import instances
from . import registry

PROCESS_ID, STAGE_KEY = "intermediary_service", "intermediary"
METHODS = ("direct", "random")
OPEN = ("commissioned", "accepted", "delivered")
STATUS_NAMES = {"commissioned": "待承接", "accepted": "服务中", "delivered": "已提交成果", "completed": "已评价",
                "refused": "拒绝承接"}


def draw(seed: str, candidates: Sequence[int]) -> int:
    """The firm a random draw picks: SHA-256 of the seed and the sorted candidate ids, modulo their number.

    Anyone holding the recorded seed and candidates repeats the draw and gets the same firm.
    """
    if not candidates:
        raise InvalidInput("no qualified intermediary to draw from", {"service": "没有具备有效资质的中介机构"})
    ordered = sorted(candidates)
    digest = hashlib.sha256(f"{seed}:{','.join(map(str, ordered))}".encode()).hexdigest()
    return ordered[int(digest, 16) % len(ordered)]


def commission(session: Session, platform, actor: User, project_code: str,
               data: Mapping[str, Any]) -> IntermediaryService:
    """Select a firm for a project and service (direct or random draw, recorded) and start the contract."""
    if actor.role != "applicant":
        raise Forbidden("the project's applicant commissions an intermediary")
    project = projects.visible_project(session, actor, project_code)
    fields: dict[str, str] = {}
    kind = None
    try:
        kind = registry.service_kind(platform, str(data.get("service") or ""))
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    method = data.get("method")
    if method not in METHODS:
        fields["method"] = "选取方式须为 direct（直接选取）或 random（随机抽取）"
    days = data.get("committed_days", kind.days if kind else None)
    if isinstance(days, str) and days.strip().isdigit():
        days = int(days)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 120:
        fields["committed_days"] = "约定时限为1至120个工作日"
    if fields:
        raise InvalidInput("the commission has errors", fields)
    if session.scalar(select(IntermediaryService.id).where(
            IntermediaryService.project_id == project.id, IntermediaryService.service == kind.code,
            IntermediaryService.status.in_(OPEN))):
        raise Conflict(f"a {kind.name} service is already running for this project")
    candidates = [f.id for f in registry.qualified_firms(session, kind.code, platform.now().date())]
    seed = None
    if method == "direct":
        firm_id = data.get("firm_id")
        if isinstance(firm_id, str) and firm_id.isdigit():
            firm_id = int(firm_id)
        if firm_id not in candidates:
            raise InvalidInput("the firm is not qualified for this service",
                               {"firm_id": "所选机构没有本项服务的有效资质，或未在中介超市公开"})
    else:
        seed = secrets.token_hex(16)
        firm_id = draw(seed, candidates)
    row = IntermediaryService(project_id=project.id, service=kind.code, firm_id=firm_id, method=method,
                              candidates=json.dumps(candidates), draw_seed=seed, selected_by=actor.id,
                              selected_at=platform.now(), committed_days=days, status="commissioned")
    session.add(row)
    session.flush()
    audit.record(session, platform, "intermediary_selected", actor=actor, project_code=project.code,
                 detail={"service_id": row.id, "service": kind.code, "method": method, "firm": firm_id,
                         "candidates": candidates, "seed": seed})
    instance = instances.start_process(session, platform, project, STAGE_KEY, PROCESS_ID, {
        "service_id": row.id, "service": kind.code, "service_name": kind.name, "firm_id": firm_id,
        "committed_days": days, "report": kind.report}, actor)
    row.instance_id = instance.id
    return row


def get_service(session: Session, service_id: int) -> IntermediaryService:
    """A service by id, or 404."""
    row = session.get(IntermediaryService, service_id)
    if row is None:
        raise NotFound(f"intermediary service {service_id} does not exist")
    return row


def may_see(session: Session, user: User, row: IntermediaryService) -> bool:
    """The commissioning enterprise, the firm, the project's supervisors and officers, administrators."""
    if user.role in ("admin", "analyst"):
        return True
    if user.role == "applicant":
        return user.enterprise_id == row.project.enterprise_id
    if user.role == "intermediary":
        return user.enterprise_id == row.firm.enterprise_id
    if user.unit_id is None:
        return False
    return routing.resolve(session, "window", row.project.division_code) == user.unit_id or bool(
        session.scalar(select(HumanTask.id).where(HumanTask.project_id == row.project_id,
                                                  HumanTask.unit_id == user.unit_id).limit(1)))


def visible_service(session: Session, user: User, service_id: int) -> IntermediaryService:
    """A service the user may see, else 404."""
    row = get_service(session, service_id)
    if not may_see(session, user, row):
        raise NotFound(f"intermediary service {service_id} does not exist")
    return row


def services_of_project(session: Session, project: Project) -> list[IntermediaryService]:
    """Every intermediary service of a project, newest first."""
    return list(session.scalars(select(IntermediaryService).where(IntermediaryService.project_id == project.id)
                                .order_by(IntermediaryService.id.desc())))


def commissions(session: Session, user: User) -> list[IntermediaryService]:
    """The firm's commissions (only its own), open ones first."""
    firm = registry.firm_of_user(session, user)
    rows = session.scalars(select(IntermediaryService).where(IntermediaryService.firm_id == firm.id)
                           .order_by(IntermediaryService.id.desc()).limit(500))
    return sorted(rows, key=lambda r: (r.status not in OPEN, -r.id))


def open_task(session: Session, row: IntermediaryService) -> HumanTask | None:
    """The contract's open task (accept, deliver or rate), if any."""
    if row.instance_id is None:
        return None
    return session.scalar(select(HumanTask).where(HumanTask.instance_id == row.instance_id,
                                                  HumanTask.status == "open").order_by(HumanTask.id))


def service_light(platform, row: IntermediaryService) -> str:
    """green / yellow / red for the delivery, as for items (``none`` before acceptance or when refused)."""
    return light(row.due_at, row.warn_at, platform.now(), finished_at=row.delivered_at)


def upload_report(session: Session, platform, actor: User, service_id: int, filename: str,
                  stream: BinaryIO) -> Material:
    """The firm uploads its report: a material of the project under the report's name (serves its items)."""
    row = get_service(session, service_id)
    if actor.role != "intermediary" or actor.enterprise_id != row.firm.enterprise_id:
        raise NotFound(f"intermediary service {service_id} does not exist")
    if row.status != "accepted":
        raise Conflict("the report is uploaded while the service runs (accepted, not yet delivered)")
    kind = registry.service_kind(platform, row.service)
    material = materials.store(session, platform, actor, row.project, kind.report, filename, stream)
    row.report_material_id = material.id
    audit.record(session, platform, "intermediary_report_uploaded", actor=actor, project_code=row.project.code,
                 detail={"service_id": row.id, "material": material.id, "sha256": material.sha256})
    return material


def reports_for_item(session: Session, platform, project: Project, item_code: str | None) -> list[dict]:
    """The delivered reports of a project that an item's review needs (the material and the service behind it)."""
    if not item_code:
        return []
    out = []
    for row in services_of_project(session, project):
        kind = registry.service_kinds(platform).get(row.service)
        if kind is None or item_code not in kind.items or row.report_material_id is None or row.delivered_at is None:
            continue
        out.append({"service": row, "kind": kind, "material": session.get(Material, row.report_material_id),
                    "firm": row.firm.enterprise.name, "light": service_light(platform, row)})
    return out


def oversight(session: Session, platform, user: User) -> list[dict]:
    """Late (red) or refused services of the supervisor's projects (all for administrators)."""
    rows = session.scalars(select(IntermediaryService).where(IntermediaryService.status != "completed")
                           .order_by(IntermediaryService.id.desc()).limit(1000))
    done_late = session.scalars(select(IntermediaryService).where(
        IntermediaryService.status == "completed", IntermediaryService.delivered_at > IntermediaryService.due_at))
    out = []
    for row in [*rows, *done_late]:
        state = "refused" if row.status == "refused" else service_light(platform, row)
        if state not in ("refused", "red"):
            continue
        if user.role != "admin" and routing.resolve(session, "window", row.project.division_code) != user.unit_id:
            continue
        out.append({"service": row, "state": state, "kind": registry.service_kinds(platform).get(row.service)})
    return out


# ------------------------------------------------------------------ hook subscribers


def _service_of(session: Session, instance: ProcessInstance) -> IntermediaryService | None:
    application = json.loads(instance.application or "{}")
    service_id = application.get("service_id")
    return session.get(IntermediaryService, service_id) if isinstance(service_id, int) else None


def service_of_task(session: Session, row: HumanTask) -> IntermediaryService:
    """The service a task of the contract's process works on, or 404."""
    service = _service_of(session, row.instance)
    if service is None:
        raise NotFound(f"task {row.id} belongs to no intermediary service")
    return service


def on_task_opened(session: Session, platform, instance: ProcessInstance, row: HumanTask) -> None:
    """Hook ``task_opened``: the firm's tasks go to the firm; acceptance and delivery are due in working days."""
    if instance.process_id != PROCESS_ID:
        return
    service = _service_of(session, instance)
    if service is None:
        return
    if row.lane_role == "intermediary":
        row.enterprise_id = service.firm.enterprise_id
    if row.spec_name == "accept":
        clock = ItemClock(started_at=platform.now(), value=platform.settings.INTERMEDIARY_ACCEPT_DAYS,
                          unit="working_days")
        row.due_at = thresholds(platform.calendar, clock, platform.settings.WARNING_SHARE).due_at
    elif row.spec_name == "deliver":
        row.due_at = service.due_at


def on_task_completed(session: Session, platform, instance: ProcessInstance, workflow, row: HumanTask,
                      data: dict[str, Any], actor: User | None) -> None:
    """Hook ``task_completed``: keep the contract row in step with what was done."""
    if instance.process_id != PROCESS_ID:
        return
    service = _service_of(session, instance)
    if service is None:
        return
    now = platform.now()
    if row.spec_name == "accept" and data.get("outcome") == "accept":
        days = data.get("committed_days") or service.committed_days
        if days > service.committed_days:
            raise InvalidInput("the firm cannot commit to more than the agreed time",
                               {"committed_days": f"不超过委托时约定的 {service.committed_days} 个工作日"})
        clock = ItemClock(started_at=now, value=days, unit="working_days")
        limits = thresholds(platform.calendar, clock, platform.settings.WARNING_SHARE)
        service.committed_days, service.accepted_at = days, now
        service.due_at, service.warn_at, service.status = limits.due_at, limits.warn_at, "accepted"
    elif row.spec_name == "accept":
        service.status, service.refusal, service.finished_at = "refused", str(data.get("opinion") or ""), now
    elif row.spec_name == "deliver":
        if service.report_material_id is None:
            raise InvalidInput("upload the report before delivering", {"report": "请先上传服务成果（报告）文件"})
        service.delivered_at, service.status = now, "delivered"
        service.conclusion = f"{data.get('conclusion')}：{data.get('summary', '')}"[:2000]
    elif row.spec_name == "rate":
        service.rating, service.rating_comment = int(data["score"]), str(data.get("comment") or "")
        service.rated_at, service.finished_at, service.status = now, now, "completed"
    audit.record(session, platform, f"intermediary_{service.status}", actor=actor, instance=instance,
                 detail={"service_id": service.id, "task": row.spec_name})


# ------------------------------------------------------------------ the exchange (SPGL 3.0)

#: SPGL_ZJFWSXBLXXB 中介服务事项办理信息: how the firm was chosen (code table XZFS: 1 direct, 2 random draw).
SELECTION_CODES = {"direct": 1, "random": 2}
#: where the service stands (code table FWZT): 1 委托, 2 承接, 3 提交成果, 4 评价完成, 5 拒绝承接.
STATE_CODES = {"commissioned": 1, "accepted": 2, "delivered": 3, "completed": 4, "refused": 5}


def spgl_rows(session: Session, platform, projects: Sequence[Project]) -> list[Derived]:
    """The SPGL_ZJFWSXBLXXB rows of ``projects``' intermediary services, as the exchange pushes them.

    One row per service, keyed by the service; it changes (and is pushed again)
    as the firm accepts, delivers and is rated.
    """
    by_id = {p.id: p for p in projects}
    out = []
    for row in session.scalars(select(IntermediaryService).where(IntermediaryService.project_id.in_(list(by_id)))
                               .order_by(IntermediaryService.id)):
        project = by_id[row.project_id]
        kind = registry.service_kinds(platform).get(row.service)
        out.append(Derived(INTERMEDIARY.name, f"Z{row.id}", project.division_code, {
            "XMDM": project.code, "GCDM": project.code, "ZJFWSXBM": row.service,
            "ZJFWSXMC": kind.name if kind else row.service, "ZJJGMC": row.firm.enterprise.name,
            "ZJJGTYSHXYDM": row.firm.enterprise.credit_code, "XZFS": SELECTION_CODES[row.method],
            "WTSJ": row.selected_at, "CNBJSX": row.committed_days, "CJSJ": row.accepted_at, "JZSJ": row.due_at,
            "TJCGSJ": row.delivered_at, "FWZT": STATE_CODES.get(row.status, 1), "FWPJ": row.rating},
            project.code, project.code))
    return out


def on_exchange_rows(session: Session, platform, projects: Sequence[Project], rows: list) -> None:
    """Hook ``exchange_rows``: add the intermediary services of the batch's projects."""
    rows.extend(spgl_rows(session, platform, projects))

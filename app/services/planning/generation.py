"""Planning generation (策划生成): propose, the departments' parallel opinions, the result, stage 1's head start.

The ``planning_generation`` process (``processes/planning/generation.bpmn``) runs
the departments' opinions; this module keeps the proposal row beside it.  The
result is recorded from the last opinion of every department when the process
reaches ``end_approved``: their conditions, the stage-1 items they require, the
items they settled, and whether a regional assessment (区域评估) covers the site.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.catalog import CatalogError
from engine.decisions import completed_answer
from engine.timelimits import ItemClock, light, thresholds

from ...errors import Forbidden, InvalidInput, NotFound
from ...models import Division, Enterprise, HumanTask, PlanningProposal, ProcessInstance, Project, User
from ..organisation import routing
from ..people import projects
from ..trail import audit
from ..workflow import instances
from . import zones

PROCESS_ID, STAGE_KEY = "planning_generation", "planning"
LEAD_ROLES = ("drc", "planning")
REVIEW_ROLES = ("planning", "environment", "forestry", "water", "culture")
PROPOSAL_FIELDS = {"name", "division", "investment_type", "flow_type", "enterprise_credit_code", "site", "area_m2",
                   "lead_role", "description"}


def lead_role_for(session: Session, actor: User, division: str, wanted: str | None = None) -> str:
    """The lead lane the actor proposes for in ``division`` (发展改革 or 资规); 403 if their unit does not lead."""
    if actor.role not in ("officer", "window"):
        raise Forbidden("only a lead department's officer proposes a project for planning generation")
    choices = [r for r in LEAD_ROLES if (not actor.lanes or r in actor.lanes) and (wanted in (None, "", r))]
    for role in choices:
        try:
            if routing.resolve(session, role, division) == actor.unit_id:
                return role
        except InvalidInput:
            continue
    raise Forbidden("your unit is not the lead department (发展改革 or 自然资源和规划) for this division")


def propose(session: Session, platform, actor: User, data: Mapping[str, Any]) -> PlanningProposal:
    """Declare a project for planning generation with its site, check the site, start the departments' round."""
    if not isinstance(data, Mapping):
        raise InvalidInput("the body must be a JSON object")
    fields: dict[str, str] = {k: "unknown field" for k in sorted(set(data) - PROPOSAL_FIELDS)}
    area = data.get("area_m2")
    if isinstance(area, bool) or not isinstance(area, (int, float)) or not 0 < area <= 100_000_000:
        fields["area_m2"] = "用地面积须为大于0的平方米数"
        area = None
    site = None
    try:
        site = zones.parse_geometry(data.get("site"), "site", area)
    except InvalidInput as exc:
        fields.update(exc.fields or {})
    credit = str(data.get("enterprise_credit_code") or "").strip().upper()
    enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit)) if credit else None
    if enterprise is None:
        fields["enterprise_credit_code"] = "须为已在平台注册的建设单位统一社会信用代码"
    division = str(data.get("division") or "")
    if session.get(Division, division) is None:
        fields["division"] = "须为已知的行政区划代码"
    if fields:
        raise InvalidInput("the proposal has errors", fields)
    lead = lead_role_for(session, actor, division, data.get("lead_role"))
    try:
        project = projects.create_project(session, platform, actor, {
            "name": data.get("name"), "division": division,
            "investment_type": data.get("investment_type", "government"),
            "flow_type": data.get("flow_type", 1), "enterprise_id": enterprise.id})
    except InvalidInput as exc:
        raise InvalidInput(exc.message, {("enterprise_credit_code" if k == "enterprise_id" else k): v
                                         for k, v in (exc.fields or {}).items()}) from exc
    findings = zones.check_site(session, division, site)
    proposal = PlanningProposal(project_id=project.id, lead_role=lead, proposed_by=actor.id,
                                site=json.dumps(zones.as_geojson(site)), area_m2=float(area),
                                measured_area_m2=round(zones.area_m2(site), 1),
                                findings=json.dumps(findings, ensure_ascii=False),
                                status="reviewing", rounds=1, proposed_at=platform.now())
    session.add(proposal)
    session.flush()
    application = {"lead_role": lead, "area_m2": float(area), "description": str(data.get("description") or "")[:2000],
                   "findings": [{"role": f["role"], "kind": f["kind"], "text": f["text"]} for f in findings]}
    instance = instances.start_process(session, platform, project, STAGE_KEY, PROCESS_ID, application, actor)
    proposal.instance_id = instance.id
    audit.record(session, platform, "planning_proposed", actor=actor, project_code=project.code,
                 detail={"lead_role": lead, "area_m2": float(area), "findings": len(findings)})
    return proposal


def proposal_of(session: Session, project: Project) -> PlanningProposal | None:
    """The planning proposal of a project, if it was proposed for generation."""
    return session.scalar(select(PlanningProposal).where(PlanningProposal.project_id == project.id))


def select_by_instance(instance_id: int):
    """The query of the proposal whose departments' round is instance ``instance_id``."""
    return select(PlanningProposal).where(PlanningProposal.instance_id == instance_id)


def get_proposal(session: Session, proposal_id: int) -> PlanningProposal:
    """A proposal by id, or 404."""
    found = session.get(PlanningProposal, proposal_id)
    if found is None:
        raise NotFound(f"planning proposal {proposal_id} does not exist")
    return found


def may_see(session: Session, user: User, proposal: PlanningProposal) -> bool:
    """Lead and reviewing departments' officers, supervisors of the division, administrators and analysts."""
    if user.role in ("admin", "analyst"):
        return True
    if user.role == "applicant":
        return user.enterprise_id == proposal.project.enterprise_id
    if user.unit_id is None:
        return False
    division = proposal.project.division_code
    if any(routing.resolve(session, r, division) == user.unit_id for r in (proposal.lead_role,) + REVIEW_ROLES):
        return True
    return user.role == "supervisor" and routing.resolve(session, "window", division) == user.unit_id


def visible_proposals(session: Session, user: User) -> list[PlanningProposal]:
    """The proposals the user may see, newest first."""
    rows = session.scalars(select(PlanningProposal).order_by(PlanningProposal.id.desc()).limit(200))
    return [p for p in rows if may_see(session, user, p)]


def findings(proposal: PlanningProposal, role: str | None = None) -> list[dict]:
    """The findings of a proposal's site, or those of one department."""
    found = json.loads(proposal.findings or "[]")
    return [f for f in found if role is None or f["role"] == role]


def result(proposal: PlanningProposal) -> dict[str, Any]:
    """The planning-generation record (策划生成结果) of a proposal."""
    return {"status": proposal.status, "generated_at": proposal.generated_at, "rounds": proposal.rounds,
            "conditions": json.loads(proposal.conditions or "[]"),
            "required_items": json.loads(proposal.required_items or "[]"),
            "settled_items": json.loads(proposal.settled_items or "[]"),
            "regional_assessment": proposal.regional_assessment}


def review_light(platform, row: HumanTask) -> str:
    """The light of a department's opinion task, as for items (green, yellow, red)."""
    if row.due_at is None:
        return "none"
    clock = ItemClock(started_at=row.created_at, value=platform.settings.PLANNING_REVIEW_DAYS, unit="working_days")
    warn = thresholds(platform.calendar, clock, platform.settings.WARNING_SHARE).warn_at
    return light(row.due_at, warn, platform.now(), finished_at=row.completed_at)


def review_tasks(session: Session, proposal: PlanningProposal) -> list[HumanTask]:
    """Every department task of a proposal's process, in order (open and finished)."""
    if proposal.instance_id is None:
        return []
    return list(session.scalars(select(HumanTask).where(HumanTask.instance_id == proposal.instance_id)
                                .order_by(HumanTask.id)))


# ------------------------------------------------------------------ hook subscribers


def on_task_opened(session: Session, platform, instance: ProcessInstance, row: HumanTask) -> None:
    """Hook ``task_opened``: a department's opinion is due within ``PLANNING_REVIEW_DAYS`` working days."""
    if instance.process_id != PROCESS_ID or not row.spec_name.startswith("review_"):
        return
    clock = ItemClock(started_at=platform.now(), value=platform.settings.PLANNING_REVIEW_DAYS, unit="working_days")
    row.due_at = thresholds(platform.calendar, clock, platform.settings.WARNING_SHARE).due_at


def on_task_completed(session: Session, platform, instance: ProcessInstance, workflow, row: HumanTask,
                      data: dict[str, Any], actor: User | None) -> None:
    """Hook ``task_completed``: check a department's items; take a revised site into the proposal."""
    if instance.process_id != PROCESS_ID:
        return
    proposal = session.scalar(select(PlanningProposal).where(PlanningProposal.instance_id == instance.id))
    if proposal is None:
        return
    if row.spec_name.startswith("review_"):
        _check_items(platform, data, row.lane_role or "")
    elif row.spec_name.startswith("revise_") and data.get("outcome") == "resubmit":
        proposal.rounds += 1
        if data.get("site"):
            area = data.get("area_m2", proposal.area_m2)
            site = zones.parse_geometry(data["site"], "site", area)
            proposal.site = json.dumps(zones.as_geojson(site))
            proposal.area_m2 = float(area)
            proposal.measured_area_m2 = round(zones.area_m2(site), 1)
            proposal.findings = json.dumps(zones.check_site(session, instance.project.division_code, site),
                                           ensure_ascii=False)
        audit.record(session, platform, "planning_resubmitted", actor=actor, instance=instance,
                     detail={"round": proposal.rounds, "site_changed": bool(data.get("site"))})


def _check_items(platform, data: Mapping[str, Any], role: str) -> None:
    fields = {}
    for key in ("required_items", "settled_items"):
        for code in data.get(key) or ():
            try:
                item = platform.catalog.item(code)
            except CatalogError:
                fields[key] = f"事项 {code} 不在事项目录中（unknown item）"
                continue
            if item.stage != "initiation":
                fields[key] = f"事项 {code} 不属于立项用地规划许可阶段（not a stage-1 item）"
            elif key == "settled_items" and item.role != role:
                fields[key] = f"事项 {code} 不由本部门办理，不能在此认定已解决（another department's item）"
    if fields:
        raise InvalidInput("the opinion names items it cannot", fields)


def after_run(session: Session, platform, instance: ProcessInstance, workflow) -> None:
    """Hook ``run``: when the departments' round ends, record the result (策划生成结果) or the withdrawal."""
    if instance.process_id != PROCESS_ID or instance.status == "running":
        return
    proposal = session.scalar(select(PlanningProposal).where(PlanningProposal.instance_id == instance.id))
    if proposal is None or proposal.status != "reviewing":
        return
    if instance.status != "approved":
        proposal.status = "withdrawn"
        return
    conditions, required, settled, regional = [], [], [], False
    for role in REVIEW_ROLES:
        answer = completed_answer(workflow, f"review_{role}") or {}
        if answer.get("conditions"):
            department = platform.catalog.roles[role].name if role in platform.catalog.roles else role
            conditions.append({"role": role, "department": department, "text": answer["conditions"]})
        required += [c for c in answer.get("required_items") or () if c not in required]
        settled += [c for c in answer.get("settled_items") or () if c not in settled]
        regional = regional or answer.get("regional_assessment") is True
    proposal.conditions = json.dumps(conditions, ensure_ascii=False)
    proposal.required_items = json.dumps([c for c in required if c not in settled])
    proposal.settled_items = json.dumps(settled)
    proposal.regional_assessment = regional
    proposal.status, proposal.generated_at = "generated", platform.now()
    audit.record(session, platform, "planning_generated", instance=instance,
                 detail={"conditions": len(conditions), "required_items": required, "settled_items": settled,
                         "regional_assessment": regional})


def on_starting(session: Session, platform, project: Project, stage_key: str,
                application: Mapping[str, Any], start_data: dict[str, Any]) -> None:
    """Hook ``starting``: a generated project's stage 1 gets the result's facts, required and settled items."""
    if stage_key != "initiation":
        return
    proposal = proposal_of(session, project)
    if proposal is None or proposal.status != "generated":
        return
    outcome = result(proposal)
    if outcome["regional_assessment"] and isinstance(start_data.get("facts"), dict):
        start_data["facts"]["regional_assessment"] = True
    start_data["required_items"] = outcome["required_items"]
    start_data["settled_items"] = outcome["settled_items"]
    start_data["planning"] = {"proposal": proposal.id, "conditions": outcome["conditions"]}


def stage_conditions(session: Session, instance: ProcessInstance) -> dict[str, Any] | None:
    """What a stage-1 application's departments are shown of the project's planning result, if it has one."""
    if instance.stage_key != "initiation":
        return None
    proposal = proposal_of(session, instance.project)
    if proposal is None or proposal.status != "generated":
        return None
    return {"proposal": proposal, **result(proposal)}

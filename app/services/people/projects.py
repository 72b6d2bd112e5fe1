"""Projects: declaring one, its stages in order, its progress by code."""

from __future__ import annotations

import json
import random
from typing import Any

from sqlalchemy import and_, exists, func, not_, or_, select
from sqlalchemy.orm import Session

from engine.codes import CodeError, generate_project_code, parse_engineering_code, parse_project_code

from ...errors import Conflict, Forbidden, InvalidInput, NotFound
from ...models import Division, Enterprise, HumanTask, ItemHandling, ProcessInstance, Project, User
from ...stages import MERGED_STAGES, STAGES, Stage, merged_into, stage_approved
from ...stages import stage as stage_by_key
from ...text import clean_name
from ..catalogue import commitments, decisions, engineering_codes
from ..organisation import routing
from ..timelimits import lights
from ..timelimits.handlings import STATE_NAMES
from ..trail import audit
from ..workflow import instances
from . import drafts, materials

INVESTMENT_TYPES = ("government", "ratification", "filing")
#: The project-type part (TT) of a project code for each investment type.
PROJECT_TYPES = {"government": "01", "ratification": "02", "filing": "03"}
PROJECT_FIELDS = {"name", "division", "investment_type", "flow_type", "code", "enterprise_id"}


def create_project(session: Session, platform, actor: User, data: dict[str, Any]) -> Project:
    """Declare a project and give it its code (一项一码)."""
    if not isinstance(data, dict):
        raise InvalidInput("the body must be a JSON object")
    fields: dict[str, str] = {}
    unknown = set(data) - PROJECT_FIELDS
    if unknown:
        fields.update({k: "unknown field" for k in sorted(unknown)})
    name = clean_name(data.get("name"))
    if not isinstance(name, str) or not 2 <= len(name.strip()) <= 200:
        fields["name"] = "a project name of 2-200 characters is required"
    division = data.get("division")
    if not isinstance(division, str) or session.get(Division, division) is None:
        fields["division"] = "a known division code is required"
    investment_type = data.get("investment_type")
    if investment_type not in INVESTMENT_TYPES:
        fields["investment_type"] = f"one of {', '.join(INVESTMENT_TYPES)}"
    flow_type = data.get("flow_type", 3)
    if not isinstance(flow_type, int) or isinstance(flow_type, bool) or not 1 <= flow_type <= 10:
        fields["flow_type"] = "an integer from 1 to 10 (national flow type list)"
    enterprise_id = actor.enterprise_id if actor.role == "applicant" else data.get("enterprise_id")
    if not isinstance(enterprise_id, int) or session.get(Enterprise, enterprise_id) is None:
        fields["enterprise_id"] = "a known enterprise is required"
    if not fields and actor.role == "window" and routing.resolve(session, "window", division) != actor.unit_id:
        fields["division"] = "a window declares projects only for the divisions routed to its unit"
    if fields:
        raise InvalidInput("the project has errors", fields)
    code = data.get("code")
    if code is not None:
        try:
            parsed = parse_project_code(str(code))
        except CodeError as exc:
            raise InvalidInput(exc.message, {"code": exc.message}) from exc
        code = parsed.text
        if parsed.division != division[:6]:
            raise InvalidInput(f"code {code} names division {parsed.division}, not the declared {division}",
                               {"code": "the code's division differs from the declared division"})
        if parsed.project_type != PROJECT_TYPES[investment_type]:
            raise InvalidInput(f"code {code} has project type {parsed.project_type}, not "
                               f"{PROJECT_TYPES[investment_type]} ({investment_type})",
                               {"code": "the code's project type differs from the declared investment type"})
        if session.scalar(select(Project.id).where(Project.code == code)):
            raise Conflict(f"project {code} is already declared")
    else:
        code = _new_code(session, platform, division, investment_type)
    project = Project(code=code, name=name.strip(), enterprise_id=enterprise_id, division_code=division,
                      flow_type=flow_type, investment_type=investment_type, created_at=platform.now())
    session.add(project)
    session.flush()
    audit.record(session, platform, "project_declared", actor=actor, project_code=code,
                 detail={"name": project.name})
    return project


def _new_code(session: Session, platform, division: str, investment_type: str) -> str:
    ptype = PROJECT_TYPES[investment_type]
    for _ in range(20):
        code = generate_project_code(platform.now().year, division[:6], "48", ptype, random.SystemRandom())
        if not session.scalar(select(Project.id).where(Project.code == code)):
            return code
    raise Conflict("could not allocate a project code; try again")


def find_project(session: Session, code: str) -> Project:
    """A project by a code of any level (三级工程码), or 404; a level-2/3 code must have been issued."""
    try:
        parsed = parse_engineering_code(code)
    except CodeError as exc:
        raise NotFound(f"no project has code {code!r}: {exc.message}") from exc
    project = session.scalar(select(Project).where(Project.code == parsed.project))
    if project is None or (parsed.level > 1 and engineering_codes.part(session, code) is None):
        raise NotFound(f"no project has code {code!r}")
    return project


def visible_project(session: Session, user: User, code: str) -> Project:
    """A project the user may see.

    Applicants see their enterprise's projects; officers the projects whose window is their
    unit or that have had a task routed to their unit; analysts and administrators all.
    """
    project = find_project(session, code)
    if user.role == "intermediary":  # a firm sees its commissions (services.intermediary), not projects
        raise NotFound(f"no project has code {code!r}")
    if user.role == "applicant" and project.enterprise_id != user.enterprise_id:
        raise NotFound(f"no project has code {code!r}")
    if user.role in ("window", "officer", "supervisor") and not _unit_takes_part(session, user, project):
        raise NotFound(f"no project has code {code!r}")
    return project


def _unit_takes_part(session: Session, user: User, project: Project) -> bool:
    if user.unit_id is None:
        return False
    if routing.resolve(session, "window", project.division_code) == user.unit_id:
        return True
    return session.scalar(select(HumanTask.id).where(HumanTask.project_id == project.id,
                                                     HumanTask.unit_id == user.unit_id).limit(1)) is not None


def stage_status(project: Project, stage: Stage) -> str:
    """``locked``, ``open``, ``running``, ``approved``, ``refused``, ``rejected`` or ``merged``.

    ``merged``: the flow type handles this stage inside another (带方案出让用地: construction
    inside engineering); it reads ``approved`` once that stage is approved.
    """
    if merged_into(project.flow_type, stage.key):
        return "approved" if stage_approved(project, stage.key) else "merged"
    runs = [i for i in project.instances if i.stage_key == stage.key]
    if runs and runs[-1].status == "running":
        return "running"
    if any(i.status == "approved" for i in runs):
        return "approved"
    if stage.requires and not stage_approved(project, stage.requires):
        return "locked"
    if runs and runs[-1].status in ("refused", "rejected"):
        return runs[-1].status
    return "open"


def apply_for_stage(session: Session, platform, actor: User, code: str, stage_key: str,
                    data: Any):
    """Start a stage application if the stage is open to this project."""
    project = visible_project(session, actor, code)
    if actor.role not in ("applicant", "window", "admin"):
        raise Forbidden("only the applicant or the window files applications")
    stage = stage_by_key(stage_key)
    if stage is None:
        raise NotFound(f"no stage {stage_key!r}")
    if not isinstance(data, dict):
        raise InvalidInput("'data' must be an object with the stage's application form")
    status = stage_status(project, stage)
    if status == "locked":
        raise Conflict(f"stage {stage.key} opens when {stage.requires} is approved")
    if status == "merged":
        raise Conflict(f"stage {stage.key} is handled within {merged_into(project.flow_type, stage.key)} "
                       f"for flow type {project.flow_type}（阶段合并办理）")
    if status in ("running", "approved"):
        raise Conflict(f"stage {stage.key} is already {status}")
    data = with_enterprise_fields(session, platform, project, stage.form, data)
    platform.forms.validate(stage.form, data)
    decisions.check_application(platform, project, stage, data)
    instance = instances.start_stage(session, platform, project, stage, data, actor,
                                     engineering_code=code.strip().upper())
    decided = [row.item_code for row in decisions.plan_items(session, instance.id)]
    missing = materials.missing_required(session, platform, project, decided, data)
    if missing:  # raised inside the caller's transaction: the started instance is rolled back with it
        instances.forget(session, platform, instance)  # and its cached workflow with it (ids may be reused)
        raise MissingMaterials(missing)
    drafts.discard_draft(session, project, stage.key)  # filed: the stage's draft has served
    return instance


def stage_checklist(session: Session, platform, actor: User, code: str, stage_key: str, data: Any) -> dict:
    """What a stage application with ``data`` (the answers so far) needs: the items the stage's
    decision picks, their materials (uploaded or not, blocking or not) and the signable items."""
    project = visible_project(session, actor, code)
    if actor.role not in ("applicant", "window", "admin"):
        raise Forbidden("only the applicant or the window files applications")
    stage = stage_by_key(stage_key)
    if stage is None:
        raise NotFound(f"no stage {stage_key!r}")
    if not isinstance(data, dict):
        raise InvalidInput("'data' must be an object with the answers of the stage's form so far")
    item_codes = materials.stage_item_codes(session, platform, stage, project, data)
    needed = materials.checklist(session, platform, project, stage, data, item_codes=item_codes)
    return {"stage": stage.key, "items": item_codes, "materials": [n.as_json() for n in needed],
            "missing": [n.name for n in needed if n.blocking and n.upload is None],
            "commitments": materials.eligible_commitments(platform, item_codes)}


class MissingMaterials(InvalidInput):
    """A stage application without every material its decided items require (422, with the list)."""

    def __init__(self, missing: list[str]):
        super().__init__(f"{len(missing)} required material(s) not uploaded: {', '.join(missing)}",
                         {"materials": "缺少必交材料：" + "、".join(missing)})
        self.missing = list(missing)
        self.extra = {"missing_materials": self.missing}


#: Application fields that name the applicant: they come from the filing enterprise's record.
ENTERPRISE_FIELDS = {"applicant_name": "name", "applicant_credit_code": "credit_code"}


def registered_enterprise(session: Session, project: Project) -> Enterprise | None:
    """The enterprise that filed the project (its registered name and credit code)."""
    return project.enterprise


def with_enterprise_fields(session: Session, platform, project: Project, form: str, data: dict) -> dict:
    """The application with its applicant fields taken from the filing enterprise's record.

    A field left empty is filled in; one that names another enterprise is refused (422), so no
    enterprise files in another's name and credit code.
    """
    properties = platform.forms.schema(form).get("properties", {})
    wanted = {f: a for f, a in ENTERPRISE_FIELDS.items() if f in properties}
    if not wanted:
        return data
    enterprise = registered_enterprise(session, project)
    data, fields = dict(data), {}
    for name, attr in wanted.items():
        registered, given = getattr(enterprise, attr), data.get(name)
        if given is None or (isinstance(given, str) and not given.strip()):
            data[name] = registered
        elif not isinstance(given, str) or " ".join(given.split()).upper() != registered.upper():
            fields[name] = f"must be the filing enterprise's registered {attr.replace('_', ' ')}: {registered}"
        else:
            data[name] = registered
    if fields:
        raise InvalidInput("the applicant fields must name the enterprise that files the project", fields)
    return data


def project_view(session: Session, platform, project: Project, public: bool = False,
                 code: str | None = None) -> dict:
    """The project with its stages, items and deadlines (public fields only if asked).

    ``code``, the code it was looked up by, adds ``part``: the sub-project, unit or
    section a level-2/3 code stands for (the project itself for its own code).
    """
    handlings = session.scalars(select(ItemHandling).where(ItemHandling.project_id == project.id)
                                .order_by(ItemHandling.id)).all()
    now = platform.now()
    items = []
    for h in handlings:
        entry = {"item_code": h.item_code, "state": h.state, "state_name": STATE_NAMES.get(h.state),
                 "accepted_at": h.accepted_at.isoformat(),
                 "due_at": h.due_at.isoformat() if h.due_at else None,
                 "finished_at": h.finished_at.isoformat() if h.finished_at else None,
                 "light": lights.light(h, now), "paused": h.paused_at is not None, "handling_id": h.id,
                 "engineering_code": h.engineering_code or h.project_code}
        entry["overdue"] = entry["light"] == lights.RED
        try:
            item = platform.catalog.item(h.item_code)
            entry["item_name"] = item.name
        except Exception:
            entry["item_name"] = h.item_code
        items.append(entry)
    stages, plans = [], decisions.stage_plans(session, platform, project)
    for s in STAGES:
        entry = {"key": s.key, "order": s.order, "name": s.name, "name_en": s.name_en,
                 "status": stage_status(project, s), "merged_into": merged_into(project.flow_type, s.key),
                 "decided_items": plans.get(s.key, [])}
        if not public:
            entry["form"] = s.form
            entry["schema"] = platform.forms.schema(s.form)
            entry["instances"] = [{"id": i.id, "status": i.status, "spec": i.spec_key,
                                   "started_at": i.started_at.isoformat()}
                                  for i in project.instances if i.stage_key == s.key]
        stages.append(entry)
    view = {"code": project.code, "name": project.name, "division": project.division_code,
            "stages": stages, "items": items, "codes": engineering_codes.codes_view(session, project)}
    if code is not None:
        view["part"] = engineering_codes.part_view(engineering_codes.part(session, code), project)
    if not public:
        view.update(flow_type=project.flow_type, investment_type=project.investment_type,
                    enterprise_id=project.enterprise_id, created_at=project.created_at.isoformat(),
                    commitments=[{"item_code": c.item_code, "state": c.state, "signed_at": c.signed_at.isoformat(),
                                  "verify_by": c.verify_by.isoformat()}
                                 for c in commitments.commitments_of(session, project.id)])
    return view


def application_of(instance) -> dict:
    """The stage application form data of an instance."""
    return json.loads(instance.application or "{}")


def awaiting_stages(session: Session, process_ids: list[str], limit: int = 20) -> list[dict]:
    """Per stage run by one of ``process_ids``: the projects whose application would start now.

    A project awaits a stage when the stage is open to it (its predecessor is
    approved, it is neither running nor approved, nor merged into another stage):
    its next application of that stage starts on whatever version is active then.
    """
    def has(stage_key, *statuses):
        return exists().where(ProcessInstance.project_id == Project.id, ProcessInstance.stage_key == stage_key,
                              ProcessInstance.status.in_(statuses))
    found = []
    for stage in STAGES:
        if stage.process_id not in process_ids:
            continue
        condition = not_(has(stage.key, "running", "approved"))
        if stage.requires:
            approved = has(stage.requires, "approved")
            for flow_type, merged in MERGED_STAGES.items():
                if stage.requires in merged:
                    approved = or_(and_(Project.flow_type == flow_type, has(merged[stage.requires], "approved")),
                                   approved)
            condition = and_(condition, approved)
        merged_types = [t for t, m in MERGED_STAGES.items() if stage.key in m]
        if merged_types:
            condition = and_(condition, or_(Project.flow_type.is_(None), Project.flow_type.not_in(merged_types)))
        count = session.scalar(select(func.count(Project.id)).where(condition))
        projects = session.execute(select(Project.code, Project.name).where(condition)
                                   .order_by(Project.id.desc()).limit(limit)).all()
        found.append({"stage": stage.key, "stage_name": stage.name, "stage_name_en": stage.name_en,
                      "process_id": stage.process_id, "count": count,
                      "projects": [{"code": c, "name": n} for c, n in projects]})
    return found

"""Which items a stage needs: the facts its DMN reads, the plan it decided, the hook after each run.

The stage process decides its items itself (a business rule task over ``facts``,
see ``engine.decisions``).  The application gathers the facts when a stage
starts, records the decided plan (``StagePlan``, ``StageItem``) at the first
save, and, once the window accepts, hands the plan to the commitment (告知承诺)
and gap (容缺) services.  :func:`after_run` is called by ``instances.save``
after every engine run, in the same transaction.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from engine.catalog import CatalogError
from engine.decisions import CONNECTIONS, completed_answer, decided_items, facts

from ...db import MEMO, remembered
from ...errors import InvalidInput
from ...models import ProcessInstance, Project, StageItem, StagePlan
from ...stages import BY_KEY, VERIFICATION_STAGE, Stage, merged_into
from . import commitments, gaps

#: Where each scale or site fact comes from: (stage, application field); later entries win.
FACT_SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "regional_assessment": (("initiation", "regional_assessment_zone"),),
    "simplified_park": (("initiation", "simplified_park"),),
    "total_investment": (("initiation", "total_investment"),),
    "land_area": (("initiation", "land_area"),),
    "total_floor_area": (("engineering", "total_floor_area"), ("acceptance", "actual_floor_area")),
    "building_height": (("engineering", "building_height"),),
    "civil_defence_area": (("engineering", "civil_defence_area"),),
    "contract_price": (("construction", "contract_price"),),
}
BOOLEAN_FACTS = {"regional_assessment", "simplified_park"}


def merges_construction(project: Project) -> bool:
    """Whether the project's flow type handles the construction stage inside engineering."""
    return merged_into(project.flow_type, "construction") == "engineering"


def _applications(project: Project, stage_key: str, application: Mapping[str, Any]) -> dict[str, Mapping]:
    """The latest approved application of every stage, with the one being filed laid over them."""
    found: dict[str, Mapping] = {}
    for instance in project.instances:
        if instance.status == "approved" and instance.stage_key in BY_KEY:
            found[instance.stage_key] = json.loads(instance.application or "{}")
    found[stage_key] = application
    if stage_key == "engineering" and isinstance(application.get("construction"), Mapping):
        found["construction"] = application["construction"]
    return found


def decision_facts(project: Project, stage_key: str, application: Mapping[str, Any]) -> dict[str, Any]:
    """The facts the stage's decision table reads, from the project and its applications."""
    apps = _applications(project, stage_key, application)
    values: dict[str, Any] = {}
    for fact, sources in FACT_SOURCES.items():
        for stage, field in sources:
            value = (apps.get(stage) or {}).get(field)
            if fact in BOOLEAN_FACTS and isinstance(value, bool):
                values[fact] = value
            elif isinstance(value, (int, float)) and not isinstance(value, bool):
                values[fact] = float(value)
    features = {f for app in apps.values() for f in (app.get("features") or ()) if isinstance(f, str)}
    connections = [k for k in CONNECTIONS if stage_key == "parallel" and application.get(k) is True]
    return facts(flow_type=project.flow_type, investment_type=project.investment_type,
                 features=sorted(features), connections=connections,
                 merge_construction=merges_construction(project), **values)


def on_starting(session: Session, platform, project: Project, stage_key: str,
                application: Mapping[str, Any], start_data: dict[str, Any]) -> None:
    """Hook ``starting``: hand the stage's decision tables their facts."""
    start_data["facts"] = decision_facts(project, stage_key, application)


def check_application(platform, project: Project, stage: Stage, data: Mapping[str, Any]) -> None:
    """Rules of a stage application beyond its form: the merged stage's part, signable commitments."""
    fields: dict[str, str] = {}
    merged = stage.key == "engineering" and merges_construction(project)
    if merged and not isinstance(data.get("construction"), Mapping):
        fields["construction"] = "带方案出让用地项目须同时填写施工许可阶段信息（required for flow type 5）"
    elif not merged and "construction" in data:
        fields["construction"] = "仅带方案出让用地项目合并办理施工许可（only flow type 5 merges stages）"
    stages = {stage.key} | ({"construction"} if merged else set())
    for code in data.get("commitments") or ():
        try:
            item = platform.catalog.item(code)
        except CatalogError:
            fields["commitments"] = f"事项 {code} 不在事项目录中（unknown item）"
            continue
        if not item.commitment_allowed or item.stage not in stages:
            fields["commitments"] = f"事项 {code} 不适用本阶段告知承诺（not approvable on commitment here）"
    if fields:
        raise InvalidInput("the application breaks the catalogue's rules", fields)


#: Live workflows whose instance's plan was read settled: accepted with no gap open.  A settled
#: plan never changes again (gaps open only at the acceptance), so a later run of the same live
#: workflow object skips reading it.  A workflow object stands for one saved version of its
#: instance (``platform.workflows`` hands it out only at that version; one loaded from the state
#: is new and unmarked), so the mark is never carried to another node's newer state.
_SETTLED: weakref.WeakSet = weakref.WeakSet()


def after_run(session: Session, platform, instance: ProcessInstance, workflow) -> None:
    """Bring the plan, commitments and gaps of an instance in line with its engine state."""
    if instance.stage_key == VERIFICATION_STAGE:
        commitments.after_verification_run(session, platform, instance, workflow)
        return
    if instance.stage_key not in BY_KEY or workflow in _SETTLED:
        return
    with session.no_autoflush:  # the save flushes once, after this hook
        plan = remembered(session, ("stage_plan", instance.id), lambda: session.get(StagePlan, instance.id))
    if plan is not None and plan.accepted_at is not None and not plan.gaps_open \
            and not sa_inspect(plan).modified:  # as stored: settled for good
        _SETTLED.add(workflow)
        return
    if plan is None:
        plan = _record_plan(session, platform, instance, workflow)
        session.info[MEMO][("stage_plan", instance.id)] = plan
    if plan.accepted_at is None:
        answer = completed_answer(workflow, "window_accept")
        if answer is not None and answer.get("outcome") == "accept":
            plan.accepted_at = platform.now()
            items = plan_items(session, instance.id)
            gaps.on_accepted(session, platform, instance, plan, answer, items)
            commitments.on_accepted(session, platform, instance, items)
    elif plan.gaps_open:
        gaps.after_run(session, platform, instance, workflow, plan)


def _record_plan(session: Session, platform, instance: ProcessInstance, workflow) -> StagePlan:
    decided = decided_items(workflow) or []
    application = json.loads(instance.application or "{}")
    signed = set(application.get("commitments") or ())
    missing = sorted(signed - {entry["code"] for entry in decided})
    if missing:
        raise InvalidInput("a committed item is not needed for this project", {
            "commitments": f"本项目不需办理 {', '.join(missing)}（the decision table did not select them）"})
    plan = StagePlan(instance_id=instance.id, project_id=instance.project_id,
                     catalog_version=platform.catalog.item_set.version,
                     facts=json.dumps(workflow.task_tree.data.get("facts", {}), ensure_ascii=False),
                     decided_at=platform.now())
    session.add(plan)
    items = [StageItem(instance_id=instance.id, project_id=instance.project_id, item_code=entry["code"],
                       role=entry["role"], mode="commitment" if entry.get("commitment") else "review",
                       position=position) for position, entry in enumerate(decided)]
    session.add_all(items)
    session.flush()
    session.info.setdefault(MEMO, {})[("plan_items", instance.id)] = items
    return plan


def plan_items(session: Session, instance_id: int) -> list[StageItem]:
    """The decided items of an instance, in decision order (read once per transaction: they never change)."""
    def read() -> list[StageItem]:
        with session.no_autoflush:  # recorded (and flushed) once, by ``_record_plan``
            return list(session.scalars(_ITEMS_OF_INSTANCE, {"instance_id": instance_id}))
    return list(remembered(session, ("plan_items", instance_id), read))


_ITEMS_OF_INSTANCE = select(StageItem).where(StageItem.instance_id == bindparam("instance_id")) \
    .order_by(StageItem.position)


def stage_plans(session: Session, platform, project: Project) -> dict[str, list[dict]]:
    """The decided items of each stage's latest instance, keyed by stage."""
    latest = {i.stage_key: i.id for i in project.instances if i.stage_key in BY_KEY}
    rows = session.scalars(select(StageItem).where(StageItem.instance_id.in_(latest.values()))
                           .order_by(StageItem.instance_id, StageItem.position)) if latest else []
    by_instance = {v: k for k, v in latest.items()}
    plans: dict[str, list[dict]] = {}
    for row in rows:
        try:
            name = platform.catalog.item(row.item_code).name
        except CatalogError:
            name = row.item_code
        plans.setdefault(by_instance[row.instance_id], []).append(
            {"item_code": row.item_code, "item_name": name, "role": row.role, "mode": row.mode})
    return plans

"""Demo data: realistic applications and review answers, and a driver that runs a
project through every stage as each lane's officer would (``demo-run``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import HumanTask, ProcessInstance, Project, User
from ...stages import BY_KEY, STAGES, Stage, merged_into
from ..people import materials, projects
from ..workflow import instances, tasks

CREDIT_CODE = "91460100MA5T00001L"
PHONE = "13807550123"


def stage_application(stage: Stage, project: Project, today: dt.date) -> dict[str, Any]:
    """A filled-in application form (一张表单) for a stage."""
    contact = {"contact_name": "王海", "contact_phone": PHONE}
    later = (today + dt.timedelta(days=30)).isoformat()
    if stage.key == "initiation":
        enterprise = getattr(project, "enterprise", None)  # applicant fields: the filer's record
        return {"project_name": project.name,
                "applicant_name": enterprise.name if enterprise else "海南椰林建设发展有限公司",
                "applicant_credit_code": enterprise.credit_code if enterprise else CREDIT_CODE,
                "investment_type": project.investment_type,
                "total_investment": 12800.0, "land_area": 24000.0,
                "site_address": "海口市龙华区滨海大道88号", "construction_content": "新建综合楼两栋及地下车库",
                **contact}
    if stage.key == "engineering":
        data = {"land_permit_number": "地字第460100202400017号", "design_unit": "海南省建筑设计院",
                "design_scheme_summary": "两栋高层综合楼，地下两层", "total_floor_area": 56000.0,
                "building_height": 79.5, "building_count": 2, "civil_defence_area": 4200.0, **contact}
        if merged_into(getattr(project, "flow_type", None), "construction") == "engineering":
            merged = stage_application(BY_KEY["construction"], project, today)  # 带方案出让: one application
            data["construction"] = {k: v for k, v in merged.items()
                                    if k not in ("plan_permit_number", "contact_name", "contact_phone")}
        return data
    if stage.key == "construction":
        return {"plan_permit_number": "建字第460100202400031号", "contractor": "海南建工集团有限公司",
                "contractor_credit_code": "91460000201234567M", "supervisor": "海南华诚工程监理有限公司",
                "contract_price": 21500.0, "planned_start_date": today.isoformat(),
                "planned_completion_date": later, "project_manager": "陈建国", **contact}
    if stage.key == "acceptance":
        return {"construction_permit_number": "460100202405060101", "completion_date": today.isoformat(),
                "actual_floor_area": 55980.0, "quality_acceptance_date": today.isoformat(), **contact}
    return {"water": True, "power": True, "gas": True, "site_address": "海口市龙华区滨海大道88号",
            "water_demand": 320.0, "power_load": 2500.0, "gas_demand": 80.0, **contact}


#: A small valid PDF: the demo applicant's file for every material its applications need.
DEMO_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def supply_materials(session: Session, platform, actor: User, project: Project, stage: Stage,
                     data: dict[str, Any]) -> list[str]:
    """Upload a file for every material the application still lacks; returns their names."""
    return [m.name for m in materials.supply(session, platform, actor, project, stage, data, DEMO_PDF,
                                             "材料.pdf")]


def task_answer(form: str | None, ref: int, today: dt.date, outcome: str | None = None) -> dict[str, Any]:
    """A valid answer to a form; ``outcome`` defaults to the approving one."""
    form = form or ""
    if form == "window_accept.schema.json":
        answer = {"outcome": outcome or "accept"}
    elif form == "window_issue.schema.json":
        return {"result_number": f"琼审{today.year}-{ref:06d}", "issued_date": today.isoformat(),
                "delivery_method": "electronic", "confirmed": True}
    elif form == "window_notice.schema.json":
        return {"notice_number": f"琼审不予{today.year}-{ref:06d}", "reason": "不符合法定条件",
                "decision_date": today.isoformat(), "delivery_method": "electronic", "remedy_informed": True}
    elif form == "correction_supplement.schema.json":
        return {"materials": ["补正后的申请材料"], "note": "已按要求补正"}
    elif form == "correction_recheck.schema.json":
        answer = {"outcome": outcome or "complete"}
    elif form == "joint_conclusion.schema.json":
        answer = {"outcome": outcome or "approve", "inspection_date": today.isoformat()}
        if answer["outcome"] == "approve":  # the document the result states (issue 10)
            answer.update(result_number=f"琼联验{today.year}-{ref:06d}", decision_date=today.isoformat())
    elif form == "supervision.schema.json":
        return {"outcome": outcome or "acknowledged", "opinion": "已知悉，督促承办部门按时办结"}
    elif form == "gap_supply.schema.json":
        return {"materials": ["授权委托书及受托人身份证件"], "note": "容缺材料已补齐"}
    elif form == "commitment_verification.schema.json":
        answer = {"outcome": outcome or "confirm", "inspection_date": today.isoformat()}
    elif form == "utility_connection.schema.json":
        answer = {"outcome": outcome or "approve", "connection_plan": "就近接入市政管网",
                  "planned_connection_date": (today + dt.timedelta(days=10)).isoformat()}
    elif form == "intermediary_accept.schema.json":
        answer = {"outcome": outcome or "accept"}
    elif form == "intermediary_delivery.schema.json":
        return {"conclusion": outcome or "qualified", "summary": "成果符合委托要求", "report_number": f"中介{ref:06d}"}
    elif form == "service_rating.schema.json":
        return {"score": "5", "comment": "按时交付，质量良好"}
    elif form == "planning_review.schema.json":
        answer = {"outcome": outcome or "agree"}
    elif form == "planning_revise.schema.json":
        return {"outcome": outcome or "resubmit", "note": "已按各部门意见调整选址"}
    else:
        answer = {"outcome": outcome or "approve"}
        if form == "review.schema.json" and answer["outcome"] == "approve":  # the department's document
            answer.update(result_number=f"琼批{today.year}-{ref:06d}", decision_date=today.isoformat())
    if answer["outcome"] not in ("approve", "accept", "complete", "confirm", "agree"):
        answer["opinion"] = "请补充完善相关材料" if answer["outcome"] in ("correct", "insufficient") else "不符合要求"
    else:
        answer["opinion"] = "同意"
    return answer


def actor_for(session: Session, row: HumanTask) -> User | None:
    """A user who may complete the task: an officer of its unit and lane, or the applicant."""
    if row.enterprise_id is not None:
        return session.scalar(select(User).where(User.enterprise_id == row.enterprise_id,
                                                 User.role == "applicant").order_by(User.id))
    roles = ("supervisor",) if row.audience == "supervisor" else ("window", "officer")  # 督办 tasks
    candidates = session.scalars(select(User).where(User.unit_id == row.unit_id, User.role.in_(roles))
                                 .order_by(User.id)).all()
    for user in candidates:
        if not user.lanes or row.lane_role in user.lanes:
            return user
    return None


def open_tasks(session: Session, instance_id: int) -> list[HumanTask]:
    """The open human tasks of an instance, oldest first."""
    return tasks.open_rows(session, instance_id)


def drive_stage(session_scope: Callable, platform, project_code: str, stage: Stage,
                applicant_id: int, say: Callable[[str], None] = print,
                decide: Callable[[HumanTask], str | None] = lambda row: None) -> str:
    """Apply for a stage and complete every task as its lane's officer; return the status."""
    today = platform.now().date()
    with session_scope() as session:
        applicant = session.get(User, applicant_id)
        project = projects.find_project(session, project_code)
        data = stage_application(stage, project, today)
        supply_materials(session, platform, applicant, project, stage, data)
        instance = projects.apply_for_stage(session, platform, applicant, project_code, stage.key, data)
        instance_id = instance.id
    say(f"{stage.name}: application filed (instance {instance_id})")
    for _ in range(200):
        with session_scope() as session:
            rows = open_tasks(session, instance_id)
            status = session.get(ProcessInstance, instance_id).status
        if not rows:
            return status
        for row in rows:
            with session_scope() as session:
                actor = actor_for(session, row)
                if actor is None:
                    raise RuntimeError(f"nobody can complete {row.title} (lane {row.lane_role})")
                answer = task_answer(row.form, row.id, today, decide(row))
                instances.complete_task(session, platform, row.id, answer, actor)
            say(f"  {row.title} [{row.lane_role}] by {actor.username}: {answer.get('outcome', 'done')}")
    raise RuntimeError("the stage did not finish within 200 rounds")


def run_all_stages(session_scope: Callable, platform, applicant_id: int, division: str = "460100",
                   say: Callable[[str], None] = print) -> str:
    """Declare a project and drive it through all four stages and the parallel track."""
    with session_scope() as session:
        applicant = session.get(User, applicant_id)
        project = projects.create_project(session, platform, applicant, {
            "name": "椰林湾综合楼项目", "division": division, "investment_type": "ratification",
            "flow_type": 3})
        code = project.code
    say(f"project declared: {code}")
    order = [s for s in STAGES if s.key != "parallel"]
    for stage in order[:1] + [s for s in STAGES if s.key == "parallel"] + order[1:]:
        status = drive_stage(session_scope, platform, code, stage, applicant_id, say)
        say(f"{stage.name}: {status}")
        if status != "approved":
            raise RuntimeError(f"stage {stage.key} ended {status}")
    return code

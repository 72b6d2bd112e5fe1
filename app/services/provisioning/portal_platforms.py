"""Demo data of the portal's other two platforms: Haikou's plan layers and two registered intermediaries."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Enterprise, HumanTask, IntermediaryFirm, IntermediaryQualification, PlanZone

DEMO_DIVISION = "460100"


def _box(x0: float, y0: float, x1: float, y1: float) -> str:
    return json.dumps({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]})


#: Haikou's demo plan layers (一张蓝图), lon/lat: a planned construction area with protected zones inside it.
DEMO_ZONES = (
    ("construction_land", "江东新区规划建设用地", _box(110.28, 19.98, 110.42, 20.06)),
    ("ecological_red_line", "东寨港红树林生态保护红线", _box(110.30, 20.00, 110.32, 20.02)),
    ("permanent_farmland", "演丰镇永久基本农田", _box(110.34, 20.00, 110.36, 20.02)),
    ("forest", "江东沿海防护林", _box(110.37, 20.03, 110.39, 20.05)),
    ("water_source", "南渡江饮用水水源二级保护区", _box(110.29, 20.035, 110.31, 20.05)),
    ("cultural_relics", "琼山古城墙遗址保护范围", _box(110.33, 19.985, 110.335, 19.99)),
)
#: A site that reaches into the red line (a finding for 生态环境), for the demo run and the browser test.
DEMO_SITE = {"type": "Polygon", "coordinates": [[[110.315, 20.005], [110.326, 20.005], [110.326, 20.014],
                                                  [110.315, 20.014], [110.315, 20.005]]]}
#: A site clear of every protected zone, inside the planned construction land.
CLEAR_SITE = {"type": "Polygon", "coordinates": [[[110.322, 20.022], [110.330, 20.022], [110.330, 20.029],
                                                   [110.322, 20.029], [110.322, 20.022]]]}

#: The demo intermediaries: (credit code, name, contact, qualifications [(service, grade, certificate)]).
DEMO_FIRMS = (
    ("91460100MA5T0JJ01W", "海南琼岛施工图审查中心有限公司", "0898-66000001",
     (("drawing_review", "一类", "琼审图证字第001号"), ("geohazard", "乙级", "琼地灾评字第017号"))),
    ("91460100MA5T0JJ020", "海南椰城工程咨询有限公司", "0898-66000002",
     (("drawing_review", "二类", "琼审图证字第014号"), ("eia", "乙级", "琼环评字第033号"))),
)


def seed_zones(session: Session, platform) -> int:
    """Haikou's demo plan layers, once."""
    if session.scalar(select(PlanZone.id).where(PlanZone.division_code == DEMO_DIVISION).limit(1)):
        return 0
    for kind, name, geometry in DEMO_ZONES:
        session.add(PlanZone(division_code=DEMO_DIVISION, kind=kind, name=name, geometry=geometry,
                             updated_at=platform.now()))
    session.flush()
    return len(DEMO_ZONES)


def seed_firms(session: Session, platform) -> dict[str, int]:
    """The demo intermediaries with their qualifications, once; returns their enterprise ids by credit code."""
    from ..intermediary import registry
    kinds = registry.service_kinds(platform)
    today = platform.now().date()
    out = {}
    for credit, name, contact, qualifications in DEMO_FIRMS:
        enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit))
        if enterprise is None:
            enterprise = Enterprise(name=name, credit_code=credit)
            session.add(enterprise)
            session.flush()
        out[credit] = enterprise.id
        if session.scalar(select(IntermediaryFirm.id).where(IntermediaryFirm.enterprise_id == enterprise.id)):
            continue
        firm = IntermediaryFirm(enterprise_id=enterprise.id, division_code=DEMO_DIVISION, contact=contact,
                                introduction=f"{name}，入驻海南省中介超市。", registered_at=platform.now())
        session.add(firm)
        session.flush()
        for service, grade, certificate in qualifications:
            session.add(IntermediaryQualification(
                firm_id=firm.id, service=service, grade=grade, certificate_no=certificate,
                valid_from=today - dt.timedelta(days=365), valid_until=today + dt.timedelta(days=3 * 365),
                items=json.dumps(list(kinds[service].items))))
    session.flush()
    return out


#: A one-page PDF standing in for a drawing review agency's report in the demo run.
DEMO_REPORT = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
               b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
               b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
#: The departments' opinions in the demo's second round (the first round's red-line conflict is resolved).
DEMO_OPINIONS = {
    "planning": {"outcome": "agree", "conditions": "容积率不大于2.0，建筑限高45米",
                 "settled_items": ["S1-LAND-PREREVIEW"], "regional_assessment": True},
    "environment": {"outcome": "agree", "conditions": "施工期落实扬尘和噪声防治措施"},
    "forestry": {"outcome": "agree"},
    "water": {"outcome": "agree", "conditions": "雨污分流，接入市政管网"},
    "culture": {"outcome": "agree", "required_items": ["S1-ARCHAEOLOGY"]},
}


def run_platforms(session_scope, platform, applicant_id: int, say=print) -> str:
    """Generate a project (项目策划生成), file its shortened stage 1, commission and rate a drawing review
    (中介服务) and take the project through stage 3, where the report serves the drawing review item."""
    import io

    from ...models import User
    from ...stages import BY_KEY
    from ..catalogue.decisions import plan_items
    from ..intermediary import contracts
    from ..planning import generation
    from ..workflow import instances
    from . import demo

    def user(session, username):
        return session.scalar(select(User).where(User.username == username))

    def answer(task_id, data, username=None):
        with session_scope() as session:
            row = session.get(HumanTask, task_id)
            actor = user(session, username) if username else demo.actor_for(session, row)
            instances.complete_task(session, platform, task_id, data, actor)
            return row.title, row.lane_role, actor.username

    def open_rows(instance_id):
        with session_scope() as session:
            return [(r.id, r.spec_name, r.lane_role) for r in demo.open_tasks(session, instance_id)]

    with session_scope() as session:
        proposal = generation.propose(session, platform, user(session, "drc_haikou"), {
            "name": "江东新区综合服务中心", "division": DEMO_DIVISION, "investment_type": "government",
            "enterprise_credit_code": demo.CREDIT_CODE, "site": DEMO_SITE, "area_m2": 12000})
        proposal_id, code, instance_id = proposal.id, proposal.project.code, proposal.instance_id
        found = generation.findings(proposal)
    say(f"planning generation proposed by drc_haikou: project {code}, {len(found)} finding(s)")
    for f in found:
        say(f"  finding for {f['role']}: {f['text']}")
    for task_id, _spec, lane in open_rows(instance_id):
        data = {"outcome": "conflict", "opinion": "选址伸入生态保护红线，请调整"} if lane == "environment" \
            else {"outcome": "agree"}
        say("  {} [{}] by {}: {}".format(*answer(task_id, data), data["outcome"]))
    (task_id, _spec, _lane), = open_rows(instance_id)
    moved = {"outcome": "resubmit", "note": "选址东移，避让生态保护红线", "site": json.dumps(CLEAR_SITE),
             "area_m2": 11000}
    say("  {} [{}] by {}: resubmit with the site moved clear of the red line".format(*answer(task_id, moved)))
    for task_id, _spec, lane in open_rows(instance_id):
        say("  {} [{}] by {}: agree".format(*answer(task_id, DEMO_OPINIONS[lane])))
    with session_scope() as session:
        result = generation.result(generation.get_proposal(session, proposal_id))
    say(f"planning generation: {result['status']} after {result['rounds']} rounds; settled "
        f"{', '.join(result['settled_items'])}; required {', '.join(result['required_items'])}; "
        f"regional assessment {'covers the site' if result['regional_assessment'] else 'none'}")
    demo.drive_stage(session_scope, platform, code, BY_KEY["initiation"], applicant_id, say)
    with session_scope() as session:
        stage1 = [i for i in demo.projects.find_project(session, code).instances if i.stage_key == "initiation"][0]
        say(f"stage 1 of the generated project: {len(plan_items(session, stage1.id))} items "
            f"(its planning conditions shown to every department)")
    with session_scope() as session:
        service = contracts.commission(session, platform, user(session, "applicant1"), code,
                                       {"service": "drawing_review", "method": "random"})
        service_id, instance_id = service.id, service.instance_id
        say(f"drawing review commissioned by random draw among firms {service.candidates} "
            f"(seed {service.draw_seed}): {service.firm.enterprise.name}")
        firm_user = session.scalar(select(User).where(User.enterprise_id == service.firm.enterprise_id,
                                                      User.role == "intermediary")).username
    (task_id, *_), = open_rows(instance_id)
    say("  {} [{}] by {}: accept, 8 working days".format(*answer(task_id, {"outcome": "accept", "committed_days": 8},
                                                                   firm_user)))
    with session_scope() as session:
        contracts.upload_report(session, platform, user(session, firm_user), service_id, "施工图审查报告.pdf",
                                io.BytesIO(DEMO_REPORT))
    (task_id, *_), = open_rows(instance_id)
    say("  {} [{}] by {}: report delivered".format(*answer(task_id, {"conclusion": "qualified",
                                                                      "summary": "施工图设计文件审查合格"}, firm_user)))
    (task_id, *_), = open_rows(instance_id)
    say("  {} [{}] by {}: rated 5".format(*answer(task_id, {"score": "5", "comment": "按时交付，意见清楚"},
                                                  "applicant1")))
    for key in ("engineering", "construction"):
        status = demo.drive_stage(session_scope, platform, code, BY_KEY[key], applicant_id, say)
        say(f"{BY_KEY[key].name}: {status}")
    with session_scope() as session:
        project = demo.projects.find_project(session, code)
        reports = contracts.reports_for_item(session, platform, project, "S3-DRAWING-REVIEW")
        say(f"stage 3's drawing review read the report: {reports[0]['material'].name}" if reports
            else "stage 3 found no report")
    return code

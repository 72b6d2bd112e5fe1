"""项目策划生成 and 中介服务 end to end: a generated project's shortened stage 1; a drawing review feeding stage 3."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select

from app.db import transaction
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.models import Enterprise, HumanTask, IntermediaryFirm, Project, User
from app.services.intermediary import contracts, registry
from app.services.people import projects
from app.services.planning import generation, zones
from app.services.provisioning import demo
from app.services.provisioning.portal_platforms import CLEAR_SITE, DEMO_SITE
from app.services.workflow import instances, tasks
from app.stages import BY_KEY
from engine.errors import FormValidationError

PDF = b"%PDF-1.4\n% drawing review report\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _user(session, username):
    return session.scalar(select(User).where(User.username == username))


def _propose(platform, site=DEMO_SITE, proposer="drc_haikou", **extra):
    with transaction(platform.sessions) as s:
        proposal = generation.propose(s, platform, _user(s, proposer), {
            "name": "江东新区综合服务中心", "division": "460100", "investment_type": "government",
            "enterprise_credit_code": "91460100MA5T00001L", "site": site, "area_m2": 12000, **extra})
        return proposal.id, proposal.project.code, proposal.instance_id


def _open(platform, instance_id):
    with transaction(platform.sessions, write=False) as s:
        return [(r.id, r.spec_name, r.lane_role, r.unit_id, r.enterprise_id, r.due_at)
                for r in demo.open_tasks(s, instance_id)]


def _complete(platform, task_id, data, username=None):
    with transaction(platform.sessions) as s:
        row = tasks.get_task(s, task_id)
        actor = _user(s, username) if username else demo.actor_for(s, row)
        instances.complete_task(s, platform, task_id, data, actor)


def _stage1_items(platform, code):
    with transaction(platform.sessions) as s:
        applicant = _user(s, "applicant1")
        project = projects.find_project(s, code)
        data = demo.stage_application(BY_KEY["initiation"], project, platform.now().date())
        demo.supply_materials(s, platform, applicant, project, BY_KEY["initiation"], data)
        instance = projects.apply_for_stage(s, platform, applicant, code, "initiation", data)
        from app.services.catalogue.decisions import plan_items
        return instance.id, [i.item_code for i in plan_items(s, instance.id)]


def test_a_site_is_checked_against_the_plan_layers_with_shapely(platform):
    with transaction(platform.sessions, write=False) as s:
        site = zones.parse_geometry(DEMO_SITE)
        found = zones.check_site(s, "460100", site)
        assert [f["kind"] for f in found] == ["ecological_red_line"] and found[0]["role"] == "environment"
        assert 0.2 < found[0]["share"] < 0.6  # the site reaches about halfway into the red line
        assert zones.check_site(s, "460100", zones.parse_geometry(CLEAR_SITE)) == []
        outside = zones.parse_geometry({"type": "Polygon", "coordinates": [[[110.41, 20.05], [110.45, 20.05],
                                                                             [110.45, 20.08], [110.41, 20.05]]]})
        assert [f["kind"] for f in zones.check_site(s, "460100", outside)] == ["construction_land"]
        round_site = zones.parse_geometry({"type": "Point", "coordinates": [110.325, 20.025]}, area=10000)
        assert abs(zones.area_m2(round_site) - 10000) < 100
    for bad, message in [("{", "GeoJSON"), ({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}, "面"),
                         ({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, "无效"),
                         ({"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]}, "经度"),
                         ({"type": "Point", "coordinates": [110.3, 20.0]}, "面积")]:
        with pytest.raises(InvalidInput) as caught:
            zones.parse_geometry(bad, "site")
        assert message in caught.value.fields["site"]


def test_a_generated_project_shortens_stage_one(platform):
    # the same project filed without planning generation: the stage-1 plan it would get
    with transaction(platform.sessions) as s:
        applicant = _user(s, "applicant1")
        plain = projects.create_project(s, platform, applicant, {"name": "对照项目", "division": "460100",
                                                                "investment_type": "government", "flow_type": 1})
        plain_code = plain.code
    _, plain_items = _stage1_items(platform, plain_code)
    assert "S1-GEOHAZARD" in plain_items and "S1-LAND-PREREVIEW" in plain_items

    proposal_id, code, instance_id = _propose(platform)
    open_rows = _open(platform, instance_id)
    assert sorted(r[2] for r in open_rows) == sorted(generation.REVIEW_ROLES)
    assert all(r[3] is not None and r[5] is not None for r in open_rows)  # routed to units, due in working days
    with transaction(platform.sessions, write=False) as s:
        proposal = generation.get_proposal(s, proposal_id)
        assert [f["role"] for f in generation.findings(proposal)] == ["environment"]
        assert proposal.project.code == code and proposal.lead_role == "drc"
        assert generation.stage_conditions(s, s.get(Project, proposal.project_id).instances[0]) is None

    # round 1: the red line conflicts, the lead department moves the site
    by_role = {r[2]: r[0] for r in open_rows}
    _complete(platform, by_role["environment"], {"outcome": "conflict", "opinion": "选址伸入生态保护红线"})
    for role in ("planning", "forestry", "water", "culture"):
        _complete(platform, by_role[role], {"outcome": "agree"})
    revise = _open(platform, instance_id)
    assert [(r[1], r[2]) for r in revise] == [("revise_drc", "drc")]
    _complete(platform, revise[0][0], {"outcome": "resubmit", "note": "选址东移避让红线",
                                       "site": json.dumps(CLEAR_SITE), "area_m2": 11000})
    with transaction(platform.sessions, write=False) as s:
        proposal = generation.get_proposal(s, proposal_id)
        assert proposal.rounds == 2 and generation.findings(proposal) == [] and proposal.status == "reviewing"

    # round 2: every department agrees, with conditions and items
    answers = {
        "planning": {"outcome": "agree", "conditions": "容积率不大于2.0", "settled_items": ["S1-LAND-PREREVIEW"],
                     "regional_assessment": True},
        "environment": {"outcome": "agree", "conditions": "施工期落实扬尘防治"},
        "forestry": {"outcome": "agree"}, "water": {"outcome": "agree"},
        "culture": {"outcome": "agree", "required_items": ["S1-ARCHAEOLOGY"]},
    }
    rows = {r[2]: r[0] for r in _open(platform, instance_id)}
    with pytest.raises(InvalidInput) as caught:  # a department cannot settle another's item
        _complete(platform, rows["forestry"], {"outcome": "agree", "settled_items": ["S1-EIA"]})
    assert "settled_items" in caught.value.fields
    for role, answer in answers.items():
        _complete(platform, rows[role], answer)
    with transaction(platform.sessions, write=False) as s:
        proposal = generation.get_proposal(s, proposal_id)
        outcome = generation.result(proposal)
        assert proposal.status == "generated" and outcome["regional_assessment"] is True
        assert outcome["settled_items"] == ["S1-LAND-PREREVIEW"]
        assert outcome["required_items"] == ["S1-ARCHAEOLOGY"]
        assert [c["role"] for c in outcome["conditions"]] == ["planning", "environment"]

    stage_id, items = _stage1_items(platform, code)
    assert "S1-LAND-PREREVIEW" not in items  # settled by the generation
    assert "S1-GEOHAZARD" not in items  # the regional assessment covers it
    assert "S1-ARCHAEOLOGY" in items  # required by 文物
    assert len(items) < len(plain_items)
    with transaction(platform.sessions, write=False) as s:
        shown = generation.stage_conditions(s, s.get(HumanTask, demo.open_tasks(s, stage_id)[0].id).instance)
        assert shown["conditions"][0]["text"] == "容积率不大于2.0"


def test_only_the_lead_department_proposes_and_bad_proposals_are_refused(platform):
    with pytest.raises(Forbidden):
        _propose(platform, proposer="environment_haikou")
    with pytest.raises(Forbidden):
        _propose(platform, proposer="drc_sanya")  # another city's department
    with pytest.raises(InvalidInput) as caught:
        _propose(platform, site={"type": "Polygon", "coordinates": []}, name="x")
    assert "site" in caught.value.fields
    with transaction(platform.sessions, write=False) as s:
        assert s.scalar(select(Project.id).where(Project.name == "x")) is None
    proposal_id, _, instance_id = _propose(platform, proposer="planning_haikou")
    rows = {r[2]: r[0] for r in _open(platform, instance_id)}
    _complete(platform, rows["environment"], {"outcome": "conflict", "opinion": "红线"})
    for role in ("planning", "forestry", "water", "culture"):
        _complete(platform, rows[role], {"outcome": "agree"})
    revise = _open(platform, instance_id)
    assert [(r[1], r[2]) for r in revise] == [("revise_planning", "planning")]  # back to the proposer
    _complete(platform, revise[0][0], {"outcome": "withdraw", "note": "另行选址"})
    with transaction(platform.sessions, write=False) as s:
        assert generation.get_proposal(s, proposal_id).status == "withdrawn"


def _firms(platform):
    with transaction(platform.sessions, write=False) as s:
        return {f.enterprise.name: f.id for f in s.scalars(select(IntermediaryFirm))}


def test_a_random_draw_is_recorded_and_can_be_repeated(platform):
    with transaction(platform.sessions) as s:
        project = projects.create_project(s, platform, _user(s, "applicant1"), {
            "name": "抽取测试", "division": "460100", "investment_type": "filing"})
        code = project.code
    with transaction(platform.sessions) as s:
        row = contracts.commission(s, platform, _user(s, "applicant1"), code,
                                   {"service": "drawing_review", "method": "random"})
        candidates = json.loads(row.candidates)
        assert len(candidates) == 2 and row.firm_id == contracts.draw(row.draw_seed, candidates)
    with transaction(platform.sessions) as s, pytest.raises(Conflict):  # one running service per kind
        contracts.commission(s, platform, _user(s, "applicant1"), code,
                             {"service": "drawing_review", "method": "random"})
    with transaction(platform.sessions) as s, pytest.raises(InvalidInput) as caught:  # not qualified for EIA
        contracts.commission(s, platform, _user(s, "applicant1"), code,
                             {"service": "eia", "method": "direct",
                              "firm_id": _firms(platform)["海南琼岛施工图审查中心有限公司"]})
    assert "firm_id" in caught.value.fields
    assert {contracts.draw(f"seed-{n}", [3, 1, 2]) for n in range(40)} == {1, 2, 3}


def test_a_commissioned_drawing_review_feeds_stage_three(platform):
    with transaction(platform.sessions) as s:
        project = projects.create_project(s, platform, _user(s, "applicant1"), {
            "name": "椰林湾综合楼项目", "division": "460100", "investment_type": "ratification", "flow_type": 3})
        code = project.code
    firm_id = _firms(platform)["海南琼岛施工图审查中心有限公司"]
    with transaction(platform.sessions) as s:
        service = contracts.commission(s, platform, _user(s, "applicant1"), code,
                                       {"service": "drawing_review", "method": "direct", "firm_id": firm_id,
                                        "committed_days": 8})
        service_id, instance_id = service.id, service.instance_id
    (accept_id, spec, lane, unit, enterprise, due), = _open(platform, instance_id)
    assert (spec, lane, unit) == ("accept", "intermediary", None) and due is not None
    with transaction(platform.sessions, write=False) as s:
        agency1, agency2 = _user(s, "agency1"), _user(s, "agency2")
        assert enterprise == agency1.enterprise_id
        row = tasks.get_task(s, accept_id)
        assert tasks.may_see(agency1, row) and not tasks.may_see(agency2, row)
        assert not tasks.may_see(_user(s, "applicant1"), row)
        assert [t.id for t in tasks.inbox(s, agency1).rows] == [accept_id]
        assert tasks.inbox(s, agency2).rows == []
        assert accept_id not in [t.id for t in tasks.inbox(s, _user(s, "applicant1")).rows]
        assert [c.id for c in contracts.commissions(s, agency1)] == [service_id]
        assert contracts.commissions(s, agency2) == []
        with pytest.raises(NotFound):
            projects.visible_project(s, agency1, code)
    with pytest.raises(InvalidInput):
        _complete(platform, accept_id, {"outcome": "accept", "committed_days": 9}, "agency1")
    _complete(platform, accept_id, {"outcome": "accept", "committed_days": 6}, "agency1")
    with transaction(platform.sessions, write=False) as s:
        service = contracts.get_service(s, service_id)
        assert service.status == "accepted" and service.committed_days == 6
        assert contracts.service_light(platform, service) == "green"
    (deliver_id, spec, *_), = _open(platform, instance_id)
    with pytest.raises(InvalidInput):  # no report yet
        _complete(platform, deliver_id, {"conclusion": "qualified", "summary": "审查合格"}, "agency1")
    with transaction(platform.sessions) as s, pytest.raises(NotFound):
        contracts.upload_report(s, platform, _user(s, "agency2"), service_id, "r.pdf", io.BytesIO(PDF))
    with transaction(platform.sessions) as s:
        contracts.upload_report(s, platform, _user(s, "agency1"), service_id, "审查报告.pdf", io.BytesIO(PDF))
    _complete(platform, deliver_id, {"conclusion": "qualified", "summary": "施工图审查合格"}, "agency1")
    (rate_id, spec, lane, *_), = _open(platform, instance_id)
    assert (spec, lane) == ("rate", "applicant")
    with pytest.raises(FormValidationError):
        _complete(platform, rate_id, {"score": "1"}, "applicant1")  # a low score needs its reason
    _complete(platform, rate_id, {"score": "5", "comment": "按时交付"}, "applicant1")
    with transaction(platform.sessions, write=False) as s:
        entry = next(d for d in registry.directory(s, platform) if d["firm"].id == firm_id)
        assert entry["rating"] == 5.0 and entry["ratings"] == 1 and entry["late"] == 0
        rows = contracts.spgl_rows(s, platform, [projects.find_project(s, code)])
        assert rows[-1].fields["GCDM"] == code and rows[-1].fields["FWZT"] == 4 and rows[-1].fields["XZFS"] == 1

    # stages 1 and 2, then stage 3: the drawing review's department sees the report among the materials
    with transaction(platform.sessions, write=False) as s:
        applicant_id = _user(s, "applicant1").id
    for key in ("initiation", "engineering"):
        assert demo.drive_stage(lambda: transaction(platform.sessions), platform, code, BY_KEY[key],
                                applicant_id, say=lambda _: None) == "approved"
    with transaction(platform.sessions) as s:
        project = projects.find_project(s, code)
        data = demo.stage_application(BY_KEY["construction"], project, platform.now().date())
        demo.supply_materials(s, platform, _user(s, "applicant1"), project, BY_KEY["construction"], data)
        instance = projects.apply_for_stage(s, platform, _user(s, "applicant1"), code, "construction", data)
        stage3 = instance.id
    for _ in range(5):
        rows = _open(platform, stage3)
        review = [r for r in rows if r[2] == "housing"]
        if review:
            break
        for row in rows:
            _complete(platform, row[0], demo.task_answer(None, row[0], platform.now().date()) | (
                {"outcome": "accept"} if row[2] == "window" else {}))
    with transaction(platform.sessions, write=False) as s:
        rows = [t for t in demo.open_tasks(s, stage3) if t.item_code == "S3-DRAWING-REVIEW"]
        assert rows, [t.item_code for t in demo.open_tasks(s, stage3)]
        reports = contracts.reports_for_item(s, platform, rows[0].instance.project, rows[0].item_code)
        assert [r["kind"].code for r in reports] == ["drawing_review"]
        assert reports[0]["material"].name == "施工图审查机构审查报告（审查合格书）"


def test_a_refused_service_reaches_the_supervisors(platform):
    with transaction(platform.sessions) as s:
        project = projects.create_project(s, platform, _user(s, "applicant1"), {
            "name": "拒绝测试", "division": "460100", "investment_type": "filing"})
        service = contracts.commission(s, platform, _user(s, "applicant1"), project.code,
                                       {"service": "eia", "method": "random"})
        instance_id = service.instance_id
        assert service.firm.enterprise.name == "海南椰城工程咨询有限公司"  # the only firm qualified for EIA
    (accept_id, *_), = _open(platform, instance_id)
    with pytest.raises(FormValidationError):
        _complete(platform, accept_id, {"outcome": "refuse"}, "agency2")  # a refusal gives its reason
    _complete(platform, accept_id, {"outcome": "refuse", "opinion": "人手不足"}, "agency2")
    with transaction(platform.sessions, write=False) as s:
        seen = contracts.oversight(s, platform, _user(s, "supervisor1"))
        assert [(o["service"].service, o["state"]) for o in seen] == [("eia", "refused")]
        assert contracts.oversight(s, platform, s.scalar(select(User).where(User.username == "window_sanya"))) == []
        assert s.scalar(select(Enterprise.id).where(Enterprise.credit_code == "91460100MA5T0JJ020")) is not None

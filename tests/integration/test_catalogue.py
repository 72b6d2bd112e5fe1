"""告知承诺, 容缺, merged stages, decided items and the public catalogue, through the API."""

import datetime as dt

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, Commitment, ItemHandling, ItemHandlingEvent
from engine.calendar import LOCAL_TZ
from engine.catalog import BASIC_ELEMENTS
from tests.integration.catalogue_steps import (
    Officers,
    application,
    apply,
    complete,
    declare,
    items,
    open_tasks,
    project,
    stages,
    work,
)

WINDOW_ACCEPT = {"outcome": "accept"}
MATERIAL = "授权委托书及受托人身份证件"


@pytest.fixture
def officers(login):
    return Officers(login)


def accept(officers, code, data=None, status=200):
    [window] = [t for t in open_tasks(officers, code) if t["task"] == "window_accept"]
    return complete(officers, window, data or WINDOW_ACCEPT, status=status)


def events_of(platform, code, item_code):
    with transaction(platform.sessions, write=False) as session:
        handling = session.scalar(select(ItemHandling).where(ItemHandling.project_code == code,
                                                             ItemHandling.item_code == item_code))
        return [(e.state, e.opinion) for e in session.scalars(select(ItemHandlingEvent).where(
            ItemHandlingEvent.handling_id == handling.id).order_by(ItemHandlingEvent.id))]


def audit_kinds(platform, code):
    with transaction(platform.sessions, write=False) as session:
        return [e.kind for e in session.scalars(select(AuditEvent).where(AuditEvent.project_code == code))]


@pytest.mark.parametrize("outcome,state", [("confirm", 11), ("revoke", 15)])
def test_a_committed_item_is_approved_at_once_and_verified_later(officers, platform, outcome, state):
    code = declare(officers)
    apply(officers, code, "initiation", application("initiation", commitments=["S1-LAND-PERMIT"]))
    accept(officers, code)
    view = project(officers, code)
    permit = items(view)["S1-LAND-PERMIT"]
    assert permit["state"] == 11 and permit["finished_at"]
    assert "告知承诺" in events_of(platform, code, "S1-LAND-PERMIT")[-1][1]
    decided = {i["item_code"]: i["mode"] for i in stages(view)["initiation"]["decided_items"]}
    assert decided["S1-LAND-PERMIT"] == "commitment" and decided["S1-LAND-PREREVIEW"] == "review"
    planning = officers("planning_haikou").get(f"/tasks?project={code}").get_json()["tasks"]
    reviews = {t["item_code"] for t in planning if t["task"] == "review_planning"}
    [verify] = [t for t in planning if t["task"] == "verify_planning"]
    assert "S1-LAND-PERMIT" not in reviews and "S1-LAND-PREREVIEW" in reviews
    assert verify["item_code"] == "S1-LAND-PERMIT" and verify["stage"] == "verification"
    due, approved = (dt.datetime.fromisoformat(v).astimezone(LOCAL_TZ)
                     for v in (verify["due_at"], permit["finished_at"]))
    assert due.date() == approved.date() + dt.timedelta(days=30)  # 30 calendar days, to the end of that day
    assert officers("planning_sanya").get(f"/tasks/{verify['id']}").status_code == 404
    complete(officers, verify, outcome=outcome)
    assert items(project(officers, code))["S1-LAND-PERMIT"]["state"] == state
    with transaction(platform.sessions, write=False) as session:
        [commitment] = session.scalars(select(Commitment).where(Commitment.item_code == "S1-LAND-PERMIT")).all()
        assert commitment.state == {"confirm": "confirmed", "revoke": "revoked"}[outcome]
    assert {"commitment_approved", f"commitment_{commitment.state}"} <= set(audit_kinds(platform, code))
    assert project(officers, code)["commitments"] == [{"item_code": "S1-LAND-PERMIT", "state": commitment.state,
                                                       "signed_at": commitment.signed_at.isoformat(),
                                                       "verify_by": commitment.verify_by.isoformat()}]
    work(officers, code)  # the stage still ends normally
    assert stages(project(officers, code))["initiation"]["status"] == "approved"


@pytest.mark.parametrize("commitments", [["S9-NOTHING"], ["S1-EIA"], ["S1-WATER-INTAKE"], ["S3-SEWAGE-PERMIT"]])
def test_commitments_must_be_allowed_and_needed(officers, commitments):
    code = declare(officers)
    body = apply(officers, code, "initiation", application("initiation", commitments=commitments), status=422)
    assert "commitments" in body["error"]["fields"]
    view = project(officers, code)
    assert stages(view)["initiation"]["status"] == "open" and not stages(view)["initiation"]["instances"]


def test_gaps_withhold_the_result_until_the_material_arrives(officers, platform):
    code = declare(officers)
    apply(officers, code, "initiation", application("initiation"))
    supply_by = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    with_gaps = {"outcome": "accept", "tolerance_acceptance": True, "supply_by": supply_by}
    wrong = accept(officers, code, {**with_gaps, "tolerated_materials": ["建设项目用地预审与选址意见书"]}, 422)
    assert "tolerated_materials" in wrong["error"]["fields"]
    late = accept(officers, code, {**with_gaps, "tolerated_materials": [MATERIAL], "supply_by": "2020-01-01"}, 422)
    assert "supply_by" in late["error"]["fields"]
    accept(officers, code, {**with_gaps, "tolerated_materials": [MATERIAL]})
    supply = work(officers, code, until=lambda t: t["task"] in ("supply_gaps", "window_issue"))
    assert supply["task"] == "supply_gaps" and supply["lane"] == "applicant"
    assert dt.datetime.fromisoformat(supply["due_at"]).astimezone(LOCAL_TZ).date().isoformat() == supply_by
    states = {c: i["state"] for c, i in items(project(officers, code)).items()}
    assert states["S1-LAND-PREREVIEW"] == 12 and states["S1-GEOHAZARD"] == 11  # no gap in the filing
    assert not [t for t in open_tasks(officers, code) if t["task"] == "window_issue"]
    missing = complete(officers, supply, {"materials": ["别的材料"]}, status=422)
    assert MATERIAL in missing["error"]["fields"]["materials"]
    complete(officers, supply, {"materials": [MATERIAL]})
    assert [t["task"] for t in open_tasks(officers, code)] == ["window_issue"]
    assert items(project(officers, code))["S1-LAND-PREREVIEW"]["state"] == 11
    work(officers, code)
    assert stages(project(officers, code))["initiation"]["status"] == "approved"
    assert {"accepted_with_gaps", "gaps_supplied"} <= set(audit_kinds(platform, code))


def test_land_sold_with_a_scheme_merges_construction_into_engineering(officers):
    code = declare(officers, flow_type=5)
    apply(officers, code, "initiation", application("initiation", flow_type=5))
    work(officers, code)
    view = project(officers, code)
    assert "S1-LAND-PREREVIEW" not in items(view)
    assert stages(view)["construction"]["status"] == "merged"
    assert stages(view)["construction"]["merged_into"] == "engineering"
    apply(officers, code, "construction", application("construction", flow_type=5), status=409)
    plain = application("engineering", flow_type=3)
    assert "construction" in apply(officers, code, "engineering", plain, status=422)["error"]["fields"]
    apply(officers, code, "engineering", application("engineering", flow_type=5))
    accept(officers, code)
    decided = {i["item_code"] for i in stages(project(officers, code))["engineering"]["decided_items"]}
    assert {"S2-PLAN-PERMIT", "S3-DRAWING-REVIEW", "S3-CONSTRUCTION-PERMIT", "S3-FIRE-DESIGN"} <= decided
    assert "S2-DESIGN-SCHEME" not in decided
    work(officers, code)
    after = stages(project(officers, code))
    assert after["engineering"]["status"] == after["construction"]["status"] == "approved"
    assert after["acceptance"]["status"] == "open"


def test_the_items_a_project_needs_follow_flow_type_and_zone(officers):
    general, zoned = declare(officers), declare(officers, flow_type=1, investment_type="government")
    apply(officers, general, "initiation", application("initiation"))
    apply(officers, zoned, "initiation", application("initiation", investment_type="government",
                                                       regional_assessment_zone=True))
    first = {i["item_code"] for i in stages(project(officers, general))["initiation"]["decided_items"]}
    second = {i["item_code"] for i in stages(project(officers, zoned))["initiation"]["decided_items"]}
    assert {"S1-PROJ-RATIFY", "S1-EIA", "S1-GEOHAZARD", "S1-SOIL-WATER", "S1-ENERGY"} <= first
    assert {"S1-PROJ-PROPOSAL", "S1-PROJ-APPROVAL", "S1-LAND-ALLOCATION", "S1-EIA-REGISTRATION"} <= second
    assert not {"S1-EIA", "S1-GEOHAZARD", "S1-SOIL-WATER", "S1-ENERGY", "S1-PROJ-RATIFY"} & second


def test_public_item_list_and_service_guides(client):
    everything = client.get("/api/v1/catalog/items").get_json()
    assert everything["total"] == 67
    stage1 = client.get("/api/v1/catalog/items?stage=initiation").get_json()["items"]
    assert stage1 and all(i["stage"] == "initiation" for i in stage1)
    fire = client.get("/api/v1/catalog/items?role=fire").get_json()["items"]
    assert {i["code"] for i in fire} == {"S3-FIRE-DESIGN", "S3-FIRE-DESIGN-FILING", "S4-FIRE-ACCEPTANCE",
                                         "S4-FIRE-FILING"}
    named = client.get("/api/v1/catalog/items?q=施工许可").get_json()["items"]
    assert named and all("施工许可" in i["name"] for i in named)
    guide = client.get("/api/v1/catalog/items/S1-LAND-PERMIT").get_json()
    assert all(guide[element] for element in BASIC_ELEMENTS)
    assert guide["commitment_allowed"] and guide["gaps_allowed"] and guide["details"]["complaint_phone"]
    assert {"name", "issuer", "original", "copies", "required", "essential"} <= set(guide["materials"][0])
    assert client.get("/api/v1/catalog/items/S9-NOTHING").status_code == 404

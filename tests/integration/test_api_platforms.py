"""The API twins of the planning and intermediary pages: who may do what, and the whole contract."""

from __future__ import annotations

import io

import pytest

from app.db import transaction
from app.services.provisioning import demo
from app.services.provisioning.portal_platforms import DEMO_SITE
from app.services.workflow import tasks

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads(platform, tmp_path, monkeypatch):
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))


def _answer(platform, task_id, outcome=None):
    with transaction(platform.sessions, write=False) as session:
        row = tasks.get_task(session, task_id)
        return demo.task_answer(row.form, row.id, platform.now().date(), outcome)


def test_a_planning_proposal_over_the_api(platform, login, client):
    drc = login("drc_haikou")
    body = {"name": "江东新区文体中心", "division": "460100", "investment_type": "government",
            "enterprise_credit_code": "91460100MA5T00001L", "site": DEMO_SITE, "area_m2": 12000}
    assert login("applicant1").post("/planning/proposals", body).status_code == 403
    bad = drc.post("/planning/proposals", {**body, "site": {"type": "Polygon", "coordinates": [[[1, 2]]]}})
    assert bad.status_code == 422 and "site" in bad.get_json()["error"]["fields"]
    made = drc.post("/planning/proposals", body)
    assert made.status_code == 201, made.get_json()
    proposal = made.get_json()
    assert proposal["status"] == "reviewing" and proposal["findings"], "the demo site touches protected zones"
    reviews = proposal["reviews"]
    assert len({r["role"] for r in reviews}) >= 5 and all(r["status"] == "open" and r["due_at"] for r in reviews)
    assert [p["id"] for p in drc.get("/planning/proposals").get_json()["proposals"]] == [proposal["id"]]
    assert login("applicant1").get(f"/planning/proposals/{proposal['id']}").status_code == 200  # its enterprise's
    assert login("agency1").get(f"/planning/proposals/{proposal['id']}").status_code == 404
    assert login("planning_sanya").get(f"/planning/proposals/{proposal['id']}").status_code == 404
    # a reviewing department answers through the task API, like any review
    task_id = reviews[0]["task_id"]
    with transaction(platform.sessions, write=False) as session:
        actor = demo.actor_for(session, tasks.get_task(session, task_id)).username
    officer = login(actor)
    done = officer.post(f"/tasks/{task_id}/complete", {"data": _answer(platform, task_id, "agree")})
    assert done.status_code == 200, done.get_json()
    after = officer.get(f"/planning/proposals/{proposal['id']}").get_json()
    assert next(r for r in after["reviews"] if r["task_id"] == task_id)["status"] == "completed"


def test_an_intermediary_service_over_the_api(platform, login, client):
    directory = client.get("/api/v1/intermediaries?service=drawing_review")
    assert directory.status_code == 200  # public, like the 中介超市 page
    firms = {f["name"]: f for f in directory.get_json()["firms"]}
    firm = firms["海南琼岛施工图审查中心有限公司"]
    assert any(q["service"] == "drawing_review" for q in firm["qualifications"])
    assert client.get("/api/v1/intermediaries?service=nothing").status_code == 422

    applicant = login("applicant1")
    code = applicant.post("/projects", {"name": "椰林湾综合楼", "division": "460100",
                                        "investment_type": "ratification", "flow_type": 3}).get_json()["code"]
    refused = applicant.post(f"/projects/{code}/services", {"service": "drawing_review", "method": "nearest"})
    assert refused.status_code == 422 and "method" in refused.get_json()["error"]["fields"]
    assert login("window1").post(f"/projects/{code}/services", {"service": "drawing_review",
                                                                 "method": "random"}).status_code == 403
    made = applicant.post(f"/projects/{code}/services", {"service": "drawing_review", "method": "direct",
                                                         "firm_id": firm["id"], "committed_days": 8})
    assert made.status_code == 201, made.get_json()
    service = made.get_json()
    assert service["status"] == "commissioned" and service["open_task"] is None  # the firm's task, not mine
    assert [s["id"] for s in applicant.get(f"/projects/{code}/services").get_json()["services"]] == [service["id"]]

    agency, other = login("agency1"), login("agency2")
    assert other.get(f"/services/{service['id']}").status_code == 404
    assert other.get("/intermediary/commissions").get_json()["services"] == []
    (mine,) = agency.get("/intermediary/commissions").get_json()["services"]
    accept = mine["open_task"]
    assert accept["task"] == "accept" and accept["lane"] == "intermediary"
    assert agency.post(f"/tasks/{accept['id']}/complete", {"data": {"outcome": "accept",
                                                                     "committed_days": 6}}).status_code == 200
    assert other.post(f"/services/{service['id']}/report", data={"file": (io.BytesIO(PDF), "r.pdf")},
                      content_type="multipart/form-data").status_code == 404
    assert agency.post(f"/services/{service['id']}/report", data={},
                       content_type="multipart/form-data").status_code == 422
    uploaded = agency.post(f"/services/{service['id']}/report", data={"file": (io.BytesIO(PDF), "审查报告.pdf")},
                           content_type="multipart/form-data")
    assert uploaded.status_code == 201 and uploaded.get_json()["report_material_id"]
    deliver = uploaded.get_json()["open_task"]
    assert deliver["task"] == "deliver"
    assert agency.post(f"/tasks/{deliver['id']}/complete", {"data": {"conclusion": "qualified",
                                                                      "summary": "施工图审查合格"}}).status_code == 200
    rate = applicant.get(f"/services/{service['id']}").get_json()["open_task"]
    assert rate["task"] == "rate"
    assert applicant.post(f"/tasks/{rate['id']}/complete", {"data": {"score": "5", "comment": "按时交付"}}
                          ).status_code == 200
    final = applicant.get(f"/services/{service['id']}").get_json()
    assert (final["status"], final["rating"], final["committed_days"]) == ("completed", 5, 6)
    rated = {f["name"]: f for f in client.get("/api/v1/intermediaries").get_json()["firms"]}
    assert rated["海南琼岛施工图审查中心有限公司"]["ratings"] == firm["ratings"] + 1

    assert applicant.get("/services/oversight").status_code == 403
    assert login("supervisor1").get("/services/oversight").status_code == 200

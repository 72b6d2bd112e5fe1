"""The pages of 项目策划生成 and 中介服务: who sees what, forms with clear errors, both languages."""

from __future__ import annotations

import io
import json
import re

from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask, IntermediaryFirm, IntermediaryService, PlanningProposal
from app.services.provisioning.portal_platforms import CLEAR_SITE, DEMO_SITE

from .webclient import Pages

PDF = b"%PDF-1.4\n% report\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PROPOSAL = {"name": "江东新区文化中心", "division": "460100", "investment_type": "government",
            "enterprise_credit_code": "91460100MA5T00001L", "area_m2": "12000", "site": json.dumps(DEMO_SITE)}


def _layers(html: str) -> dict:
    raw = re.search(r'data-layers="([^"]+)"', html).group(1)
    return json.loads(raw.replace("&#34;", '"').replace("&quot;", '"').replace("&amp;", "&"))


def test_a_lead_department_proposes_and_a_department_sees_its_finding(client, platform):
    drc = Pages(client, "drc_haikou")
    assert "提出策划项目" in drc.text("/planning/")
    page = drc.text("/planning/new")
    assert "vendor/leaflet/leaflet.js" in page and len(_layers(page)["zones"]) == 6
    bad = drc.post("/planning/new", {**PROPOSAL, "site": "{not json", "area_m2": "-1"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert "不是有效的 GeoJSON" in text and "用地面积须为大于0的平方米数" in text
    response = drc.post("/planning/new", PROPOSAL)
    assert response.status_code == 302, response.get_data(as_text=True)[:600]
    proposal_page = drc.text(response.headers["Location"])
    assert "生态保护红线" in proposal_page and "东寨港红树林生态保护红线" in proposal_page
    layers = _layers(proposal_page)
    assert layers["site"]["type"] == "Polygon" and [z["name"] for z in layers["zones"] if z["hit"]] == [
        "东寨港红树林生态保护红线"]
    with transaction(platform.sessions, write=False) as s:
        proposal = s.scalar(select(PlanningProposal))
        query = select(HumanTask).where(HumanTask.instance_id == proposal.instance_id)
        rows = {t.lane_role: t.id for t in s.scalars(query)}
        code = proposal.project.code
    environment = Pages(client, "environment_haikou")
    task_page = environment.text(f"/officer/tasks/{rows['environment']}")
    assert 'id="planning-task"' in task_page and "选址与生态保护红线" in task_page
    forestry = Pages(client, "forestry_haikou")
    assert "选址未触及本部门的管控图层" in forestry.text(f"/officer/tasks/{rows['forestry']}")
    Pages(client, "drc_sanya").text(f"/planning/{proposal.id}", 404)  # another city's department
    Pages(client, "environment_haikou").text("/planning/new", 403)  # not a lead department
    applicant = Pages(client, "applicant1")
    project_page = applicant.text(f"/portal/projects/{code}")
    assert "各部门审查中" in project_page and f"/services/projects/{code}" in project_page
    english = Pages(client, "drc_haikou")
    english.get("/lang/en")
    assert "Ecological red line" in json.dumps(_layers(english.text(f"/planning/{proposal.id}")), ensure_ascii=False)


def test_admins_edit_the_plan_layers_and_the_registry(client, platform):
    admin = Pages(client, "admin")
    index = admin.text("/admin/platforms/")
    assert "江东新区规划建设用地" in index and "海南琼岛施工图审查中心有限公司" in index
    point = json.dumps({"type": "Point", "coordinates": [1, 2]})
    bad = admin.post("/admin/platforms/zones/new", {"division_code": "460100", "kind": "forest", "name": "测试林地",
                                                    "geometry": point, "active": "1"})
    assert bad.status_code == 422 and "图层须为 GeoJSON 面" in bad.get_data(as_text=True)
    good = admin.post("/admin/platforms/zones/new", {"division_code": "460200", "kind": "forest",
                                                     "name": "三亚测试林地", "geometry": json.dumps(CLEAR_SITE),
                                                     "active": "1"})
    assert good.status_code == 302
    assert "三亚测试林地" in admin.text("/admin/platforms/")
    registered = admin.post("/admin/platforms/firms", {"name": "海南测试测绘有限公司",
                                                        "credit_code": "91460100MA5T0JJ033", "division_code": "460100"})
    assert registered.status_code == 302 and "/admin/platforms/firms/" in registered.headers["Location"]
    firm_page = registered.headers["Location"]
    added = admin.post(f"{firm_page}/qualifications", {"service": "surveying", "grade": "乙级",
                                                        "certificate_no": "测-1", "valid_from": "2026-01-01",
                                                        "valid_until": "2025-01-01"})
    assert "有效期止不能早于有效期起" in admin.text(added.headers["Location"])
    admin.post(f"{firm_page}/qualifications", {"service": "surveying", "grade": "乙级", "certificate_no": "测-1",
                                               "valid_from": "2026-01-01", "valid_until": "2030-01-01"})
    assert "S1-LAND-ALLOCATION" in admin.text(firm_page)
    assert "海南测试测绘有限公司" in client.get("/market/?service=surveying").get_data(as_text=True)
    Pages(client, "drc_haikou").text("/admin/platforms/", 403)
    with transaction(platform.sessions) as s:  # keep the seeded registry as it was
        for firm in s.scalars(select(IntermediaryFirm)):
            if firm.enterprise.name == "海南测试测绘有限公司" or firm.enterprise.credit_code == "91460100MA5T0JJ033":
                s.delete(firm)
        from app.models import PlanZone
        for zone in s.scalars(select(PlanZone).where(PlanZone.division_code == "460200")):
            s.delete(zone)


def test_an_applicant_commissions_a_firm_that_delivers_and_is_rated(app, platform):
    client = app.test_client()
    applicant = Pages(client, "applicant1")
    created = applicant.post("/portal/projects/new", {"name": "中介服务页面测试", "division": "460100",
                                                      "investment_type": "filing", "flow_type": "3"})
    code = created.headers["Location"].rsplit("/", 1)[1]
    page = applicant.text(f"/services/projects/{code}")
    assert "随机抽取" in page and "具备资质的机构 2 家" in page
    bad = applicant.post(f"/services/projects/{code}", {"service": "eia", "method": "direct", "firm_id": "999"})
    assert bad.status_code == 422 and "所选机构没有本项服务的有效资质" in bad.get_data(as_text=True)
    done = applicant.post(f"/services/projects/{code}", {"service": "drawing_review", "method": "random"})
    assert done.status_code == 302
    service_page = applicant.text(done.headers["Location"])
    assert "抽取种子" in service_page
    with transaction(platform.sessions, write=False) as s:
        service = s.scalar(select(IntermediaryService).order_by(IntermediaryService.id.desc()))
        firm_user = "agency1" if service.firm.enterprise.name.startswith("海南琼岛") else "agency2"
        other = "agency2" if firm_user == "agency1" else "agency1"
        service_id = service.id
    agency = Pages(app.test_client(), firm_user)
    assert "中介服务页面测试" in agency.text("/intermediary/")
    Pages(app.test_client(), other).text(f"/intermediary/services/{service_id}", 404)
    assert "中介服务页面测试" not in Pages(app.test_client(), other).text("/intermediary/")
    agency.text("/portal/", 403)
    agency.text("/officer/", 403)
    accepted = agency.post(f"/intermediary/services/{service_id}", {"outcome": "accept", "committed_days": "5"})
    assert accepted.status_code == 302
    refused = agency.post(f"/intermediary/services/{service_id}", {"conclusion": "qualified", "summary": "合格"})
    assert refused.status_code == 302 and "请先上传服务成果" in agency.text(refused.headers["Location"])
    token = agency.token()
    upload = agency.client.post(f"/intermediary/services/{service_id}/report",
                         data={"csrf_token": token, "file": (io.BytesIO(PDF), "报告.pdf")},
                         content_type="multipart/form-data")
    assert upload.status_code == 302
    assert agency.post(f"/intermediary/services/{service_id}", {"conclusion": "qualified",
                                                                 "summary": "合格"}).status_code == 302
    with transaction(platform.sessions, write=False) as s:
        rate_id = s.scalar(select(HumanTask.id).where(HumanTask.instance_id == service.instance_id,
                                                     HumanTask.status == "open"))
    redirected = applicant.get(f"/portal/tasks/{rate_id}")
    assert redirected.status_code == 302 and f"/services/{service_id}" in redirected.headers["Location"]
    low = applicant.post(f"/services/{service_id}", {"score": "1"})
    assert low.status_code == 422
    assert applicant.post(f"/services/{service_id}", {"score": "4", "comment": "沟通及时"}).status_code == 302
    market = client.get("/market/").get_data(as_text=True)
    assert "沟通及时" in market and 'data-rating="4.0"' in market
    Pages(app.test_client(), "supervisor1").text("/services/oversight")
    Pages(app.test_client(), "drc_haikou").text("/services/oversight", 403)

"""The applicant's side of issue 11 through the pages and the API (SQLite and PostgreSQL): a filing
missing a required material is refused with the list; the checklist follows the answers; uploads
answer in place; drafts are kept per stage and resumed; forms start filled from earlier stages;
告知承诺 is ticked; what was filed stays readable with every version of its materials."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from sqlalchemy import func, select

from app.db import transaction
from app.models import MaterialVersion, ProcessInstance, Project, StageDraft
from app.services.provisioning import demo
from app.stages import BY_KEY
from tests.conftest import supply_materials

from .test_pages import PDF, declare, form_of, open_task
from .webclient import Pages

SMALL = {"total_investment": "300", "land_area": "800"}  # below the energy (5000 万元) and soil (1 ha) thresholds
LARGE = {"total_investment": "12800", "land_area": "24000"}


@pytest.fixture(autouse=True)
def uploads(platform, tmp_path, monkeypatch):
    """Materials go to a temporary directory."""
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))


def stage1(**changes) -> dict:
    class P:
        name = "椰林湾综合楼项目"
        investment_type = "ratification"
    return {**demo.stage_application(BY_KEY["initiation"], P, dt.date(2026, 3, 2)), **changes}


def instances_of(platform, code: str) -> int:
    with transaction(platform.sessions, write=False) as session:
        project = session.scalar(select(Project).where(Project.code == code))
        return session.scalar(select(func.count(ProcessInstance.id)).where(ProcessInstance.project_id == project.id))


def test_a_filing_missing_a_required_material_is_refused_with_the_list(platform, login):
    applicant = login("applicant1")
    code = applicant.post("/projects", {"name": "椰林湾综合楼项目", "division": "460100",
                                        "investment_type": "ratification"}).get_json()["code"]
    data = stage1()
    cached_before = set(platform.workflows._entries)  # other tests' instances may still be cached
    refused = applicant.post(f"/projects/{code}/stages/initiation/applications", {"data": data})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert "项目申请报告" in error["missing_materials"] and "节能报告" in error["missing_materials"]
    assert "缺少必交材料" in error["fields"]["materials"]
    assert instances_of(platform, code) == 0  # refused: nothing was started
    with transaction(platform.sessions, write=False) as session:  # nor cached under an id a later one may take
        url = str(session.get_bind().url)
        for (db, instance_id), (version, _wf) in list(platform.workflows._entries.items()):
            if db == url and (db, instance_id) not in cached_before:
                row = session.get(ProcessInstance, instance_id)
                assert row is not None and row.version == version, (instance_id, version)
    supplied = supply_materials(platform, code, "initiation", data)
    assert set(error["missing_materials"]) == set(supplied)
    assert "授权委托书及受托人身份证件" not in supplied  # not required
    filed = applicant.post(f"/projects/{code}/stages/initiation/applications", {"data": data})
    assert filed.status_code == 201, filed.get_json()


def test_the_checklist_follows_the_answers(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    url = f"/portal/projects/{code}/stages/initiation/checklist"
    small = pages.post(url, form_of(stage1(**SMALL)))
    large = pages.post(url, form_of(stage1(**LARGE)))
    assert small.status_code == large.status_code == 200
    names = lambda r: {m["name"] for m in r.get_json()["materials"]}  # noqa: E731
    assert "节能报告" not in names(small) and "水土保持方案报告书（表）" not in names(small)
    assert "节能报告" in names(large) and "水土保持方案报告书（表）" in names(large)
    assert "节能报告" in large.get_json()["html"]["materials"]
    signable = {c["code"] for c in large.get_json()["commitments"]}
    assert "S1-ENERGY" in signable and "S1-EIA" not in signable  # only items that allow 告知承诺
    assert "承诺" in large.get_json()["commitments"][0]["text"]
    api = client.application.extensions["platform"]
    assert api is platform


def test_the_checklist_endpoint_of_the_api(platform, login):
    applicant = login("applicant1")
    code = applicant.post("/projects", {"name": "椰林湾综合楼项目", "division": "460100",
                                        "investment_type": "ratification"}).get_json()["code"]
    url = f"/projects/{code}/stages/initiation/checklist"
    large = applicant.post(url, {"data": stage1()}).get_json()
    assert any(m["name"] == "节能报告" and m["blocking"] and m["upload"] is None for m in large["materials"])
    signed = applicant.post(url, {"data": stage1(commitments=["S1-ENERGY"])}).get_json()
    energy = next(m for m in signed["materials"] if m["name"] == "节能报告")
    assert energy["required"] and not energy["blocking"] and energy["later"] == "commitment"  # may follow
    assert applicant.post(url, {"data": "nope"}).status_code == 422
    assert applicant.post(f"/projects/{code}/stages/nope/checklist", {"data": {}}).status_code == 404
    assert login("analyst1").post(url, {"data": {}}).status_code == 403


def test_a_committed_item_needs_no_material_up_front(platform, login):
    applicant = login("applicant1")
    code = applicant.post("/projects", {"name": "椰林湾综合楼项目", "division": "460100",
                                        "investment_type": "ratification"}).get_json()["code"]
    data = stage1(commitments=["S1-ENERGY"])
    supplied = supply_materials(platform, code, "initiation", data)
    assert "节能报告" not in supplied
    assert applicant.post(f"/projects/{code}/stages/initiation/applications", {"data": data}).status_code == 201


def test_upload_in_place_answers_json_and_keeps_versions(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    url = f"/portal/projects/{code}/materials"
    first = pages.post(url, {"name": "项目申请报告", "file": (io.BytesIO(PDF), "报告.pdf")},
                       headers={"Accept": "application/json"})
    assert first.status_code == 200 and first.get_json()["material"]["version"] == 1
    again = pages.post(url, {"name": "项目申请报告", "file": (io.BytesIO(PDF + b"% v2\n"), "报告二.pdf")},
                       headers={"Accept": "application/json"})
    body = again.get_json()["material"]
    assert body["version"] == 2 and body["original_name"] == "报告二.pdf"
    bad = pages.post(url, {"name": "项目申请报告", "file": (io.BytesIO(b"<html>"), "x.pdf")},
                     headers={"Accept": "application/json"})
    assert bad.status_code == 422 and "只接受" in bad.get_json()["error"]["fields"]["file"]
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count(MaterialVersion.id))) == 2  # the bad file left nothing
    old = pages.get(f"/portal/projects/{code}/materials/{body['id']}/versions/1")
    assert old.status_code == 200 and old.data == PDF
    old.close()
    assert pages.get(f"/portal/projects/{code}/materials/{body['id']}/versions/9").status_code == 404
    page = pages.text(f"/portal/projects/{code}/materials/{body['id']}/history")
    assert "报告二.pdf" in page and "报告.pdf" in page


def test_the_api_lists_every_version_of_a_material(platform, login):
    applicant = login("applicant1")
    code = applicant.post("/projects", {"name": "椰林湾综合楼项目", "division": "460100",
                                        "investment_type": "ratification"}).get_json()["code"]
    for content in (PDF, PDF + b"% v2\n", PDF + b"% v2\n"):  # the same file twice is one version
        sent = applicant.post(f"/projects/{code}/materials", data={"name": "节能报告", "file": (
            io.BytesIO(content), "节能报告.pdf")}, content_type="multipart/form-data")
        assert sent.status_code == 201, sent.get_json()
    listed = applicant.get(f"/projects/{code}/materials").get_json()["materials"]
    assert [v["version"] for v in listed[0]["versions"]] == [2, 1]


def test_drafts_are_kept_per_stage_and_resumed(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    saved = pages.post(f"/portal/projects/{code}/stages/initiation/draft",
                       {"site_address": "海口市美兰区草稿路1号", "contact_name": "草稿人", "bogus": "x"},
                       headers={"Accept": "application/json"})
    assert saved.status_code == 200 and saved.get_json()["saved_at"]
    page = pages.text(f"/portal/projects/{code}/stages/initiation")
    assert "海口市美兰区草稿路1号" in page and "草稿人" in page and "已恢复" in page
    with transaction(platform.sessions, write=False) as session:
        row = session.scalar(select(StageDraft))
        assert row.stage_key == "initiation" and "bogus" not in json.loads(row.values)
    button = pages.post(f"/portal/projects/{code}/stages/initiation", {"action": "draft", "contact_name": "按钮"})
    assert button.status_code == 302
    assert "按钮" in pages.text(f"/portal/projects/{code}/stages/initiation")
    data = stage1()
    supply_materials(platform, code, "initiation", data)
    filed = pages.post(f"/portal/projects/{code}/stages/initiation", form_of(data))
    assert filed.status_code == 302, filed.get_data(as_text=True)[:2000]
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count(StageDraft.id))) == 0  # filed: the draft is gone


def test_the_page_refuses_a_filing_missing_materials_with_a_summary(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    refused = pages.post(f"/portal/projects/{code}/stages/initiation", form_of(stage1(contact_name="王海")))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert 'id="error-summary"' in html and "缺少必交材料" in html and 'href="#materials"' in html
    assert "项目申请报告" in html and 'value="王海"' in html  # what was typed is kept
    wrong = pages.post(f"/portal/projects/{code}/stages/initiation", form_of(stage1(contact_phone="12345")))
    assert 'href="#f-contact_phone"' in wrong.get_data(as_text=True)
    assert instances_of(platform, code) == 0


def _finish_stage_one(platform, pages, code, certificate_number):
    data = stage1()
    supply_materials(platform, code, "initiation", data)
    assert pages.post(f"/portal/projects/{code}/stages/initiation", form_of(data)).status_code == 302
    from app.models import HumanTask
    from app.services.workflow import instances
    today = platform.now().date()
    for _ in range(60):
        with transaction(platform.sessions, write=False) as session:
            rows = session.scalars(select(HumanTask).where(HumanTask.status == "open").order_by(HumanTask.id)).all()
            rows = [r for r in rows if r.instance.project.code == code and r.instance.stage_key == "initiation"]
        if not rows:
            return
        with transaction(platform.sessions) as session:
            row = session.get(HumanTask, rows[0].id)
            answer = demo.task_answer(row.form, row.id, today)
            if row.spec_name == "window_issue":
                answer["certificates"] = [{"item_code": "S1-LAND-PERMIT", "certificate_name": "建设用地规划许可证",
                                           "certificate_number": certificate_number}]
            instances.complete_task(session, platform, row.id, answer, demo.actor_for(session, row))
    pytest.fail("stage 1 did not finish")


def test_stage_two_starts_filled_from_earlier_stages_and_the_filing_stays_readable(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    _finish_stage_one(platform, pages, code, "地字第460100202600088号")
    page = pages.text(f"/portal/projects/{code}/stages/engineering")
    assert 'value="地字第460100202600088号"' in page  # the permit issued with stage 1
    assert 'value="王海"' in page and f'value="{demo.PHONE}"' in page  # contacts carried over
    with transaction(platform.sessions, write=False) as session:
        instance = session.scalar(select(ProcessInstance).where(ProcessInstance.stage_key == "initiation"))
    filed = pages.text(f"/portal/projects/{code}/applications/{instance.id}")
    assert "海口市龙华区滨海大道88号" in filed and "项目申请报告" in filed and "总投资" in filed
    assert f"/portal/projects/{code}/applications/{instance.id}" in pages.text(f"/portal/projects/{code}")
    pages.get("/lang/en")
    english = pages.get(f"/portal/projects/{code}/applications/{instance.id}").get_data(as_text=True)
    assert "Submitted application" in english


def test_the_correction_page_shows_its_deadline(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    data = stage1()
    supply_materials(platform, code, "initiation", data)
    assert pages.post(f"/portal/projects/{code}/stages/initiation", form_of(data)).status_code == 302
    from app.services.workflow import instances
    today = platform.now().date()
    row = open_task(platform, code, "window")
    with transaction(platform.sessions) as session:
        instances.complete_task(session, platform, row.id, demo.task_answer(row.form, row.id, today),
                                demo.actor_for(session, row))
    row = open_task(platform, code, "planning")
    with transaction(platform.sessions) as session:
        answer = {**demo.task_answer(row.form, row.id, today, "correct"), "opinion": "请补充宗地图"}
        instances.complete_task(session, platform, row.id, answer, demo.actor_for(session, row))
    task = open_task(platform, code, "applicant")
    page = pages.text(f"/portal/tasks/{task.id}")
    assert "补正期限" in page and "10 个工作日" in page and 'data-inplace="1"' in page


def test_the_stage_form_in_english(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    pages.get("/lang/en")
    page = pages.text(f"/portal/projects/{code}/stages/initiation")
    assert "Total investment (10,000 yuan)" in page and "总投资（万元）" not in page
    assert "Uses forest land" in page and "Materials" in page or "material" in page.lower()
    refused = pages.post(f"/portal/projects/{code}/stages/initiation", form_of(stage1(contact_phone="12345")))
    html = refused.get_data(as_text=True)
    assert "Wrong format: 11-digit mainland China mobile number" in html
    assert "The application was not submitted" in html

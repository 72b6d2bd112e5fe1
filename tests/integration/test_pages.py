"""The applicant portal, officer workbench and public pages, through the test client (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from app import create_app
from app.db import transaction
from app.models import Enterprise, HumanTask, ItemHandling, User
from app.services.people.accounts import hash_password
from app.services.provisioning import demo
from app.stages import BY_KEY
from tests.conftest import supply_materials

from .webclient import Pages

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads(platform, tmp_path, monkeypatch):
    """Materials go to a temporary directory."""
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))


def form_of(data: dict) -> dict:
    """A stage form's data as posted strings."""
    out = {}
    for key, value in data.items():
        if isinstance(value, bool):
            if value:
                out[key] = "on"
        elif isinstance(value, list):
            out[key] = "\n".join(value)
        else:
            out[key] = str(value)
    return out


def declare(pages: Pages, name: str = "椰林湾综合楼项目") -> str:
    response = pages.post("/portal/projects/new", {"name": name, "division": "460100",
                                                  "investment_type": "ratification", "flow_type": "3"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return response.headers["Location"].rsplit("/", 1)[-1]


def apply_stage1(pages: Pages, code: str, **changes):
    class P:
        name = "椰林湾综合楼项目"
        investment_type = "ratification"
    typed = demo.stage_application(BY_KEY["initiation"], P, dt.date(2026, 3, 2))
    supply_materials(pages.client.application.extensions["platform"], code, "initiation", typed)
    data = {**form_of(typed), **changes}
    return pages.post(f"/portal/projects/{code}/stages/initiation", data)


def open_task(platform, code: str, lane: str) -> HumanTask:
    with transaction(platform.sessions, write=False) as session:
        rows = session.scalars(select(HumanTask).where(HumanTask.status == "open", HumanTask.lane_role == lane)
                               .order_by(HumanTask.id)).all()
        rows = [r for r in rows if r.instance.project.code == code]
        assert rows, f"no open {lane} task for {code}"
        return rows[0]


def test_login_is_rate_limited_per_user_and_address(client):
    pages = Pages(client)
    for _ in range(5):
        assert pages.post("/login", {"username": "window1", "password": "wrong"}).status_code == 401
    locked = pages.post("/login", {"username": "window1", "password": "Demo@2026"})
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)
    other_address = pages.post("/login", {"username": "window1", "password": "Demo@2026"},
                               environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other_address.status_code == 302


def test_forms_need_csrf_and_cookies_are_hardened(platform, client):
    assert client.post("/login", data={"username": "window1", "password": "Demo@2026"}).status_code == 400
    response = Pages(client).post("/login", {"username": "window1", "password": "Demo@2026"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    secure = dataclasses.replace(platform.settings, SECURE_COOKIES=True, TESTING=False,
                                 SECRET_KEY="a-long-random-key-for-this-test-only")
    app = create_app(secure, platform=platform)
    response = Pages(app.test_client()).post("/login", {"username": "window1", "password": "Demo@2026"})
    assert "Secure" in response.headers["Set-Cookie"]


def test_enterprise_registration_checks_the_credit_code(client):
    pages = Pages(client)
    form = {"enterprise_name": "海南蓝海置业有限公司", "credit_code": "91350100M000100Y44", "display_name": "李明",
            "username": "lanhai", "password": "Lanhai2026", "password_confirm": "Lanhai2026"}
    bad = pages.post("/register", form)
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert re.search(r'data-field="credit_code">.*?校验码错误', body, re.S)
    good = pages.post("/register", {**form, "credit_code": "91350100M000100Y43"})
    assert good.status_code == 302 and good.headers["Location"].endswith("/portal/")
    assert "海南蓝海置业有限公司" in pages.text("/portal/")
    assert pages.post("/register", {**form, "username": "lanhai2"}).status_code == 422  # code taken


def test_applicant_declares_applies_uploads_and_withdraws(platform, client):
    pages = Pages(client, "applicant1")
    code = declare(pages)
    assert code in pages.text(f"/portal/projects/{code}")
    form_page = pages.text(f"/portal/projects/{code}/stages/initiation")
    assert "立项用地规划许可阶段申请表" in form_page and 'name="contact_phone"' in form_page
    assert "授权委托书及受托人身份证件" in form_page  # the stage's materials checklist

    upload = pages.post(f"/portal/projects/{code}/materials",
                        {"name": "授权委托书及受托人身份证件", "file": (io.BytesIO(PDF), "../委托书 .pdf")},
                        content_type="multipart/form-data")
    assert upload.status_code == 302
    wrong = pages.post(f"/portal/projects/{code}/materials",
                       {"name": "项目申请报告", "file": (io.BytesIO(b"MZ\x90\x00"), "virus.exe")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "只接受" in wrong.get_data(as_text=True)
    project_page = pages.text(f"/portal/projects/{code}")
    material_id = re.search(rf"/portal/projects/{code}/materials/(\d+)", project_page).group(1)
    assert "委托书 .pdf" in project_page and "../" not in project_page and "virus" not in project_page
    download = pages.get(f"/portal/projects/{code}/materials/{material_id}")
    assert download.status_code == 200 and download.data == PDF
    download.close()

    invalid = apply_stage1(pages, code, contact_phone="12345", total_investment="很多")
    assert invalid.status_code == 422
    body = invalid.get_data(as_text=True)
    assert re.search(r'data-field="contact_phone">.*?field-error.*?格式不正确', body, re.S)
    assert re.search(r'data-field="total_investment">.*?请输入数字', body, re.S)
    assert apply_stage1(pages, code).status_code == 302
    page = pages.text(f"/portal/projects/{code}")
    assert 'data-stage="initiation" data-status="running"' in page
    instance_id = re.search(rf"/portal/projects/{code}/applications/(\d+)/withdraw", page).group(1)
    assert pages.post(f"/portal/projects/{code}/applications/{instance_id}/withdraw").status_code == 302
    page = pages.text(f"/portal/projects/{code}")
    assert 'data-stage="initiation" data-status="open"' in page
    with transaction(platform.sessions, write=False) as session:
        assert not session.scalars(select(HumanTask).where(HumanTask.status == "open",
                                                           HumanTask.instance_id == int(instance_id))).all()
    assert apply_stage1(pages, code).status_code == 302  # filed again after the withdrawal


def test_officers_review_with_a_correction_round(platform, client, app):
    applicant = Pages(client, "applicant1")
    code = declare(applicant)
    apply_stage1(applicant, code)
    window = Pages(app.test_client(), "window1")
    inbox = window.text(f"/officer/?project={code}")
    accept = open_task(platform, code, "window")
    assert f'data-task="{accept.id}"' in inbox
    assert window.post("/officer/claim", {"task": str(accept.id)}).status_code == 302
    task_page = window.text(f"/officer/tasks/{accept.id}")
    assert "椰林湾综合楼项目" in task_page and "本人已签收" in task_page
    missing_opinion = window.post(f"/officer/tasks/{accept.id}", {"outcome": "reject"})
    assert missing_opinion.status_code == 422
    assert re.search(r'data-field="opinion">.*?此项必填', missing_opinion.get_data(as_text=True), re.S)
    assert window.post(f"/officer/tasks/{accept.id}", {"outcome": "accept"}).status_code == 302

    planning = Pages(app.test_client(), "planning_haikou")
    review = open_task(platform, code, "planning")
    assert "需补正材料" in planning.text(f"/officer/tasks/{review.id}")
    answer = {"outcome": "correct", "opinion": "请补充宗地图", "missing_materials": "宗地图"}
    assert planning.post(f"/officer/tasks/{review.id}", answer).status_code == 302
    correction = open_task(platform, code, "applicant")
    page = applicant.text(f"/portal/tasks/{correction.id}")
    assert "请补充宗地图" in page and "宗地图" in page
    supplement = {"materials": "宗地图", "note": "已补充"}
    assert applicant.post(f"/portal/tasks/{correction.id}", supplement).status_code == 302
    recheck = open_task(platform, code, "window")
    assert window.post(f"/officer/tasks/{recheck.id}", {"outcome": "complete"}).status_code == 302
    again = open_task(platform, code, "planning")
    assert planning.post(f"/officer/tasks/{again.id}", {"outcome": "approve", "result_number": "琼批2026-1",
                                                      "decision_date": "2026-12-01"}).status_code == 302
    progress = applicant.text(f"/portal/projects/{code}/progress")
    assert "自然资源和规划" in progress or "资源规划" in progress or "规划" in progress
    assert "补正开始" in progress or "审批通过" in progress
    with transaction(platform.sessions, write=False) as session:
        states = {h.state for h in session.scalars(select(ItemHandling).where(ItemHandling.project_code == code))}
    assert 11 in states


def test_applicants_and_officers_see_only_their_own(platform, client, app):
    applicant = Pages(client, "applicant1")
    code = declare(applicant)
    apply_stage1(applicant, code)
    with transaction(platform.sessions) as session:
        other = session.scalar(select(Enterprise).where(Enterprise.credit_code == "91350100M000100Y43"))
        if other is None:
            other = Enterprise(name="另一家公司", credit_code="91350100M000100Y43")
            session.add(other)
            session.flush()
        if session.scalar(select(User).where(User.username == "applicant_other")) is None:
            session.add(User(username="applicant_other", display_name="x", role="applicant",
                             enterprise_id=other.id, password_hash=hash_password("Other@2026", fast=True)))
    stranger = Pages(app.test_client(), "applicant_other", "Other@2026")
    for path in (f"/portal/projects/{code}", f"/portal/projects/{code}/progress",
                 f"/portal/projects/{code}/stages/initiation"):
        response = stranger.get(path)
        assert response.status_code == 404 and "页面不存在" in response.get_data(as_text=True)
    assert code not in stranger.text("/portal/")
    assert stranger.post(f"/portal/projects/{code}/materials", {"name": "x"}).status_code == 404

    accept = open_task(platform, code, "window")
    sanya = Pages(app.test_client(), "window_sanya")
    assert sanya.get(f"/officer/tasks/{accept.id}").status_code == 404
    assert sanya.post(f"/officer/tasks/{accept.id}", {"outcome": "accept"}).status_code == 404
    assert sanya.post(f"/officer/tasks/{accept.id}/claim").status_code == 404
    bulk = sanya.post("/officer/claim", {"task": str(accept.id)}, follow_redirects=True)
    assert "未能签收" in bulk.get_data(as_text=True)
    assert f'data-task="{accept.id}"' not in sanya.text("/officer/")
    with transaction(platform.sessions, write=False) as session:
        row = session.get(HumanTask, accept.id)
        assert row.status == "open" and row.assignee_id is None
    assert sanya.get("/portal/").status_code == 403
    assert stranger.get("/officer/").status_code == 403


def test_public_pages(platform, client):
    pages = Pages(client)
    home = pages.text("/")
    assert "建设工程规划许可证" in home or "施工许可" in home
    assert "建筑工程施工许可" in pages.text("/?q=" + "施工许可")
    item = platform.catalog.items[0]
    guide = pages.text(f"/public/items/{item.code}")
    assert item.name in guide and "受理条件" in guide and "申请材料" in guide
    assert pages.get("/public/items/NOPE").status_code == 404
    code = declare(Pages(client, "applicant1"))
    query = pages.text(f"/public/query?code={code}")
    assert code in query and "海南椰林建设发展有限公司" not in query
    qr = pages.get(f"/public/qr/{code}.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    missing = pages.get("/public/query?code=2024-460100-48-01-000000")
    assert missing.status_code == 404 and "未找到" in missing.get_data(as_text=True)


def test_errors_are_pages_for_people_and_json_for_the_api(client):
    page = client.get("/portal/nowhere")
    assert page.status_code in (302, 404)
    nowhere = client.get("/public/nowhere")
    assert nowhere.status_code == 404 and nowhere.mimetype == "text/html"
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"


def test_english_on_request_and_chinese_dates(client):
    pages = Pages(client)
    assert "事项清单" in pages.text("/") or "审批事项清单" in pages.text("/")
    pages.get("/lang/en?next=/")
    assert "Approval items" in pages.text("/")
    pages.get("/lang/zh")
    code = declare(Pages(client, "applicant1"))
    assert re.search(r"\d{4}年\d{1,2}月\d{1,2}日", pages.text(f"/portal/projects/{code}"))


def test_special_procedure_from_the_task_page(platform, client, app):
    applicant = Pages(client, "applicant1")
    code = declare(applicant)
    apply_stage1(applicant, code)
    window = Pages(app.test_client(), "window1")
    window.post(f"/officer/tasks/{open_task(platform, code, 'window').id}", {"outcome": "accept"})
    planning = Pages(app.test_client(), "planning_haikou")
    review = open_task(platform, code, "planning")
    assert "启动特别程序" in planning.text(f"/officer/tasks/{review.id}")
    bad = planning.post(f"/officer/tasks/{review.id}/special-procedures", {"kind": "hearing", "reason": ""},
                        follow_redirects=True)
    assert "未能启动特别程序" in bad.get_data(as_text=True)
    started = planning.post(f"/officer/tasks/{review.id}/special-procedures",
                            {"kind": "hearing", "reason": "涉及相邻权利人，组织听证", "expected_days": "5"},
                            follow_redirects=True)
    assert "特别程序已启动" in started.get_data(as_text=True)
    page = planning.text(f"/officer/tasks/{review.id}")
    procedure_id = re.search(rf"/officer/tasks/{review.id}/special-procedures/(\d+)/end", page).group(1)
    ended = planning.post(f"/officer/tasks/{review.id}/special-procedures/{procedure_id}/end", {"result": "听证完毕"},
                          follow_redirects=True)
    assert "特别程序已结束" in ended.get_data(as_text=True)
    sanya = Pages(app.test_client(), "planning_sanya")
    assert sanya.post(f"/officer/tasks/{review.id}/special-procedures",
                      {"kind": "hearing", "reason": "x", "expected_days": "5"}).status_code == 404

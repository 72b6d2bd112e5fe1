"""Issue 9, findings 4, 5 and 6: whose application it is, inputs that gave 500, the smaller holes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io

import pytest
from sqlalchemy import select

from app import create_app
from app.db import transaction
from app.models import Material, Project
from app.services.provisioning.demo import stage_application
from app.stages import BY_KEY
from app.text import clean_name
from tests.conftest import supply_materials

from .test_api import declare
from .webclient import Pages

PDF = b"%PDF-1.4\n%%EOF\n"
OTHER = {"enterprise_name": "海南仿冒建设有限公司", "credit_code": "91460100M000400Y4", "display_name": "钱",
         "username": "copycat", "password": "Copycat2026", "password_confirm": "Copycat2026"}


@pytest.fixture(autouse=True)
def uploads(platform, tmp_path, monkeypatch):
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))


def _other_enterprise(client, login):
    from engine.credit import credit_check_character
    code = OTHER["credit_code"] + credit_check_character(OTHER["credit_code"])
    client.post("/api/v1/enterprises", json={**OTHER, "credit_code": code})  # 201, or 422 once it exists
    return login("copycat", "Copycat2026"), code


def _stage_one(project_name="椰林湾综合楼项目"):
    class P:
        name = project_name
        investment_type = "ratification"
    return stage_application(BY_KEY["initiation"], P, dt.date.today())


# -- finding 4: whose application is it ---------------------------------------------------------

def test_another_enterprise_cannot_file_in_applicant1s_name(client, login):
    copycat, own_code = _other_enterprise(client, login)
    code = declare(copycat)["code"]
    data = _stage_one()  # applicant1's enterprise name and credit code
    refused = copycat.post(f"/projects/{code}/stages/initiation/applications", {"data": data})
    assert refused.status_code == 422, refused.get_json()
    assert set(refused.get_json()["error"]["fields"]) == {"applicant_name", "applicant_credit_code"}
    data.pop("applicant_name"), data.pop("applicant_credit_code")  # left out: taken from the record
    supply_materials(copycat.platform, code, "initiation", data, username="copycat")
    filed = copycat.post(f"/projects/{code}/stages/initiation/applications", {"data": data})
    assert filed.status_code == 201, filed.get_json()
    window = login("window1")
    task = [t for t in window.get(f"/tasks?project={code}").get_json()["tasks"]][0]
    detail = window.get(f"/tasks/{task['id']}").get_json()
    assert detail["application"]["applicant_credit_code"] == own_code
    assert detail["registered_enterprise"] == {"name": OTHER["enterprise_name"], "credit_code": own_code}


def test_the_stage_form_shows_the_enterprise_read_only_and_officers_see_the_registered_one(client, login, app):
    copycat, own_code = _other_enterprise(client, login)
    code = declare(copycat)["code"]
    pages = Pages(app.test_client(), "copycat", "Copycat2026")
    form = pages.text(f"/portal/projects/{code}/stages/initiation")
    assert own_code in form and "readonly" in form.split('name="applicant_credit_code"')[1].split(">")[0]
    data = _stage_one()
    data.pop("applicant_name"), data.pop("applicant_credit_code")
    supply_materials(copycat.platform, code, "initiation", data, username="copycat")
    assert copycat.post(f"/projects/{code}/stages/initiation/applications", {"data": data}).status_code == 201
    window = login("window1")
    task = window.get(f"/tasks?project={code}").get_json()["tasks"][0]
    page = Pages(app.test_client(), "window1").text(f"/officer/tasks/{task['id']}")
    assert 'id="registered-enterprise"' in page and OTHER["enterprise_name"] in page and own_code in page


# -- finding 5: inputs that gave 500 -----------------------------------------------------------

@pytest.mark.parametrize("path", ["/tasks/9223372036854775808", "/tasks/2147483648", "/auth/tokens/2147483648",
                                  "/tasks/99999999999999999999999999/claim",
                                  "/handlings/9223372036854775808", "/processes/9223372036854775808/activation",
                                  "/instances/18446744073709551616/migration-check?version=1"])
def test_integers_past_the_id_columns_are_a_clear_4xx(login, path):
    api = login("admin")
    response = api.post(path) if path.endswith("claim") else api.get(path)
    assert 400 <= response.status_code < 500 and response.get_json()["error"]["code"]


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("path", ["/projects", "/tasks/1/complete", "/auth/token"])
def test_json_nested_3000_levels_is_a_clear_400(login, path):
    api = login("applicant1")
    body = '{"data": ' + _nested(3000) + ', "name": ' + _nested(3000) + "}"
    response = api.client.post(f"/api/v1{path}", data=body, content_type="application/json", headers=api.headers)
    assert response.status_code == 400 and "nested" in response.get_json()["error"]["message"]


def test_lone_surrogates_are_a_clear_400(login, platform):
    api = login("applicant1")
    body = '{"name": "\\ud800项目", "division": "460100", "investment_type": "ratification"}'
    response = api.client.post("/api/v1/projects", data=body, content_type="application/json", headers=api.headers)
    assert response.status_code == 400 and "surrogate" in response.get_json()["error"]["message"]
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(Project).where(Project.name.like("%项目"))) is None


@pytest.mark.parametrize("target", ["/portal/%0d%0aSet-Cookie:%20x=1", "/%0a//evil.example", "/%0d%0a"])
def test_cr_lf_in_next_is_no_500(client, target):
    assert client.get(f"/lang/en?next={target}").status_code == 302
    response = Pages(client).post(f"/login?next={target}", {"username": "applicant1", "password": "Demo@2026"})
    assert response.status_code == 302 and "\n" not in response.headers["Location"]
    assert response.headers["Location"] == "/portal/"


def test_nul_in_a_form_field_is_a_clear_400(client):
    response = Pages(client).post("/login", {"username": "app\x00licant1", "password": "x"})
    assert response.status_code == 400


def test_names_lose_control_and_format_characters(login):
    assert clean_name("椰林\u202e湾\u200b综合楼\x00\t项目\u2066") == "椰林湾综合楼 项目"
    api = login("applicant1")
    project = declare(api, name="椰林\u202eevil\u200b综合楼\x07项目")
    assert project["name"] == "椰林evil综合楼项目"
    form = {"name": "项目\u202e申请报告\u200d", "file": (io.BytesIO(PDF), "报告\u202efdp.exe")}
    upload = api.post(f"/projects/{project['code']}/materials", data=form, content_type="multipart/form-data")
    assert upload.status_code == 201
    assert upload.get_json()["name"] == "项目申请报告"


# -- finding 6: the smaller ones ---------------------------------------------------------------

def test_a_window_declares_only_for_divisions_routed_to_its_unit(login):
    window = login("window1")  # 海口's window
    refused = window.post("/projects", {"name": "三亚的项目", "division": "460200", "investment_type": "filing",
                                        "enterprise_id": _enterprise_id(window)})
    assert refused.status_code == 422 and "division" in refused.get_json()["error"]["fields"]
    allowed = window.post("/projects", {"name": "海口的项目", "division": "460100", "investment_type": "filing",
                                        "enterprise_id": _enterprise_id(window)})
    assert allowed.status_code == 201, allowed.get_json()


def _enterprise_id(api) -> int:
    platform = api.client.application.extensions["platform"]
    from app.models import Enterprise
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(Enterprise.id).where(Enterprise.credit_code == "91460100MA5T00001L"))


@pytest.mark.parametrize("body", [
    {"division": "460200", "investment_type": "ratification"},  # the code says 460100
    {"division": "460100", "investment_type": "filing"},  # the code says type 02 (ratification)
])
def test_a_given_project_code_must_match_division_and_investment_type(login, body):
    import random

    from engine.codes import generate_project_code
    code = generate_project_code(2026, "460100", "48", "02", random.Random(9))
    response = login("applicant1").post("/projects", {"name": "带码项目", "code": code, **body})
    assert response.status_code == 422 and "code" in response.get_json()["error"]["fields"]


def test_the_qr_image_uses_the_canonical_address(client):
    code = "2026-460100-48-02-000017"
    response = client.get(f"/public/qr/{code}.svg", headers={"Host": "evil.example"})
    assert response.status_code == 200
    import segno
    expected = segno.make(f"http://127.0.0.1:8000/public/query?code={code}", error="m")
    out = io.BytesIO()
    expected.save(out, kind="svg", scale=4, border=2, dark="#1f5fa8")
    assert response.data == out.getvalue()


def test_security_headers_on_every_page(client, app):
    for path in ("/", "/login", "/api/v1/catalog/items", "/nowhere"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-eval" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"]
        assert headers["X-Frame-Options"] == "DENY"
    pages = Pages(client, "applicant1")
    assert pages.get("/portal/").headers["Cache-Control"] == "no-store"
    with client.get("/static/css/app.css") as static:
        assert "no-store" not in (static.headers.get("Cache-Control") or "")


def test_pages_have_no_inline_script(client, app):
    import re
    for username, path in (("applicant1", "/portal/"), ("window1", "/officer/")):
        page = Pages(app.test_client(), username).text(path)
        assert not re.search(r"\son[a-z]+=\"", page) and "javascript:" not in page
        assert not re.search(r"<script(?![^>]*(src=|type=\"application/json\"))", page)


def test_the_preview_keeps_its_own_framing_rules(login, app):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    form = {"name": "项目申请报告", "file": (io.BytesIO(PDF), "报告.html")}
    upload = applicant.post(f"/projects/{code}/materials", data=form, content_type="multipart/form-data")
    assert upload.status_code == 201
    from .test_api import apply
    assert apply(applicant, code).status_code == 201
    window = login("window1")
    task = window.get(f"/tasks?project={code}").get_json()["tasks"][0]
    pages = Pages(app.test_client(), "window1")
    platform = app.extensions["platform"]
    with transaction(platform.sessions, write=False) as session:
        material = session.scalar(select(Material).where(Material.name == "项目申请报告").order_by(Material.id.desc()))
    assert material.original_name == "报告.pdf"  # the detected type's extension, not the sender's
    preview = pages.get(f"/officer/tasks/{task['id']}/materials/{material.id}/preview")
    assert preview.status_code == 200
    assert preview.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in preview.headers["Content-Security-Policy"]
    preview.close()
    download = pages.get(f"/officer/tasks/{task['id']}/materials/{material.id}")
    download.close()
    assert "报告.pdf" in download.headers["Content-Disposition"] or "%E6%8A%A5%E5%91%8A.pdf" in \
        download.headers["Content-Disposition"]


def test_proxy_headers_are_trusted_only_when_configured(platform, client):
    for _ in range(platform.settings.LOGIN_MAX_FAILURES):
        client.post("/api/v1/auth/token", json={"username": "window1", "password": "bad"},
                    headers={"X-Forwarded-For": "10.66.0.1"})
    # without HN_TRUSTED_PROXIES the header is ignored: the failures count against the socket's address
    assert client.post("/api/v1/auth/token", json={"username": "window1", "password": "Demo@2026"},
                       headers={"X-Forwarded-For": "10.66.0.2"}).status_code == 429
    proxied = create_app(dataclasses.replace(platform.settings, TRUSTED_PROXIES=1), platform=platform).test_client()
    assert proxied.post("/api/v1/auth/token", json={"username": "window1", "password": "Demo@2026"},
                        headers={"X-Forwarded-For": "10.66.0.3"}).status_code == 200

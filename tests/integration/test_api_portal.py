"""The API twins of the pages: registration, materials, progress, withdrawal, bulk claim, light filter."""

import io

import pytest

from .test_api import apply, declare, first_task

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture(autouse=True)
def uploads(platform, tmp_path, monkeypatch):
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))


def test_register_enterprise_checks_the_code(client):
    body = {"enterprise_name": "海南南海建设有限公司", "credit_code": "911100001000079555", "display_name": "周",
            "username": "nanhai", "password": "Nanhai2026", "password_confirm": "Nanhai2026"}
    bad = client.post("/api/v1/enterprises", json=body)
    assert bad.status_code == 422 and "credit_code" in bad.get_json()["error"]["fields"]
    good = client.post("/api/v1/enterprises", json={**body, "credit_code": "911100001000079554"})
    assert good.status_code == 201 and good.get_json()["role"] == "applicant"


def test_materials_progress_and_withdrawal(login):
    api = login("applicant1")
    code = declare(api)["code"]
    form = {"name": "项目申请报告", "file": (io.BytesIO(PDF), "报告.pdf")}
    upload = api.post(f"/projects/{code}/materials", data=form, content_type="multipart/form-data")
    assert upload.status_code == 201 and upload.get_json()["size"] == len(PDF)
    assert upload.get_json()["sha256"] and upload.get_json()["content_type"] == "application/pdf"
    listed = api.get(f"/projects/{code}/materials").get_json()["materials"]
    assert [m["name"] for m in listed] == ["项目申请报告"]
    assert api.get("/projects").get_json()["total"] >= 1
    instance_id = apply(api, code).get_json()["instance_id"]
    progress = api.get(f"/projects/{code}/progress").get_json()
    running = [i for i in progress["instances"] if i["status"] == "running"]
    assert running and running[0]["marks"]["active"]
    assert api.post(f"/projects/{code}/applications/{instance_id}/withdraw").status_code == 200
    assert api.post(f"/projects/{code}/applications/{instance_id}/withdraw").status_code == 409
    stages = {s["key"]: s["status"] for s in api.get(f"/projects/{code}").get_json()["stages"]}
    assert stages["initiation"] == "open"


def test_bulk_claim_and_light_filter(login):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)
    window = login("window1")
    task = first_task(window, project=code)
    assert window.get(f"/tasks?project={code}&light=none").get_json()["total"] == 1
    assert window.get(f"/tasks?project={code}&light=red").get_json()["total"] == 0
    assert window.get("/tasks?light=purple").status_code == 422
    claimed = window.post("/tasks/claim", {"ids": [task["id"], 999999]}).get_json()
    assert claimed["claimed"] == [task["id"]] and "999999" in claimed["refused"]
    other = login("window_haikou").post("/tasks/claim", {"ids": [task["id"]]}).get_json()
    assert other["claimed"] == [] and str(task["id"]) in other["refused"]
    assert window.post("/tasks/claim", {"ids": "all"}).status_code == 422

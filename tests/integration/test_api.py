"""The JSON API contract of DESIGN.md, on SQLite and PostgreSQL."""

import datetime as dt

import pytest

from app.services.provisioning.demo import stage_application, task_answer
from app.stages import BY_KEY
from tests.conftest import supply_materials


def declare(api, **extra):
    body = {"name": "椰林湾综合楼项目", "division": "460100", "investment_type": "ratification", **extra}
    response = api.post("/projects", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def apply(api, code, stage_key="initiation"):
    class P:  # the fields stage_application reads
        name = "椰林湾综合楼项目"
        investment_type = "ratification"
    data = stage_application(BY_KEY[stage_key], P, dt.date.today())
    supply_materials(api.platform, code, stage_key, data)
    return api.post(f"/projects/{code}/stages/{stage_key}/applications", {"data": data})


def first_task(api, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    tasks = api.get(f"/tasks?{query}").get_json()["tasks"]
    assert tasks, "inbox is empty"
    return tasks[0]


def test_token_and_errors(client):
    bad = client.post("/api/v1/auth/token", json={"username": "window1", "password": "wrong"})
    assert bad.status_code == 401 and bad.get_json()["error"]["code"] == "unauthorized"
    missing = client.post("/api/v1/auth/token", data="not json", content_type="text/plain")
    assert missing.status_code == 400 and "error" in missing.get_json()
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_users_for_administrators_only(login):
    users = login("admin").get("/users")
    assert users.status_code == 200
    by_name = {u["username"]: u for u in users.get_json()["users"]}
    assert {"applicant1", "window1", "analyst1", "supervisor1", "admin", "planning_haikou"} <= set(by_name)
    assert by_name["planning_haikou"]["unit"] and by_name["planning_haikou"]["division"]
    assert login("window1").get("/users").status_code == 403


def test_project_lifecycle_through_the_api(login):
    applicant = login("applicant1")
    project = declare(applicant)
    code = project["code"]
    assert len(code) == 24
    stages = {s["key"]: s for s in project["stages"]}
    assert stages["initiation"]["status"] == "open" and stages["engineering"]["status"] == "locked"
    assert stages["initiation"]["schema"]["type"] == "object"

    assert apply(applicant, code, "engineering").status_code == 409  # stage order
    started = apply(applicant, code)
    assert started.status_code == 201, started.get_json()
    assert apply(applicant, code).status_code == 409  # already running

    window = login("window1")
    task = first_task(window, project=code)
    assert task["lane"] == "window" and task["project_code"] == code
    detail = window.get(f"/tasks/{task['id']}").get_json()
    assert detail["schema"]["properties"]["outcome"]
    assert detail["application"]["project_name"] == "椰林湾综合楼项目"

    done = window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "accept"}})
    assert done.status_code == 200, done.get_json()
    again = window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "accept"}})
    assert again.status_code == 409

    view = applicant.get(f"/projects/{code}").get_json()
    items = {i["item_code"]: i for i in view["items"]}
    assert {"S1-PROJ-RATIFY", "S1-LAND-PREREVIEW", "S1-EIA"} <= set(items)
    assert all(i["state"] == 8 and i["due_at"] for i in items.values())


def test_complete_validates_the_form(login):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)
    window = login("window1")
    task = first_task(window, project=code)
    bad = window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "reject"}})
    assert bad.status_code == 422
    assert "opinion" in bad.get_json()["error"]["fields"]
    nonsense = window.post(f"/tasks/{task['id']}/complete", {"data": "accept"})
    assert nonsense.status_code == 422
    # nothing was half-written: the task is still open and completable
    assert window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "accept"}}).status_code == 200


def test_claims_conflict(login):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)
    window = login("window1")
    task = first_task(window, project=code)
    other = login("window_haikou")
    assert other.post(f"/tasks/{task['id']}/claim").status_code == 200
    assert window.post(f"/tasks/{task['id']}/claim").status_code == 409
    assert window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "accept"}}).status_code == 409
    assert other.post(f"/tasks/{task['id']}/unclaim").status_code == 200
    assert window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "accept"}}).status_code == 200


def test_officers_see_only_their_units_tasks(login):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)
    window = login("window1")
    task = first_task(window, project=code)
    window.post(f"/tasks/{task['id']}/complete", {"data": {"outcome": "accept"}})
    sanya = login("planning_sanya")
    assert sanya.get(f"/tasks?project={code}").get_json()["total"] == 0
    haikou = login("planning_haikou")
    review = first_task(haikou, project=code)
    assert review["lane"] == "planning"
    assert sanya.get(f"/tasks/{review['id']}").status_code == 404
    forbidden = sanya.post(f"/tasks/{review['id']}/complete", {"data": {"outcome": "approve"}})
    assert forbidden.status_code in (403, 404)


def test_applicant_sees_only_own_projects(login, platform):
    code = declare(login("applicant1"))["code"]
    assert login("window1").get(f"/projects/{code}").status_code == 200
    from sqlalchemy import select

    from app.db import transaction
    from app.models import Enterprise, User
    from app.services.people.accounts import hash_password
    with transaction(platform.sessions) as session:
        other = Enterprise(name="另一家公司", credit_code="91460000MA5T99999B")
        session.add(other)
        session.flush()
        if session.scalar(select(User).where(User.username == "applicant_other")) is None:
            session.add(User(username="applicant_other", display_name="x", role="applicant",
                             enterprise_id=other.id, password_hash=hash_password("Other@2026")))
    assert login("applicant_other", "Other@2026").get(f"/projects/{code}").status_code == 404


@pytest.mark.parametrize("body,field", [
    ({"division": "460100", "investment_type": "ratification"}, "name"),
    ({"name": "项目", "division": "999999", "investment_type": "ratification"}, "division"),
    ({"name": "项目", "division": "460100", "investment_type": "lottery"}, "investment_type"),
    ({"name": "项目", "division": "460100", "investment_type": "filing", "flow_type": 11}, "flow_type"),
    ({"name": "项目", "division": "460100", "investment_type": "filing", "code": "2024-460100"}, "code"),
])
def test_project_input_errors(login, body, field):
    response = login("applicant1").post("/projects", body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["fields"]


def test_bad_paths_and_codes(login, client):
    api = login("applicant1")
    assert api.get("/projects/NOT-A-CODE").status_code == 404
    assert api.get("/projects/2024-460100-48-01-000000").status_code == 404
    assert api.get("/tasks/999999").status_code == 404
    assert api.get("/tasks?page=abc").status_code == 422
    assert api.post("/tasks/999999/complete", {"data": {}}).status_code == 404
    code = declare(api)["code"]
    assert api.post(f"/projects/{code}/stages/nope/applications", {"data": {}}).status_code == 404
    invalid = api.post(f"/projects/{code}/stages/initiation/applications", {"data": {"project_name": 1}})
    assert invalid.status_code == 422 and "project_name" in invalid.get_json()["error"]["fields"]
    assert client.get("/api/v1/nowhere").status_code == 404


def test_reference_endpoints(login, client):
    api = login("admin")
    assert api.get("/units").status_code == 200
    assert len(api.get("/units").get_json()["units"]) == 331
    processes = api.get("/processes").get_json()["deployments"]
    assert processes[0]["active"] and "stages/initiation.bpmn" in processes[0]["files"]
    assert client.get("/api/v1/catalog/items").get_json()["total"] >= 67
    assert api.get("/stats").status_code == 200


def test_public_progress_by_code(login, client):
    code = declare(login("applicant1"))["code"]
    public = client.get(f"/api/v1/public/projects/{code}")
    assert public.status_code == 200
    body = public.get_json()
    assert body["code"] == code and "enterprise_id" not in body
    assert "schema" not in body["stages"][0]


def test_window_task_answer_is_valid_for_every_form(platform):
    for form in platform.forms.names():
        if "application" in form:
            continue
        platform.forms.validate(form, task_answer(form, 1, dt.date(2026, 3, 2)))


def test_officers_see_only_projects_their_unit_works_on(login):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    assert login("window1").get(f"/projects/{code}").status_code == 200  # its window
    assert login("planning_sanya").get(f"/projects/{code}").status_code == 404
    apply(applicant, code)
    window = login("window1")
    window.post(f"/tasks/{first_task(window, project=code)['id']}/complete", {"data": {"outcome": "accept"}})
    assert login("environment_haikou").get(f"/projects/{code}").status_code == 200  # a review is routed there
    assert login("environment_sanya").get(f"/projects/{code}").status_code == 404
    assert login("analyst1").get(f"/projects/{code}").status_code == 200

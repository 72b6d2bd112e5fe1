"""Issue 9, finding 3: every role × every action × own/other unit, as one table.

A supervisor sees its unit's work and answers the 督办 tasks routed to it, and nothing else;
administrators see every task but act for no department; analysts design flows.  "Own" is the
role's own city (海口) and, for the applicant, its own enterprise's project; "other" is 三亚,
whose project another enterprise filed.  Flow, routing and calendar actions know no unit, so
both columns hold the same answer there.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask, User
from app.services.provisioning.demo import stage_application, task_answer
from app.stages import BY_KEY
from tests.conftest import supply_materials

ROLES = {"applicant": "applicant1", "window": "window1", "officer": "planning_haikou",
         "supervisor": "supervisor1", "analyst": "analyst1", "admin": "admin"}
ACTIONS = ("see", "claim", "complete", "special", "deploy", "route", "calendar", "migrate")

#: (role, action) → allowed in (own, other).  The task actions work on the role's lane: the
#: window's acceptance task, the department's planning review, the supervisors' 督办 task;
#: applicants, analysts and administrators are tried on the planning review.
MATRIX = {
    ("applicant", "see"): (False, False), ("applicant", "claim"): (False, False),
    ("applicant", "complete"): (False, False), ("applicant", "special"): (False, False),
    ("window", "see"): (True, False), ("window", "claim"): (True, False),
    ("window", "complete"): (True, False), ("window", "special"): (False, False),
    ("officer", "see"): (True, False), ("officer", "claim"): (True, False),
    ("officer", "complete"): (True, False), ("officer", "special"): (True, False),
    # a supervisor sees its unit's review but may not take it, answer it or stop its clock ...
    ("supervisor", "see"): (True, False), ("supervisor", "claim"): (False, False),
    ("supervisor", "complete"): (False, False), ("supervisor", "special"): (False, False),
    # ... while the 督办 task routed to its unit is its own to take (see below: "supervision")
    ("supervision", "see"): (True, False), ("supervision", "claim"): (True, False),
    ("analyst", "see"): (False, False), ("analyst", "claim"): (False, False),
    ("analyst", "complete"): (False, False), ("analyst", "special"): (False, False),
    ("admin", "see"): (True, True), ("admin", "claim"): (False, False),
    ("admin", "complete"): (False, False), ("admin", "special"): (False, False),
}
for _role in ROLES:
    MATRIX[(_role, "deploy")] = MATRIX[(_role, "migrate")] = (_role in ("analyst", "admin"),) * 2
    MATRIX[(_role, "route")] = MATRIX[(_role, "calendar")] = (_role == "admin",) * 2


OTHER_CODE = "91460200M000300Y4J"


def _declare(api, division: str) -> str:
    response = api.post("/projects", {"name": "权限矩阵测试项目", "division": division,
                                      "investment_type": "ratification"})
    assert response.status_code == 201, response.get_json()
    code = response.get_json()["code"]

    class P:
        name = "权限矩阵测试项目"
        investment_type = "ratification"
    data = stage_application(BY_KEY["initiation"], P, dt.date.today())
    if api.enterprise:
        data.update(applicant_name=api.enterprise["name"], applicant_credit_code=api.enterprise["credit_code"])
    supply_materials(api.platform, code, "initiation", data)
    filed = api.post(f"/projects/{code}/stages/initiation/applications", {"data": data})
    assert filed.status_code == 201, filed.get_json()
    return code


def _open(platform, code: str, lane: str) -> HumanTask:
    with transaction(platform.sessions, write=False) as session:
        rows = [r for r in session.scalars(select(HumanTask).where(HumanTask.status == "open",
                                                                   HumanTask.lane_role == lane))
                if r.instance.project.code == code]
        assert rows, (code, lane)
        return rows[0]


def _accept(login, window: str, code: str, platform) -> None:
    api = login(window)
    row = _open(platform, code, "window")
    assert api.post(f"/tasks/{row.id}/complete", {"data": {"outcome": "accept"}}).status_code == 200


@pytest.fixture
def world(platform, login, client):
    """Four applications: to be accepted and under planning review, in 海口 (applicant1) and 三亚 (another)."""
    applicant = login("applicant1")
    applicant.enterprise = {"name": "海南椰林建设发展有限公司", "credit_code": "91460100MA5T00001L"}
    with transaction(platform.sessions, write=False) as session:
        other_exists = session.scalar(select(User).where(User.username == "matrix_other"))
    if other_exists is None:
        registered = client.post("/api/v1/enterprises", json={
            "enterprise_name": "海南三亚湾置业有限公司", "credit_code": OTHER_CODE,
            "display_name": "赵敏", "username": "matrix_other", "password": "Matrix2026",
            "password_confirm": "Matrix2026"})
        assert registered.status_code in (201, 422), registered.get_json()
    other = login("matrix_other", "Matrix2026")
    other.enterprise = {"name": "海南三亚湾置业有限公司", "credit_code": OTHER_CODE}
    codes = {("window", "own"): _declare(applicant, "460100"), ("window", "other"): _declare(other, "460200"),
             ("review", "own"): _declare(applicant, "460100"), ("review", "other"): _declare(other, "460200")}
    _accept(login, "window1", codes[("review", "own")], platform)
    _accept(login, "window_sanya", codes[("review", "other")], platform)
    tasks = {("window", s): _open(platform, codes[("window", s)], "window") for s in ("own", "other")}
    tasks |= {("review", s): _open(platform, codes[("review", s)], "planning") for s in ("own", "other")}
    with transaction(platform.sessions) as session:  # a 督办 task, as the deadline timers open them
        for scope in ("own", "other"):
            review = session.get(HumanTask, tasks[("review", scope)].id)
            row = HumanTask(instance_id=review.instance_id, project_id=review.project_id,
                            task_id=f"supervise-{review.id}", spec_name="supervise_warning", title="督办：临近时限",
                            process_id=review.process_id, lane_role=review.lane_role, status="open",
                            created_at=review.created_at, unit_id=review.unit_id, audience="supervisor",
                            handling_id=review.handling_id, form="supervision.schema.json")
            session.add(row)
            session.flush()
            tasks[("supervision", scope)] = row
    return tasks


def _subject(role: str) -> str:
    return {"window": "window", "supervision": "supervision"}.get(role, "review")


def _try(login, platform, role: str, action: str, task: HumanTask) -> bool:
    """Whether the action went through (2xx, or a 4xx past the permission check)."""
    api = login(ROLES.get(role, "supervisor1"))
    if action == "see":
        return api.get(f"/tasks/{task.id}").status_code == 200
    if action == "claim":
        response = api.post(f"/tasks/{task.id}/claim")
        if response.status_code == 200:
            assert api.post(f"/tasks/{task.id}/unclaim").status_code == 200
        return response.status_code == 200
    if action == "complete":
        answer = task_answer(task.form, task.id, dt.date.today())
        response = api.post(f"/tasks/{task.id}/complete", {"data": answer})
        assert response.status_code in (200, 403, 404), (role, response.get_json())
        return response.status_code == 200
    if action == "special":
        response = api.post(f"/handlings/{task.handling_id}/special-procedures",
                            {"kind": "expert_review", "reason": "专家评审", "expected_days": 5})
        assert response.status_code in (201, 403, 404), (role, response.get_json())
        if response.status_code == 201:
            end = api.post(f"/handlings/{task.handling_id}/special-procedures/{response.get_json()['id']}/end", {})
            assert end.status_code == 200
        return response.status_code == 201
    denied = {"deploy": lambda: api.client.post("/api/v1/processes", headers=api.headers, data={}),
              # bodies that are not objects: refused after the role check, so nothing is changed
              "route": lambda: api.client.put("/api/v1/routing/planning/460100", headers=api.headers, json=[]),
              "calendar": lambda: api.client.put("/api/v1/calendar/years/2031", headers=api.headers, json=[]),
              "migrate": lambda: api.post("/processes/1/migrations", {"instances": []})}[action]()
    assert denied.status_code in (400, 403, 404, 422), (role, action, denied.status_code)
    return denied.status_code != 403  # refused for its content, not for who asked


def test_every_role_does_only_what_its_name_says(world, login, platform):
    """The whole matrix; completing comes last, as it moves the flows on."""
    found, wrong = {}, []
    order = sorted(MATRIX, key=lambda k: (ACTIONS.index(k[1]) if k[1] != "complete" else 99,
                                          MATRIX[k] != (False, False)))
    for role, action in order:
        for n, scope in enumerate(("own", "other")):
            if action in ("see", "claim", "complete", "special"):
                task = world[(_subject(role), scope)]
                got = _try(login, platform, role, action, task)
            else:
                got = found.get((role, action, "own")) if scope == "other" else _try(login, platform, role,
                                                                                    action, None)
            found[(role, action, scope)] = got
            if got != MATRIX[(role, action)][n]:
                wrong.append(f"{role} {action} {scope}: {'allowed' if got else 'refused'}")
    assert wrong == []


def test_a_supervisor_on_the_task_page_sees_but_cannot_act(world, app, client):
    from .webclient import Pages
    pages = Pages(client, "supervisor1")
    review = world[("review", "own")]
    page = pages.text(f"/officer/tasks/{review.id}")
    assert 'id="task-form"' not in page and "启动特别程序" not in page and "officer.claim" not in page
    refused = pages.post(f"/officer/tasks/{review.id}", {"outcome": "approve", "result_number": "琼批2026-1",
                                                         "decision_date": "2026-12-01"})
    assert refused.status_code == 302
    assert "办理失败" in pages.text(f"/officer/tasks/{review.id}")
    special = pages.post(f"/officer/tasks/{review.id}/special-procedures",
                         {"kind": "expert_review", "reason": "x", "expected_days": "5"})
    assert special.status_code in (302, 403)
    with transaction(app.extensions["platform"].sessions, write=False) as session:
        row = session.get(HumanTask, review.id)
        assert row.status == "open" and row.handling.paused_at is None and row.assignee_id is None

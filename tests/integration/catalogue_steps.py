"""Steps shared by the catalogue tests: declare, apply, and work every open task as its officer."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from app.services.provisioning.demo import stage_application, task_answer
from app.stages import BY_KEY
from tests.conftest import supply_materials

USERS = {"window": "window1", "applicant": "applicant1"}


class Officers:
    """One logged-in API client per demo account, made on first use."""

    def __init__(self, login):
        self.login, self.clients = login, {}

    def __call__(self, username: str):
        if username not in self.clients:
            self.clients[username] = self.login(username)
        return self.clients[username]

    def for_lane(self, lane: str):
        """The Haikou account that works a lane."""
        return self(USERS.get(lane, f"{lane}_haikou"))


def declare(officers, **extra) -> str:
    body = {"name": "椰林湾综合楼项目", "division": "460100", "investment_type": "ratification", **extra}
    response = officers("applicant1").post("/projects", body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["code"]


def application(stage_key: str, flow_type: int = 3, **extra) -> dict:
    project = SimpleNamespace(name="椰林湾综合楼项目", investment_type="ratification", flow_type=flow_type)
    return {**stage_application(BY_KEY[stage_key], project, dt.date.today()), **extra}


def apply(officers, code: str, stage_key: str, data: dict, status: int = 201):
    supply_materials(officers("applicant1").platform, code, stage_key, data)
    response = officers("applicant1").post(f"/projects/{code}/stages/{stage_key}/applications", {"data": data})
    assert response.status_code == status, response.get_json()
    return response.get_json()


def open_tasks(officers, code: str) -> list[dict]:
    """Every open task of a project (with level-2/3 codes: of its project), as the administrator sees them."""
    base = code[:24]
    return officers("admin").get(f"/tasks?project={base}&page_size=500").get_json()["tasks"]


def complete(officers, task: dict, data: dict | None = None, outcome: str | None = None, status: int = 200):
    data = data or task_answer(task["form"], task["id"], dt.date.today(), outcome)
    response = officers.for_lane(task["lane"]).post(f"/tasks/{task['id']}/complete", {"data": data})
    assert response.status_code == status, (task["task"], response.get_json())
    return response.get_json()


def work(officers, code: str, until=lambda task: False, answers: dict | None = None, steps: int = 120):
    """Complete open tasks oldest first until none is left or ``until(task)``; return the stopping task."""
    for _ in range(steps):
        tasks = open_tasks(officers, code)
        if not tasks:
            return None
        task = sorted(tasks, key=lambda t: t["id"])[0]
        if until(task):
            return task
        complete(officers, task, (answers or {}).get(task["task"]))
    raise AssertionError("tasks kept coming")


def project(officers, code: str) -> dict:
    response = officers("applicant1").get(f"/projects/{code}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def stages(view: dict) -> dict[str, dict]:
    return {s["key"]: s for s in view["stages"]}


def items(view: dict) -> dict[str, dict]:
    return {i["item_code"]: i for i in view["items"]}

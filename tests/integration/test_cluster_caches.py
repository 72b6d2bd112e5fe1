"""Two nodes, one PostgreSQL: what one node changes, the other honours within the stated bound.

Each node is its own gunicorn process with its own caches.  The bound is the
settings' ``HN_CACHE_CHECK_SECONDS`` (verified tokens, routes) and
``HN_HOLIDAY_CHECK_SECONDS`` (the holiday calendar); here both are 0.5 s, and
each check is made once the bound has passed: before it, the other node may
still answer from its cache, after it, it must not.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import _build, _drop_schema, _postgres_schema_url, supply_materials

from .nodes import Node

pytestmark = pytest.mark.postgres
BOUND = 0.5


@pytest.fixture(scope="module")
def nodes():
    url, schema = _postgres_schema_url()
    platform = _build(url)
    settings = dict(CACHE_CHECK_SECONDS=BOUND, HOLIDAY_CHECK_SECONDS=BOUND, PASSWORD_HASH_FAST=1)
    first, second = Node(url, **settings), Node(url, **settings)
    first.platform = second.platform = platform  # the tests' own access to the same database
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()
        platform.sessions.kw["bind"].dispose()
        _drop_schema(schema)


def after_bound() -> None:
    time.sleep(BOUND + 0.3)  # the bound, and a little for the request that makes the change to commit


def test_a_token_revoked_on_one_node_is_refused_by_the_other(nodes):
    first, second = nodes
    token = first.token("window1")
    status, me = second.call("GET", "/me", token=token)  # the second node verifies it and caches it
    assert status == 200, me
    status, listed = first.call("GET", "/auth/tokens", token=token)
    current = next(t["id"] for t in listed["tokens"] if t["current"])
    assert first.call("DELETE", f"/auth/tokens/{current}", token=token)[0] == 204
    assert first.call("GET", "/me", token=token)[0] == 401  # the revoking node: at once
    after_bound()
    assert second.call("GET", "/me", token=token)[0] == 401


def file_stage_one(node: Node, applicant: str) -> dict:
    """A new project in 海口 and its stage-1 application, filed on ``node``; its first open task."""
    import datetime as dt

    from app.services.provisioning import demo
    from app.stages import BY_KEY

    class Project:
        name, investment_type = "两节点项目", "ratification"
    status, project = node.call("POST", "/projects", {"name": Project.name, "division": "460100",
                                                      "investment_type": Project.investment_type}, token=applicant)
    assert status == 201, project
    data = demo.stage_application(BY_KEY["initiation"], Project, dt.date.today())
    supply_materials(node.platform, project["code"], "initiation", data)  # a filing lacking one is refused
    status, body = node.call("POST", f"/projects/{project['code']}/stages/initiation/applications",
                             {"data": data}, token=applicant)
    assert status == 201, body
    status, inbox = node.call("GET", f"/tasks?project={project['code']}", token=node.token("admin"))
    return inbox["tasks"][0]


def test_a_route_changed_on_one_node_routes_new_tasks_on_the_other(nodes):
    first, second = nodes
    admin = first.token("admin")
    applicant = second.token("applicant1")
    routes = first.call("GET", "/routing?role=window", token=admin)[1]["routes"]
    here = next(r for r in routes if r["division"] == "460100")
    elsewhere = next(r for r in routes if r["unit"]["code"] != here["unit"]["code"])
    warm = file_stage_one(second, applicant)  # the second node resolves (and caches) the window's route
    assert warm["unit_id"] == here["unit"]["id"]
    status, changed = first.call("PUT", "/routing/window/460100", {"unit_code": elsewhere["unit"]["code"]},
                                 token=admin)
    assert status == 200, changed
    try:
        after_bound()
        moved = file_stage_one(second, applicant)
        assert moved["unit_id"] == elsewhere["unit"]["id"]
    finally:
        first.call("PUT", "/routing/window/460100", {"unit_code": here["unit"]["code"]}, token=admin)


def test_a_year_declared_on_one_node_is_known_to_the_other(nodes):
    first, second = nodes
    officer = second.token("planning_haikou")
    due = "/calendar/due?start=2026-12-28T10:00:00%2B08:00&value=10&unit=working_days"
    before = second.call("GET", due, token=officer)
    entry = {"declared": True, "notice": "国办发明电〔2026〕Y号（两节点测试）",
             "holidays": ["2027-01-01", "2027-01-04", "2027-01-05", "2027-02-05", "2027-02-08", "2027-02-09",
                          "2027-02-10", "2027-02-11", "2027-02-12"], "workdays": ["2027-02-14"]}
    status, body = first.call("PUT", "/calendar/years/2027", entry, token=first.token("admin"))
    assert status == 200, body
    after_bound()
    status, after = second.call("GET", due, token=officer)
    assert status == 200, after
    # 2027-01-04 and -05 are now holidays: ten working days from 2026-12-28 end two days later than before
    assert after["due_local"].startswith("2027-01-14"), (before, after)
    status, year = second.call("GET", "/calendar/years/2027", token=officer)
    assert year["entry"]["notice"].endswith("（两节点测试）")

"""Versions at run time: running instances keep theirs, new ones take the active one; migration and undo."""

import json

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, InstanceMigration, ProcessInstance, User
from app.services.people import projects
from app.services.provisioning import demo
from app.services.workflow import instances, migrations
from app.stages import BY_KEY
from tests.conftest import supply_materials
from tests.fixtures.bpmn_variants import CONSTRUCTION, NEW_REVIEW, add_parallel_review, shipped, split_and_join_ids
from tests.integration.test_deployments import activate, analyst, deploy_live, upload  # noqa: F401  (fixture and helpers)

NEW_TASK = NEW_REVIEW["task_id"]


def start_construction(platform) -> int:
    """A project with a running construction stage (stage order is not the subject here)."""
    stage = BY_KEY["construction"]
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": "版本迁移测试项目", "division": "460100", "investment_type": "ratification"})
        instance = instances.start_stage(session, platform, project, stage, demo.stage_application(
            stage, project, platform.now().date()), applicant)
        return instance.id


def open_specs(platform, instance_id) -> set[str]:
    with transaction(platform.sessions, write=False) as session:
        return {row.spec_name for row in demo.open_tasks(session, instance_id)}


def complete(platform, instance_id, spec_name, outcome=None) -> None:
    with transaction(platform.sessions) as session:
        row = next(r for r in demo.open_tasks(session, instance_id) if r.spec_name == spec_name)
        actor = demo.actor_for(session, row)
        instances.complete_task(session, platform, row.id,
                                demo.task_answer(row.form, row.id, platform.now().date(), outcome), actor)


def spec_key(platform, instance_id) -> str:
    with transaction(platform.sessions, write=False) as session:
        return session.get(ProcessInstance, instance_id).spec_key


@pytest.fixture
def deploy_v2(analyst):  # noqa: F811
    """Deploys construction with a parallel sewage review by the water department; returns its version."""
    def deploy() -> int:
        return deploy_live(analyst, {CONSTRUCTION: add_parallel_review(shipped())}, "增加雷电防护审查")
    return deploy


def test_running_instances_keep_their_version_and_new_ones_take_the_active(platform, analyst):  # noqa: F811
    old = start_construction(platform)
    assert spec_key(platform, old) == "stage_construction@1"
    version = upload(analyst, {CONSTRUCTION: add_parallel_review(shipped())}).get_json()["version"]
    draft = start_construction(platform)
    assert spec_key(platform, draft) == "stage_construction@1"  # a saved version is a draft until activated
    activate(analyst, version)
    new = start_construction(platform)
    assert spec_key(platform, new) == f"stage_construction@{version}"
    for instance_id in (old, new):
        complete(platform, instance_id, "window_accept")
    reviews = open_specs(platform, old)
    assert reviews and NEW_TASK not in reviews and spec_key(platform, old) == "stage_construction@1"
    assert open_specs(platform, new) == reviews | {NEW_TASK}


def test_a_waiting_instance_migrates_and_takes_the_new_path(platform, analyst, deploy_v2):  # noqa: F811
    waiting = start_construction(platform)
    v2 = deploy_v2()
    response = analyst.get(f"/instances/{waiting}/migration-check?version={v2}")
    assert response.get_json() == {"instance": waiting, "version": v2, "allowed": True, "reasons": []}
    result = analyst.post(f"/processes/{v2}/migrations", {"instances": [waiting]}).get_json()["results"]
    assert result[0]["migrated"] and result[0]["spec_key"] == f"stage_construction@{v2}"
    assert spec_key(platform, waiting) == f"stage_construction@{v2}"
    assert open_specs(platform, waiting) == {"window_accept"}
    complete(platform, waiting, "window_accept")
    assert NEW_TASK in open_specs(platform, waiting)
    with transaction(platform.sessions, write=False) as session:
        record = session.get(InstanceMigration, result[0]["migration"])
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "instance_migrated")).one()
        actor = session.get(User, event.actor_id)
    assert (record.from_spec_key, record.to_spec_key, record.actor_name) == (
        "stage_construction@1", f"stage_construction@{v2}", "analyst1")
    assert json.loads(event.detail)["from"] == "stage_construction@1" and actor.username == "analyst1"
    assert event.instance_id == waiting and event.at is not None


def test_an_instance_past_a_changed_element_is_refused_with_the_reason(platform, analyst, deploy_v2):  # noqa: F811
    reviewing = start_construction(platform)
    complete(platform, reviewing, "window_accept")
    v2 = deploy_v2()
    check = analyst.get(f"/instances/{reviewing}/migration-check?version={v2}").get_json()
    assert not check["allowed"] and any(split_and_join_ids()[0] in r for r in check["reasons"])
    result = analyst.post(f"/processes/{v2}/migrations", {"instances": [reviewing]}).get_json()["results"]
    assert result == [{"instance": reviewing, "migrated": False, "reasons": check["reasons"]}]
    assert spec_key(platform, reviewing) == "stage_construction@1"
    assert NEW_TASK not in open_specs(platform, reviewing)
    with transaction(platform.sessions, write=False) as session:
        assert session.scalars(select(InstanceMigration)).all() == []


def test_bad_migration_requests(platform, analyst, deploy_v2):  # noqa: F811
    waiting = start_construction(platform)
    v2 = deploy_v2()
    assert analyst.post(f"/processes/{v2}/migrations", {"instances": "all"}).status_code == 422
    assert analyst.post(f"/processes/{v2}/migrations", {"instances": []}).status_code == 422
    assert analyst.get(f"/instances/{waiting}/migration-check").status_code == 422
    assert analyst.get(f"/instances/{waiting}/migration-check?version=9999").status_code == 404
    results = analyst.post("/processes/1/migrations", {"instances": [waiting, 987654]}).get_json()["results"]
    assert [r["migrated"] for r in results] == [False, False]
    assert "already runs on version 1" in results[0]["reasons"][0] and "987654" in results[1]["reasons"][0]


def test_undo_restores_the_previous_version_until_the_instance_moves_on(platform, analyst, deploy_v2):  # noqa: F811
    first, second = start_construction(platform), start_construction(platform)
    v2 = deploy_v2()
    with transaction(platform.sessions) as session:
        user = session.scalar(select(User).where(User.username == "analyst1"))
        undo_me = migrations.migrate_instance(session, platform, first, v2, user).id
        moved_on = migrations.migrate_instance(session, platform, second, v2, user).id
    undone = analyst.post(f"/migrations/{undo_me}/undo")
    assert undone.status_code == 200, undone.get_json()
    assert undone.get_json()["undone_by"] == "analyst1"
    assert spec_key(platform, first) == "stage_construction@1"
    complete(platform, first, "window_accept")
    assert NEW_TASK not in open_specs(platform, first)
    assert analyst.post(f"/migrations/{undo_me}/undo").status_code == 409  # already undone

    complete(platform, second, "window_accept")  # the instance moves on
    refused = analyst.post(f"/migrations/{moved_on}/undo")
    assert refused.status_code == 409 and "moved on" in refused.get_json()["error"]["message"]
    assert spec_key(platform, second) == f"stage_construction@{v2}"
    assert NEW_TASK in open_specs(platform, second)
    listing = analyst.get(f"/migrations?instance={first}").get_json()["migrations"]
    assert [m["id"] for m in listing] == [undo_me] and listing[0]["undone_at"]


def test_done_when_a_new_department_review_is_deployed_and_a_waiting_instance_migrated(platform, login, analyst):  # noqa: F811,E501
    """Stage 3 gets a parallel review by the meteorology department, deployed through the API."""
    applicant, window = login("applicant1"), login("window1")
    code = applicant.post("/projects", {"name": "椰林湾综合楼项目", "division": "460100",
                                        "investment_type": "ratification"}).get_json()["code"]
    with transaction(platform.sessions, write=False) as session:
        applicant_id = session.scalar(select(User.id).where(User.username == "applicant1"))
    scope = lambda: transaction(platform.sessions)  # noqa: E731
    for key in ("initiation", "engineering"):
        assert demo.drive_stage(scope, platform, code, BY_KEY[key], applicant_id, say=lambda _: None) == "approved"
    data = demo.stage_application(BY_KEY["construction"], None, platform.now().date())
    supply_materials(platform, code, "construction", data)
    running = applicant.post(f"/projects/{code}/stages/construction/applications", {"data": data})
    assert running.status_code == 201, running.get_json()
    waiting = start_construction(platform)  # another project, also waiting at the window

    version = deploy_live(analyst, {CONSTRUCTION: add_parallel_review(shipped())}, "施工许可增加雷电防护并联审查")
    fresh = start_construction(platform)

    tasks = window.get(f"/tasks?project={code}").get_json()["tasks"]
    assert window.post(f"/tasks/{tasks[0]['id']}/complete", {"data": {"outcome": "accept"}}).status_code == 200
    with transaction(platform.sessions, write=False) as session:
        running_id = session.scalar(select(ProcessInstance.id).where(
            ProcessInstance.stage_key == "construction", ProcessInstance.project.has(code=code)))
    assert spec_key(platform, running_id) == "stage_construction@1"
    assert open_specs(platform, running_id) and NEW_TASK not in open_specs(platform, running_id)  # the old path

    complete(platform, fresh, "window_accept")
    assert NEW_TASK in open_specs(platform, fresh)  # new: the new path
    moved = analyst.post(f"/processes/{version}/migrations", {"instances": [waiting]}).get_json()["results"]
    assert moved[0]["migrated"], moved
    complete(platform, waiting, "window_accept")
    assert NEW_TASK in open_specs(platform, waiting)
    inbox = login(f"{NEW_REVIEW['role']}_haikou").get("/tasks").get_json()["tasks"]
    assert [t["title"] for t in inbox].count(NEW_REVIEW["name"]) == 2  # the fresh and the migrated instance

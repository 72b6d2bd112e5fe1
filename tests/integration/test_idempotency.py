"""Idempotency-Key: the same key returns the first answer and never applies twice."""

import datetime as dt
import io
import threading

import pytest
from flask import Response, g
from sqlalchemy import func, select, update

from app import idempotency
from app.db import transaction
from app.models import AuditEvent, IdempotencyKey, ProcessInstance, Project, User
from app.services.provisioning.demo import task_answer
from app.web import unit_of_work
from tests.conftest import supply_materials

from .test_api import apply, declare, first_task

PDF = b"%PDF-1.4\n%%EOF\n"


def post(api, path, body=None, key=None, **kw):
    headers = dict(api.headers)
    if key is not None:
        headers[idempotency.HEADER] = key
    return api.client.post(f"/api/v1{path}", headers=headers, json=body, **kw)


def completions(platform, task_title) -> int:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.kind == "task_completed", AuditEvent.detail.contains(task_title)))


def test_a_retried_completion_returns_the_first_answer_and_applies_once(login, platform):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)
    window = login("window1")
    task = first_task(window, project=code)
    body = {"data": task_answer(task["form"], task["id"], dt.date.today())}
    first = post(window, f"/tasks/{task['id']}/complete", body, key="complete-1")
    again = post(window, f"/tasks/{task['id']}/complete", body, key="complete-1")
    assert first.status_code == 200 and again.status_code == 200
    assert again.get_json() == first.get_json() and again.headers[idempotency.REPLAYED] == "true"
    assert idempotency.REPLAYED not in first.headers
    assert completions(platform, task["title"]) == 1
    without_key = post(window, f"/tasks/{task['id']}/complete", body)
    assert without_key.status_code == 409  # a plain retry is refused as already done


def test_the_same_key_for_another_request_is_refused(login):
    applicant = login("applicant1")
    first = post(applicant, "/projects", {"name": "甲项目", "division": "460100", "investment_type": "ratification"},
                 key="k")
    other = post(applicant, "/projects", {"name": "乙项目", "division": "460100", "investment_type": "ratification"},
                 key="k")
    assert first.status_code == 201
    assert other.status_code == 422 and idempotency.HEADER in other.get_json()["error"]["fields"]
    assert post(applicant, "/projects", {}, key="x" * 201).status_code == 422


def test_keys_are_per_user(login, platform):
    from app.models import User
    with transaction(platform.sessions, write=False) as session:
        enterprise_id = session.scalar(select(User.enterprise_id).where(User.username == "applicant1"))
    body = {"name": "甲项目", "division": "460100", "investment_type": "ratification"}
    one = post(login("applicant1"), "/projects", body, key="shared")
    two = post(login("window1"), "/projects", {**body, "enterprise_id": enterprise_id}, key="shared")
    assert one.status_code == two.status_code == 201
    assert one.get_json()["code"] != two.get_json()["code"]


def test_an_application_and_an_upload_apply_once(login, platform, tmp_path, monkeypatch):
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    first = apply_with_key(applicant, code, "apply-1")
    again = apply_with_key(applicant, code, "apply-1")
    assert first.status_code == again.status_code == 201 and first.get_json() == again.get_json()
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.project_id.in_(select(ProcessInstance.project_id).where(
                ProcessInstance.id == first.get_json()["instance_id"])))) == 1
    uploads = [post(applicant, f"/projects/{code}/materials", key="upload-1", content_type="multipart/form-data",
                    data={"name": "项目申请报告", "file": (io.BytesIO(PDF), "报告.pdf")}) for _ in range(2)]
    assert [u.status_code for u in uploads] == [201, 201] and uploads[0].get_json() == uploads[1].get_json()
    assert uploads[1].headers[idempotency.REPLAYED] == "true"


def apply_with_key(api, code, key):
    from app.services.provisioning.demo import stage_application
    from app.stages import BY_KEY

    class P:
        name = "椰林湾综合楼项目"
        investment_type = "ratification"
    data = stage_application(BY_KEY["initiation"], P, dt.date.today())
    supply_materials(api.platform, code, "initiation", data)
    return post(api, f"/projects/{code}/stages/initiation/applications", {"data": data}, key=key)


def test_a_failed_request_keeps_nothing_and_may_be_retried(login, platform):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    bad = post(applicant, f"/projects/{code}/stages/initiation/applications", {"data": {}}, key="retry-me")
    assert bad.status_code == 422 and idempotency.REPLAYED not in bad.headers
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
    good = apply_with_key(applicant, code, "retry-me")  # the corrected request applies under the same key
    assert good.status_code == 201 and idempotency.REPLAYED not in good.headers
    assert apply_with_key(applicant, code, "retry-me").headers[idempotency.REPLAYED] == "true"


def test_keys_expire_after_their_lifetime(login, platform):
    applicant = login("applicant1")
    body = {"name": "甲项目", "division": "460100", "investment_type": "ratification"}
    first = post(applicant, "/projects", body, key="old")
    assert post(applicant, "/projects", body, key="old").get_json() == first.get_json()
    with transaction(platform.sessions) as session:
        session.execute(update(IdempotencyKey).values(created_at=platform.now() - dt.timedelta(hours=25)))
    later = post(applicant, "/projects", body, key="old")
    assert later.status_code == 201 and later.get_json()["code"] != first.get_json()["code"]
    with transaction(platform.sessions) as session:
        session.execute(update(IdempotencyKey).values(created_at=platform.now() - dt.timedelta(hours=25)))
        assert idempotency.purge(session, platform) == 1
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0


def test_an_answer_lost_after_the_commit_is_reported_as_applied(login, platform):
    applicant = login("applicant1")
    body = {"name": "甲项目", "division": "460100", "investment_type": "ratification"}
    assert post(applicant, "/projects", body, key="lost").status_code == 201
    with transaction(platform.sessions) as session:  # as if the process died between commit and record
        session.execute(update(IdempotencyKey).values(status_code=None, body=None))
    retry = post(applicant, "/projects", body, key="lost")
    assert retry.status_code == 409 and retry.get_json()["error"]["code"] == "already_applied"


def test_concurrent_requests_with_one_key_apply_once(login, platform, app):
    if platform.sessions.kw["bind"].dialect.name != "postgresql":
        pytest.skip("concurrent writers: the PostgreSQL run covers it (SQLite serialises writers)")
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)
    window = login("window1")
    task = first_task(window, project=code)
    body = {"data": task_answer(task["form"], task["id"], dt.date.today())}
    answers, barrier = [], threading.Barrier(3)

    def worker():
        client = app.test_client()
        barrier.wait()
        answers.append(client.post(f"/api/v1/tasks/{task['id']}/complete", json=body,
                                   headers={**window.headers, idempotency.HEADER: "race"}))

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert len({a.get_data() for a in answers}) == 1
    assert completions(platform, task["title"]) == 1


def test_the_change_commits_only_with_its_recorded_answer(login, platform, monkeypatch):
    """A process that dies after the view but before the answer is written keeps nothing: a retry applies."""
    applicant = login("applicant1")
    body = {"name": "甲项目", "division": "460100", "investment_type": "ratification"}

    def dies_before_recording(_platform, response):
        idempotency.release()  # what the death of the process does to its open transaction
        return response

    monkeypatch.setattr(idempotency, "finish", dies_before_recording)
    lost = post(applicant, "/projects", body, key="dies")
    assert lost.status_code == 201  # the view answered, but nobody will ever read it
    monkeypatch.undo()
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
        assert session.scalar(select(func.count()).select_from(Project).where(
            Project.code == lost.get_json()["code"])) == 0
    retry = post(applicant, "/projects", body, key="dies")
    assert retry.status_code == 201 and idempotency.REPLAYED not in retry.headers
    assert post(applicant, "/projects", body, key="dies").get_json() == retry.get_json()


def test_a_later_unit_of_the_request_runs_inside_the_held_transaction(login, platform, app):
    """Read-your-writes inside one request, and an error in a later unit keeps the claiming unit's change."""
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    by_code = select(Project).where(Project.code == code)
    with transaction(platform.sessions, write=False) as session:
        user_id = session.scalar(select(User.id).where(User.username == "applicant1"))
    with app.test_request_context("/api/v1/x", method="POST"):
        g.idempotency = idempotency.Pending(user_id, "k", "f")
        with unit_of_work() as session:
            session.scalar(by_code).name = "改名后"
        assert idempotency.held() is session
        with transaction(platform.sessions, write=False) as other:  # not committed yet
            assert other.scalar(by_code).name != "改名后"
        with unit_of_work(write=False) as inner:
            assert inner is session and inner.scalar(by_code).name == "改名后"
        with pytest.raises(RuntimeError), unit_of_work() as inner:
            inner.scalar(by_code).investment_type = "filing"
            inner.flush()
            raise RuntimeError("a later unit fails")
        idempotency.finish(platform, Response("{}", status=200, content_type="application/json"))
        assert idempotency.held() is None
    with transaction(platform.sessions, write=False) as session:
        project = session.scalar(by_code)
        assert project.name == "改名后" and project.investment_type == "ratification"
        assert session.get(IdempotencyKey, (user_id, "k")).status_code == 200

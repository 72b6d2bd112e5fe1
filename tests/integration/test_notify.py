"""Notifications: the message centre, the outbox by e-mail (a real local SMTP server) and SMS, once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask, Notification, OutboxMessage, User
from app.scheduler import OutboxWorker
from app.services.notify import messages
from app.services.people import projects
from app.services.provisioning import demo
from app.services.workflow import instances
from app.stages import BY_KEY
from tests.conftest import FrozenClock
from tests.fixtures.mail import RecordingGateway, SmtpServer, free_port

from .webclient import Pages


@pytest.fixture
def clock(platform, monkeypatch):
    """The platform's clock frozen at a known instant for this test."""
    frozen = FrozenClock(dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.UTC))
    monkeypatch.setattr(platform, "clock", frozen)
    return frozen


@pytest.fixture
def smtp(platform, monkeypatch):
    """A listening SMTP server the platform's settings point at."""
    with SmtpServer() as server:
        monkeypatch.setattr(platform.settings, "SMTP_HOST", "127.0.0.1")
        monkeypatch.setattr(platform.settings, "SMTP_PORT", server.port)
        yield server


def user(platform, username: str) -> User:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(User).where(User.username == username))


def set_contact(platform, username: str, email: str = "", phone: str = "", sms_on: bool = False) -> None:
    with transaction(platform.sessions) as session:
        messages.set_contact(session, session.scalar(select(User).where(User.username == username)),
                             email, phone, True, sms_on)


def file_stage_one(platform) -> tuple[str, int]:
    """Declare a project as applicant1 and file its stage-1 application; return (code, instance id)."""
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": "椰林湾综合楼项目", "division": "460100", "investment_type": "ratification"})
        data = demo.stage_application(BY_KEY["initiation"], project, dt.date(2026, 3, 2))
        demo.supply_materials(session, platform, applicant, project, BY_KEY["initiation"], data)
        instance = projects.apply_for_stage(session, platform, applicant, project.code, "initiation", data)
        return project.code, instance.id


def notes_of(platform, username: str) -> list[Notification]:
    with transaction(platform.sessions, write=False) as session:
        who = session.scalar(select(User).where(User.username == username))
        return list(session.scalars(select(Notification).where(Notification.user_id == who.id)
                                    .order_by(Notification.id)))


def complete(platform, task: HumanTask, username: str, answer: dict) -> None:
    with transaction(platform.sessions) as session:
        actor = session.scalar(select(User).where(User.username == username))
        instances.complete_task(session, platform, task.id, answer, actor)


def open_task(platform, instance_id: int, lane: str | None = None) -> HumanTask:
    with transaction(platform.sessions, write=False) as session:
        rows = demo.open_tasks(session, instance_id)
        return next(r for r in rows if lane is None or r.lane_role == lane)


def test_a_new_task_is_in_the_message_centre_and_mailed_exactly_once(platform, client, smtp, clock):
    set_contact(platform, "window1", email="window1@example.org")
    code, _ = file_stage_one(platform)
    notes = notes_of(platform, "window1")
    assert [n.kind for n in notes] == ["task"] and notes[0].project_code == code
    pages = Pages(client, "window1")
    page = pages.text("/messages/")
    assert "新的待办" in page and 'id="unread-count"' in page
    worker = OutboxWorker(platform)
    assert worker.tick() == {"sent": 1, "failed": 0}
    assert worker.tick() == {"sent": 0, "failed": 0}
    assert OutboxWorker(platform).tick() == {"sent": 0, "failed": 0}  # another scheduler finds nothing either
    assert len(smtp.mailbox.messages) == 1
    mail = smtp.mailbox.messages[0]
    assert mail["to"] == ["window1@example.org"] and "新的待办" in mail["subject"]
    assert code in mail["body"] and "/messages/" in mail["body"]
    # opening it marks it read and leads to the task
    response = pages.get(f"/messages/{notes[0].id}")
    assert response.status_code == 302 and f"/officer/tasks/{notes[0].task_id}" in response.headers["Location"]
    assert 'id="unread-count"' not in pages.text("/messages/")


def test_delivery_is_retried_with_backoff_and_then_sent_once(platform, clock, monkeypatch):
    port = free_port()  # nobody listens yet
    monkeypatch.setattr(platform.settings, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(platform.settings, "SMTP_PORT", port)
    monkeypatch.setattr(platform.settings, "SMTP_TIMEOUT_SECONDS", 2.0)
    set_contact(platform, "window1", email="window1@example.org")
    file_stage_one(platform)
    worker = OutboxWorker(platform)
    assert worker.tick() == {"sent": 0, "failed": 1}
    with transaction(platform.sessions, write=False) as session:
        row = session.scalar(select(OutboxMessage))
        assert (row.status, row.attempts) == ("pending", 1) and row.last_error
        assert row.next_attempt_at == clock.now + dt.timedelta(seconds=platform.settings.NOTIFY_RETRY_SECONDS)
    assert worker.tick() == {"sent": 0, "failed": 0}  # not due yet
    clock.advance(seconds=platform.settings.NOTIFY_RETRY_SECONDS)
    with SmtpServer(port) as server:
        assert worker.tick() == {"sent": 1, "failed": 0}
        clock.advance(hours=1)
        assert worker.tick() == {"sent": 0, "failed": 0}
    assert len(server.mailbox.messages) == 1
    with transaction(platform.sessions, write=False) as session:
        row = session.scalar(select(OutboxMessage))
        assert (row.status, row.attempts) == ("sent", 2) and row.sent_at == clock.now - dt.timedelta(hours=1)


def test_a_message_that_keeps_failing_is_given_up(platform, clock, monkeypatch):
    monkeypatch.setattr(platform.settings, "SMTP_HOST", "127.0.0.1")
    monkeypatch.setattr(platform.settings, "SMTP_PORT", free_port())
    monkeypatch.setattr(platform.settings, "NOTIFY_MAX_ATTEMPTS", 2)
    set_contact(platform, "window1", email="window1@example.org")
    file_stage_one(platform)
    worker = OutboxWorker(platform)
    assert worker.tick()["failed"] == 1
    clock.advance(hours=1)
    assert worker.tick()["failed"] == 1
    clock.advance(days=1)
    assert worker.tick() == {"sent": 0, "failed": 0}
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(OutboxMessage.status)) == "failed"


def test_a_claim_keeps_other_schedulers_off_until_it_expires(platform, smtp, clock):
    set_contact(platform, "window1", email="window1@example.org")
    file_stage_one(platform)
    from app.services.notify import outbox
    with transaction(platform.sessions) as session:
        claimed = outbox.claim_due(session, "crashed", clock.now, 60, 10)
    assert len(claimed) == 1
    other = OutboxWorker(platform)
    assert other.tick() == {"sent": 0, "failed": 0}  # held by the first scheduler
    clock.advance(seconds=61)  # the first one never came back
    assert other.tick() == {"sent": 1, "failed": 0}
    with transaction(platform.sessions) as session:  # the crashed owner cannot record over it
        assert outbox.mark_sent(session, claimed[0].id, "crashed", clock.now) is False
    assert len(smtp.mailbox.messages) == 1


def test_sms_goes_to_the_configured_gateway(platform, clock, monkeypatch):
    monkeypatch.setattr(platform.settings, "SMS_GATEWAY", "tests.fixtures.mail:RecordingGateway")
    RecordingGateway.sent.clear()
    set_contact(platform, "window1", phone="13800000001", sms_on=True)
    file_stage_one(platform)
    assert OutboxWorker(platform).tick() == {"sent": 1, "failed": 0}
    assert len(RecordingGateway.sent) == 1 and RecordingGateway.sent[0][0] == "13800000001"
    assert "新的待办" in RecordingGateway.sent[0][1]


def test_correction_and_result_reach_the_applicant(platform, clock):
    code, instance_id = file_stage_one(platform)
    complete(platform, open_task(platform, instance_id, "window"), "window1", {"outcome": "accept", "opinion": "受理"})
    reviews = [r for r in demo_open(platform, instance_id) if r.lane_role not in ("window", "applicant")]
    first = reviews[0]
    with transaction(platform.sessions, write=False) as session:
        officer = demo.actor_for(session, first)
    complete(platform, first, officer.username, {"outcome": "correct", "opinion": "请补正用地红线图"})
    kinds = [n.kind for n in notes_of(platform, "applicant1")]
    assert kinds == ["correction"]
    officers_told = {n.user_id for r in reviews for n in notes_for_task(platform, r.id)}
    assert officer.id in officers_told  # the department's officer was told of its review task


def demo_open(platform, instance_id):
    with transaction(platform.sessions, write=False) as session:
        return demo.open_tasks(session, instance_id)


def notes_for_task(platform, task_id):
    with transaction(platform.sessions, write=False) as session:
        return list(session.scalars(select(Notification).where(Notification.task_id == task_id)))


def test_the_result_of_a_stage_is_told_to_the_applicant(platform, clock):
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": "椰林湾综合楼项目", "division": "460100", "investment_type": "ratification"})
        code, applicant_id = project.code, applicant.id
    demo.drive_stage(lambda: transaction(platform.sessions), platform, code, BY_KEY["initiation"], applicant_id,
                     say=lambda _: None)
    results = [n for n in notes_of(platform, "applicant1") if n.kind == "result"]
    assert len(results) == 1 and results[0].project_code == code
    with transaction(platform.sessions, write=False) as session:
        shown = messages.one(session, session.get(User, applicant_id), results[0].id, english=True)
    assert "finished: approved" in shown.title and shown.link == f"/portal/projects/{code}"


def test_the_message_centre_in_both_languages_and_only_ones_own(platform, client, clock):
    file_stage_one(platform)
    window = Pages(client, "window1")
    note = notes_of(platform, "window1")[0]
    assert "消息中心" in window.text("/messages/")
    window.get("/lang/en")
    page = window.text("/messages/")
    assert "Messages" in page and "New task:" in page and "Mark all read" in page
    bad = window.post("/messages/contact", {"email": "not-an-address", "phone": "123"})
    assert bad.status_code == 422 and "valid e-mail" in bad.get_data(as_text=True)
    assert window.post("/messages/contact", {"email": "w@example.org", "email_on": "on"}).status_code == 302
    window.post("/messages/read")
    assert window.text("/messages/?unread=1").count('class="message') == 0
    other = Pages(client.application.test_client(), "planning_haikou")
    assert other.get(f"/messages/{note.id}").status_code == 404
    assert Pages(client.application.test_client()).get("/messages/").status_code == 302  # login first


def test_the_api_lists_and_marks_notifications(platform, login, clock):
    file_stage_one(platform)
    window = login("window1")
    listed = window.get("/notifications").get_json()
    assert listed["unread"] == 1 and listed["notifications"][0]["kind"] == "task"
    assert window.get("/notifications?lang=en").get_json()["notifications"][0]["title"].startswith("New task")
    note_id = listed["notifications"][0]["id"]
    assert login("planning_haikou").post(f"/notifications/{note_id}/read").status_code == 404
    assert window.post(f"/notifications/{note_id}/read").get_json() == {"unread": 0}

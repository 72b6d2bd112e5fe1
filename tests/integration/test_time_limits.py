"""限时办结: the item clock through the services and the API, on SQLite and PostgreSQL.

Every instant comes from a settable platform clock; the dates are checked to the
working day around Spring Festival 2024 (10-17 Feb off, Sunday 18 Feb worked) and
National Day 2025 (1-8 Oct off, Sunday 28 Sep and Saturday 11 Oct worked).
"""

import datetime as dt
import json

import pytest
from sqlalchemy import delete, func, select

from app import create_app
from app.db import transaction
from app.errors import Conflict, InvalidInput
from app.models import AuditEvent, CalendarYear, HumanTask, ItemHandling, SupervisionNotice, User
from app.scheduler import TimeLimitWorker, TimerWorker
from app.services.timelimits import escalations
from app.services.workflow import instances
from engine.calendar import LOCAL_TZ, CalendarError
from tests.conftest import Api
from tests.fixtures import time_limits as tl

env = pytest.fixture(scope="module")(tl.module_platform)


@pytest.fixture
def p(platform, env):
    """The time-limit platform; depending on ``platform`` clears the rows after each test."""
    return env


@pytest.fixture
def login(p):
    client = create_app(p.settings, platform=p).test_client()
    return lambda username: Api(client, username)


def start_review(p, key, *clock_args):
    p.clock.set(*clock_args)
    return tl.start(p, p.fixture_version, f"time_limit_review_{key}")[0]


def handling_of(p, instance_id) -> ItemHandling:
    with transaction(p.sessions, write=False) as session:
        handling = session.scalar(select(ItemHandling).where(ItemHandling.instance_id == instance_id))
        handling.events  # noqa: B018 - load them before the session closes
        return handling


def open_task(p, instance_id, spec_name) -> HumanTask:
    with transaction(p.sessions, write=False) as session:
        return session.scalar(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                      HumanTask.spec_name == spec_name,
                                                      HumanTask.status == "open"))


def complete(p, instance_id, spec_name, username, data):
    row = open_task(p, instance_id, spec_name)
    assert row is not None, f"{spec_name} is not open"
    with transaction(p.sessions) as session:
        user = session.scalar(select(User).where(User.username == username))
        instances.complete_task(session, p, row.id, data, user)


def local(value):
    return value.astimezone(LOCAL_TZ)


def end_of(y, m, d):
    return dt.datetime.combine(dt.date(y, m, d), dt.time.max, LOCAL_TZ)


def day_start(y, m, d):
    return dt.datetime(y, m, d, tzinfo=LOCAL_TZ)


REVIEW_APPROVE = {"outcome": "approve", "opinion": "同意", "result_number": "琼批2026-1", "decision_date": "2026-12-01"}
REVIEW_CORRECT = {"outcome": "correct", "opinion": "请补正用地红线图"}
SUPPLEMENT = {"materials": ["用地红线图"], "note": "已补正"}


def test_due_dates_at_acceptance_per_unit_over_spring_festival(p):
    expected = {"resume": (end_of(2024, 2, 27), day_start(2024, 2, 22)),  # 10 working days; 18 Feb worked
                "hours": (dt.datetime(2024, 2, 8, 10, tzinfo=LOCAL_TZ), dt.datetime(2024, 2, 8, 2, tzinfo=LOCAL_TZ)),
                "immediate": (end_of(2024, 2, 7), None),
                "calendar": (end_of(2024, 3, 8), day_start(2024, 2, 27))}  # 30 calendar days, leap year
    for key, (due, warn) in expected.items():
        instance_id = start_review(p, key, 2024, 2, 7, 10)
        handling = handling_of(p, instance_id)
        assert local(handling.due_at) == due, key
        assert (local(handling.warn_at) if handling.warn_at else None) == warn, key
        assert [e.state for e in handling.events] == [8]
        assert handling.limit_unit == {"resume": "working_days", "hours": "hours", "immediate": "immediate",
                                       "calendar": "calendar_days"}[key]
        assert open_task(p, instance_id, "review").due_at == handling.due_at  # the inbox sorts by it


def test_correction_pauses_and_resumes_over_national_day(p, login):
    instance_id = start_review(p, "resume", 2025, 9, 26, 16)
    assert local(handling_of(p, instance_id).due_at) == end_of(2025, 10, 16)  # 28,29,30,9,10,11,13..16
    p.clock.set(2025, 9, 30, 15)
    complete(p, instance_id, "review", "planning_haikou", REVIEW_CORRECT)
    paused = handling_of(p, instance_id)
    assert paused.state == 6 and paused.pause_kind == "correction" and local(paused.paused_at) == p.clock.now
    p.clock.set(2025, 10, 20, 9)  # past the old due date while paused: not red, the clock stands still
    project = login("applicant1").get(f"/projects/{paused.project_code}").get_json()
    assert [(i["light"], i["paused"], i["overdue"]) for i in project["items"]] == [("green", True, False)]
    p.clock.set(2025, 10, 9, 10)
    complete(p, instance_id, "supplement", "applicant1", SUPPLEMENT)
    resumed = handling_of(p, instance_id)
    assert [e.state for e in resumed.events] == [8, 6, 7, 8]
    assert resumed.paused_working_days == 1 and resumed.paused_at is None  # only 9 Oct was paused
    assert local(resumed.due_at) == end_of(2025, 10, 17)
    assert open_task(p, instance_id, "review").due_at == resumed.due_at
    complete(p, instance_id, "review", "planning_haikou", REVIEW_APPROVE)
    done = handling_of(p, instance_id)
    assert done.state == 11 and done.finished_at == p.clock.now
    assert [(e.state, local(e.at)) for e in done.events][-2:] == [(8, p.clock.now), (11, p.clock.now)]


def test_correction_restarts_the_clock_where_the_item_says_so(p):
    instance_id = start_review(p, "restart", 2024, 2, 7, 10)
    assert local(handling_of(p, instance_id).due_at) == end_of(2024, 2, 20)  # 5 days: 8, 9, 18, 19, 20
    p.clock.set(2024, 2, 8, 15)
    complete(p, instance_id, "review", "planning_haikou", REVIEW_CORRECT)
    p.clock.set(2024, 2, 18, 10)  # the make-up Sunday
    complete(p, instance_id, "supplement", "applicant1", SUPPLEMENT)
    restarted = handling_of(p, instance_id)
    assert local(restarted.clock_started_at) == p.clock.now and restarted.paused_working_days == 0
    assert local(restarted.due_at) == end_of(2024, 2, 23)  # a fresh 5 days from 18 Feb
    assert "重新计算" in restarted.events[-2].opinion


def test_special_procedure_stops_the_clock_and_extends_the_due_date(p, login):
    instance_id = start_review(p, "resume", 2024, 3, 4, 9)
    handling = handling_of(p, instance_id)
    assert local(handling.due_at) == end_of(2024, 3, 18) and local(handling.warn_at) == day_start(2024, 3, 13)
    assert local(tl.instance(p, instance_id).next_timer_at) == day_start(2024, 3, 13)  # deadline_warning(...)
    officer, path = login("planning_haikou"), f"/handlings/{handling.id}/special-procedures"
    bad = officer.post(path, {"kind": "séance", "reason": "", "expected_days": 0, "extra": 1})
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["fields"]) == {"kind", "reason", "expected_days", "extra"}
    assert login("planning_sanya").post(path, {"kind": "hearing", "reason": "听证", "expected_days": 3}
                                        ).status_code == 403
    assert login("applicant1").post(path, {"kind": "hearing", "reason": "听证", "expected_days": 3}
                                    ).status_code == 403
    started = officer.post(path, {"kind": "expert_review", "reason": "组织专家评审用地方案", "expected_days": 5})
    assert started.status_code == 201, started.get_json()
    procedure = started.get_json()
    assert officer.post(path, {"kind": "hearing", "reason": "听证", "expected_days": 3}).status_code == 409
    with pytest.raises(Conflict):
        complete(p, instance_id, "review", "planning_haikou", REVIEW_APPROVE)
    stopped = handling_of(p, instance_id)
    assert stopped.state == 9 and stopped.pause_kind == "special"
    # deadline timers were re-timed with the expected length: warning 13 Mar + 5 working days
    assert local(tl.instance(p, instance_id).next_timer_at) == day_start(2024, 3, 20)
    p.clock.set(2024, 3, 8, 17)
    ended = officer.post(f"{path}/{procedure['id']}/end", {"result": "专家评审通过"})
    assert ended.status_code == 200 and ended.get_json()["paused_days"] == 4  # 5, 6, 7, 8 Mar
    assert officer.post(f"{path}/{procedure['id']}/end", {}).status_code == 409
    view = officer.get(f"/handlings/{handling.id}").get_json()
    assert [e["state"] for e in view["events"]] == [8, 9, 10]
    assert view["due_at"] == end_of(2024, 3, 22).astimezone(dt.UTC).isoformat()
    assert view["special_procedures"][0]["kind_name"] == "专家评审"
    assert local(tl.instance(p, instance_id).next_timer_at) == day_start(2024, 3, 19)
    assert login("planning_sanya").get(f"/handlings/{handling.id}").status_code == 404
    complete(p, instance_id, "review", "planning_haikou", REVIEW_APPROVE)
    assert handling_of(p, instance_id).state == 11


def test_lights_in_inbox_project_view_and_statistics(p, login):
    instance_id = start_review(p, "resume", 2024, 3, 4, 9)
    code = handling_of(p, instance_id).project_code
    officer, admin = login("planning_haikou"), login("admin")

    def seen(light):
        return [t["project_code"] for t in officer.get(f"/tasks?light={light}").get_json()["tasks"]]

    assert code in seen("green") and code not in seen("yellow")
    task = officer.get(f"/tasks?project={code}").get_json()["tasks"][0]
    assert task["light"] == "green" and task["handling_id"]
    assert admin.get("/stats").get_json()["lights"] == {"green": 1, "yellow": 0, "red": 0, "none": 0}
    p.clock.set(2024, 3, 13, 0)
    assert code in seen("yellow") and code not in seen("green")
    assert login("applicant1").get(f"/projects/{code}").get_json()["items"][0]["light"] == "yellow"
    p.clock.set(2024, 3, 19, 0)
    assert code in seen("red")
    stats = admin.get("/stats").get_json()
    assert stats["lights"]["red"] == 1 and stats["items_overdue"] == 1
    bad = officer.get("/tasks?light=purple")
    assert bad.status_code == 422 and "light" in bad.get_json()["error"]["fields"]


def test_the_time_limit_job_warns_and_escalates_once(p, login):
    instance_id = start_review(p, "resume", 2024, 3, 4, 9)
    worker = TimeLimitWorker(p)
    assert worker.tick() == {"warned": 0, "overdue": 0, "consented": 0}
    p.clock.set(2024, 3, 13, 9)
    assert worker.tick()["warned"] == 1
    assert worker.tick()["warned"] == 0
    p.clock.set(2024, 3, 19, 0)
    assert worker.tick()["overdue"] == 1
    assert worker.tick()["overdue"] == 0
    with transaction(p.sessions, write=False) as session:
        kinds = session.scalars(select(AuditEvent.kind).where(AuditEvent.kind.like("time_limit%"))).all()
        assert sorted(kinds) == ["time_limit_overdue", "time_limit_warning"]
        supervisor_unit = session.scalar(select(User.unit_id).where(User.username == "supervisor1"))
        assert set(session.scalars(select(SupervisionNotice.unit_id))) == {supervisor_unit}
    supervisor = login("supervisor1")
    inbox = supervisor.get("/supervision").get_json()
    assert [n["kind"] for n in inbox["notices"]] == ["overdue", "warning"]
    assert inbox["notices"][0]["light"] == "red"
    assert supervisor.post(f"/supervision/notices/{inbox['notices'][0]['id']}/acknowledge").status_code == 200
    assert [n["kind"] for n in supervisor.get("/supervision").get_json()["notices"]] == ["warning"]
    assert login("planning_haikou").get("/supervision").status_code == 403
    assert login("supervisor1").post("/supervision/notices/999999/acknowledge").status_code == 404
    assert handling_of(p, instance_id).escalated_at is not None


def test_silence_counts_as_consent_where_the_item_says_so(p):
    instance_id = start_review(p, "consent", 2024, 3, 4, 9)
    assert local(handling_of(p, instance_id).due_at) == end_of(2024, 3, 11)
    p.clock.set(2024, 3, 12, 9)
    assert TimeLimitWorker(p).tick() == {"warned": 0, "overdue": 1, "consented": 1}
    handling = handling_of(p, instance_id)
    assert handling.state == 11 and handling.finished_at == p.clock.now
    assert handling.events[-1].opinion == escalations.CONSENT_OPINION and handling.events[-1].actor_id is None
    assert tl.instance(p, instance_id).status == "completed"
    other = start_review(p, "resume", 2024, 3, 4, 9)  # an item without the flag is only escalated
    p.clock.set(2024, 3, 20, 9)
    assert TimeLimitWorker(p).tick()["consented"] == 0
    assert handling_of(p, other).finished_at is None


def test_supervision_tasks_from_deadline_timers(p, login):
    instance_id = start_review(p, "resume", 2024, 3, 4, 9)
    p.clock.set(2024, 3, 13, 0)
    assert TimerWorker(p).tick() == 1
    warning = open_task(p, instance_id, "supervise_warning")
    with transaction(p.sessions, write=False) as session:
        supervisor_unit = session.scalar(select(User.unit_id).where(User.username == "supervisor1"))
    assert warning.audience == "supervisor" and warning.unit_id == supervisor_unit
    assert warning.handling_id == handling_of(p, instance_id).id
    officer, supervisor = login("planning_haikou"), login("supervisor1")
    assert warning.id not in [t["id"] for t in officer.get("/tasks").get_json()["tasks"]]
    assert officer.get(f"/tasks/{warning.id}").status_code == 404
    listed = supervisor.get("/supervision").get_json()["tasks"]
    assert [(t["id"], t["light"]) for t in listed] == [(warning.id, "yellow")]
    done = supervisor.post(f"/tasks/{warning.id}/complete", {"data": {"outcome": "urged", "opinion": "已电话督促"}})
    assert done.status_code == 200, done.get_json()
    assert handling_of(p, instance_id).state == 8  # a supervision task leaves the item's state alone
    p.clock.set(2024, 3, 19, 0)
    assert TimerWorker(p).tick() == 1
    assert open_task(p, instance_id, "supervise_overdue") is not None
    complete(p, instance_id, "review", "planning_haikou", REVIEW_APPROVE)
    assert open_task(p, instance_id, "supervise_overdue") is None  # closed with its item
    assert tl.instance(p, instance_id).status == "completed"


@pytest.fixture
def undeclared_2027(p):
    """The shipped table without its provisional 2027 entry, restored afterwards."""
    original = p.calendar.path.read_bytes()
    table = json.loads(original)
    table["years"].pop("2027", None)
    p.calendar.path.write_text(json.dumps(table, ensure_ascii=False, indent=2), encoding="utf-8")
    p.calendar.reload()
    yield
    p.calendar.path.write_bytes(original)
    p.calendar.reload()


def test_a_year_the_calendar_does_not_know_is_named(p, undeclared_2027):
    with pytest.raises((InvalidInput, CalendarError), match="2027"):
        start_review(p, "resume", 2026, 12, 21, 10)


def test_administrators_declare_a_year(p, login, undeclared_2027):
    admin, officer = login("admin"), login("planning_haikou")
    original = (p.calendar.path).read_bytes()
    try:
        due = officer.get("/calendar/due?start=2026-12-28T10:00:00%2B08:00&value=10&unit=working_days")
        assert due.status_code == 422
        assert "2027" in due.get_json()["error"]["message"] and due.get_json()["error"]["fields"] == {"year": "2027"}
        entry = {"declared": True, "notice": "国办发明电〔2026〕X号（测试）",
                 "holidays": ["2027-01-01", "2027-02-05", "2027-02-08", "2027-02-09", "2027-02-10",
                              "2027-02-11", "2027-02-12"], "workdays": ["2027-02-14"]}
        put = admin.client.put("/api/v1/calendar/years/2027", json=entry, headers=admin.headers)
        assert put.status_code == 200, put.get_json()
        assert put.get_json()["covered"] and "2027-02-14" in put.get_json()["working_weekend_days"]
        assert officer.client.put("/api/v1/calendar/years/2027", json=entry,
                                  headers=officer.headers).status_code == 403
        bad = admin.client.put("/api/v1/calendar/years/2027", json={**entry, "workdays": ["2027-02-15"]},
                               headers=admin.headers)
        assert bad.status_code == 422 and "workdays" in bad.get_json()["error"]["fields"]
        due = officer.get("/calendar/due?start=2026-12-28T10:00:00%2B08:00&value=10&unit=working_days")
        assert due.status_code == 200 and due.get_json()["due_local"].startswith("2027-01-12")
        assert officer.get("/calendar/years/2027").get_json()["entry"]["notice"].endswith("（测试）")
        with transaction(p.sessions, write=False) as session:
            assert session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "calendar_year_set")) == 1
    finally:
        p.calendar.path.write_bytes(original)
        with transaction(p.sessions) as session:  # the edit went to the database's table: back to the file
            session.execute(delete(CalendarYear))
        p.calendar.reload()


def test_warnings_and_overdue_items_reach_the_message_centre(p, login):
    from app.models import Notification
    start_review(p, "resume", 2024, 3, 4, 9)
    worker = TimeLimitWorker(p)
    p.clock.set(2024, 3, 13, 9)
    assert worker.tick()["warned"] == 1
    p.clock.set(2024, 3, 19, 0)
    assert worker.tick()["overdue"] == 1
    with transaction(p.sessions, write=False) as session:
        names = {u.id: u.username for u in session.scalars(select(User))}
        told = sorted((names[n.user_id], n.kind) for n in session.scalars(select(Notification))
                      if n.kind in ("warning", "overdue"))
    assert ("supervisor1", "warning") in told and ("supervisor1", "overdue") in told
    assert ("planning_haikou", "warning") in told  # the officer working the item is warned too
    assert not [who for who, kind in told if kind == "overdue" and who != "supervisor1"]
    titles = [n["kind"] for n in login("supervisor1").get("/notifications").get_json()["notifications"]]
    assert titles[:2] == ["overdue", "warning"]

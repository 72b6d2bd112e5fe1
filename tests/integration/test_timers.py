"""BPMN timers fire through the scheduler: when the platform clock reaches them, once, after a crash too.

The scheduler's workers run here in-process against the real database (two of
them in two threads for the exactly-once case); the clock is the platform's
settable one, so nothing sleeps.
"""

import datetime as dt
import json
import threading

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, HumanTask, ProcessInstance
from app.scheduler import TimerWorker
from engine.calendar import LOCAL_TZ
from engine.catalog import CatalogError
from tests.fixtures import time_limits as tl

env = pytest.fixture(scope="module")(tl.module_platform)
DUE = dt.datetime(2024, 3, 4, 10, 0, tzinfo=LOCAL_TZ)


@pytest.fixture
def p(platform, env):
    """The time-limit platform; depending on ``platform`` clears the rows after each test."""
    env.clock.now = DUE - dt.timedelta(hours=1)
    yield env
    env.settings.SCHEDULER_BATCH = type(env.settings).SCHEDULER_BATCH


def start_intermediate(p, due=DUE) -> int:
    return tl.start(p, p.fixture_version, "timer_intermediate", {"due": due.isoformat()})[0]


def firings(p, instance_id) -> list[list[str]]:
    with transaction(p.sessions, write=False) as session:
        return [json.loads(d)["timers"] for d in session.scalars(select(AuditEvent.detail).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind == "timers_fired"))]


def tasks_of(p, instance_id) -> list[tuple[str, str]]:
    with transaction(p.sessions, write=False) as session:
        return sorted(tuple(row) for row in session.execute(select(HumanTask.spec_name, HumanTask.status).where(
            HumanTask.instance_id == instance_id)))


def test_an_intermediate_timer_fires_when_the_clock_reaches_it_and_only_then(p):
    instance_id = start_intermediate(p)
    assert tl.instance(p, instance_id).next_timer_at == DUE
    worker = TimerWorker(p)
    assert worker.tick() == 0
    p.clock.now = DUE - dt.timedelta(microseconds=1)
    assert worker.tick() == 0 and tasks_of(p, instance_id) == []
    p.clock.now = DUE
    assert worker.tick() == 1
    assert tasks_of(p, instance_id) == [("after_timer", "open")]
    assert firings(p, instance_id) == [["到期"]]
    row = tl.instance(p, instance_id)
    assert row.next_timer_at is None and row.timer_owner is None and row.timer_claim_expires is None
    p.clock.now = DUE + dt.timedelta(days=1)
    assert worker.tick() == 0 and firings(p, instance_id) == [["到期"]]


def test_boundary_timers_fire_through_the_scheduler(p):
    instance_id = tl.start(p, p.fixture_version, "timer_boundary")[0]
    start = p.clock.now
    worker = TimerWorker(p)
    p.clock.now = start + dt.timedelta(hours=2)
    assert worker.tick() == 1
    assert tasks_of(p, instance_id) == [("remind_window", "open"), ("wait_for_window", "open")]
    p.clock.now = start + dt.timedelta(days=3)
    assert worker.tick() == 1
    assert tasks_of(p, instance_id) == [("remind_window", "open"), ("wait_for_window", "cancelled")]
    assert firings(p, instance_id) == [["两小时提醒"], ["三日超时"]]


class RecordingWorker(TimerWorker):
    """A scheduler worker that also remembers which instances it fired."""

    def __init__(self, platform, owner):
        super().__init__(platform, owner)
        self.fired: list[int] = []

    def fire(self, instance_id):
        fired = super().fire(instance_id)
        if fired:
            self.fired.append(instance_id)
        return fired


def test_two_schedulers_fire_each_timer_exactly_once(p):
    ids = [start_intermediate(p) for _ in range(16)]
    p.settings.SCHEDULER_BATCH = 3  # small claims, so the two schedulers interleave
    p.clock.now = DUE
    workers = [RecordingWorker(p, f"scheduler-{n}") for n in range(2)]
    barrier, errors = threading.Barrier(2), []

    def run(worker):
        barrier.wait()
        try:
            idle = 0
            while idle < 2:
                idle = idle + 1 if worker.tick() == 0 else 0
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    first, second = (set(w.fired) for w in workers)
    assert first.isdisjoint(second) and first | second == set(ids)
    for instance_id in ids:
        assert firings(p, instance_id) == [["到期"]]
        assert tasks_of(p, instance_id) == [("after_timer", "open")]


def test_a_dead_schedulers_claims_expire_and_are_taken_over(p):
    ids = [start_intermediate(p) for _ in range(3)]
    p.clock.now = DUE
    dead, alive = TimerWorker(p, "dead-scheduler"), TimerWorker(p, "live-scheduler")
    assert sorted(dead.claim()) == sorted(ids)  # ... and then its process dies
    assert alive.tick() == 0  # the claims hold until they expire
    p.clock.now = DUE + dt.timedelta(seconds=p.settings.SCHEDULER_CLAIM_SECONDS - 1)
    assert alive.tick() == 0
    p.clock.now = DUE + dt.timedelta(seconds=p.settings.SCHEDULER_CLAIM_SECONDS + 1)
    assert alive.tick() == 3
    assert dead.fire(ids[0]) == []  # woken up late: the claim is no longer its own
    for instance_id in ids:
        assert firings(p, instance_id) == [["到期"]]
        assert tl.instance(p, instance_id).timer_owner is None


def test_a_claim_is_skipped_while_another_scheduler_holds_it(p):
    instance_id = start_intermediate(p)
    p.clock.now = DUE
    holder = TimerWorker(p, "holder")
    assert holder.claim() == [instance_id]
    assert TimerWorker(p, "other").claim() == []
    with transaction(p.sessions, write=False) as session:
        row = session.get(ProcessInstance, instance_id)
        assert row.timer_owner == "holder"
        assert row.timer_claim_expires == DUE + dt.timedelta(seconds=p.settings.SCHEDULER_CLAIM_SECONDS)
    assert holder.fire(instance_id) == ["到期"]


def test_timer_helpers_work_in_the_sandbox(p):
    p.clock.now = dt.datetime(2024, 2, 8, 15, tzinfo=LOCAL_TZ)
    environment = p.runtime.script_engine.environment
    context = {"project": {"code": "2024-460100-48-02-000000"}}
    assert environment.evaluate("working_days_after(2)", context) == "2024-02-18T15:59:59.999999+00:00"
    # no open handling for this project: the item's catalogue limit (10 working days) from now
    assert environment.evaluate("deadline('S1-LAND-ALLOCATION')", context) == "2024-02-28T15:59:59.999999+00:00"
    assert environment.evaluate("deadline_warning('S1-LAND-ALLOCATION')", context) == "2024-02-22T16:00:00+00:00"
    with pytest.raises(CatalogError):
        environment.evaluate("deadline('NO-SUCH-ITEM')", context)

"""Two gunicorn nodes and two schedulers on one PostgreSQL; one node and one scheduler die by kill -9.

Clients drive the five-task stage 1 (``bench/flows/minimal_initiation.bpmn``) across
both nodes, every completion with an ``Idempotency-Key``; a request that gets no
answer (the node died under it) is sent again, same key, to the other node.  Timer
instances wait for the schedulers meanwhile.  Mid-run one node and one scheduler
are killed with SIGKILL.  Then:

- every completion a client was told about happened, exactly once (one completed
  row, one ``task_completed`` audit event), and nothing else was completed;
- every timer fired exactly once (one ``timers_fired`` event, one task after it),
  the dead scheduler's claims taken over when they expired;
- ``flask check`` finds every ready task with exactly one open row.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, HumanTask, ProcessInstance
from app.services.provisioning import demo
from app.stages import BY_KEY
from bench.http_load import deploy_minimal_flow, officer_for
from tests.conftest import _build, _drop_schema, _postgres_schema_url
from tests.fixtures import time_limits as tl

from .nodes import BIN, ROOT, Node, Scheduler, node_env

pytestmark = [pytest.mark.postgres, pytest.mark.slow]
DRIVE_SECONDS, KILL_AFTER, CLIENTS, TIMERS = 24.0, 8.0, 3, 12
NODE_SETTINGS = dict(PASSWORD_HASH_FAST=1, CACHE_CHECK_SECONDS=0.5, SCHEDULER_INTERVAL_SECONDS=0.3,
                     SCHEDULER_CLAIM_SECONDS=3, TOKEN_TTL_HOURS=24)


class _Project:
    name, investment_type = "两节点压测项目", "ratification"


class Client(threading.Thread):
    """Drives projects through stage 1 on both nodes, alternating, retrying what got no answer."""

    def __init__(self, number: int, nodes: list[Node], tokens: dict[str, str], stop_at: float):
        super().__init__(daemon=True)
        self.number, self.nodes, self.tokens, self.stop_at = number, nodes, tokens, stop_at
        self.turn = number
        self.acknowledged: list[int] = []  # task rows the platform said it completed
        self.retries = 0
        self.failure: BaseException | None = None

    def send(self, method: str, path: str, body=None, user: str = "admin", key: str | None = None):
        """One request, to the next node; no answer (or a 5xx): again, same key, to the next one."""
        for _ in range(20):
            node = self.nodes[self.turn % len(self.nodes)]
            self.turn += 1
            try:
                status, answer = node.call(method, path, body, token=self.tokens[user],
                                           headers={"Idempotency-Key": key} if key else None, timeout=20)
            except OSError:
                self.retries += 1
                continue
            if status >= 500:
                self.retries += 1
                time.sleep(0.2)
                continue
            return status, answer
        raise AssertionError(f"no node answered {method} {path}")

    def run(self) -> None:
        try:
            today, n = dt.date.today(), 0
            while time.monotonic() < self.stop_at:
                n += 1
                status, project = self.send("POST", "/projects", {"name": _Project.name, "division": "460100",
                                                                  "investment_type": "ratification"},
                                            "applicant1", key=f"c{self.number}-project-{n}")
                assert status == 201, project
                code = project["code"]
                data = demo.stage_application(BY_KEY["initiation"], _Project, today)
                status, body = self.send("POST", f"/projects/{code}/stages/initiation/applications",
                                         {"data": data}, "applicant1", key=f"c{self.number}-apply-{code}")
                assert status == 201, body
                while time.monotonic() < self.stop_at:
                    status, inbox = self.send("GET", f"/tasks?project={code}")
                    assert status == 200, inbox
                    if not inbox["tasks"]:
                        break
                    for task in inbox["tasks"]:
                        answer = demo.task_answer(task["form"], task["id"], today)
                        status, body = self.send("POST", f"/tasks/{task['id']}/complete", {"data": answer},
                                                 officer_for(task["lane"]), key=f"complete-{task['id']}")
                        assert status == 200, (status, body)  # the first answer, or its replay
                        self.acknowledged.append(task["id"])
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.failure = exc


@pytest.fixture(scope="module")
def cluster_db():
    url, schema = _postgres_schema_url()
    platform = _build(url)
    deploy_minimal_flow(platform)
    platform.fixture_version = tl.deploy(platform)
    yield url, platform
    platform.sessions.kw["bind"].dispose()
    _drop_schema(schema)


def test_no_completion_or_timer_is_lost_or_doubled_when_a_node_and_a_scheduler_die(cluster_db):
    url, platform = cluster_db
    now = dt.datetime.now(dt.UTC)
    timers = [tl.start(platform, platform.fixture_version, "timer_intermediate",
                       {"due": (now + dt.timedelta(seconds=4 + i)).isoformat()})[0] for i in range(TIMERS)]
    nodes = [Node(url, **NODE_SETTINGS), Node(url, **NODE_SETTINGS)]
    schedulers = [Scheduler(url, **NODE_SETTINGS), Scheduler(url, **NODE_SETTINGS)]
    try:
        users = {"admin", "applicant1", "window1", *(officer_for(lane) for lane in ("drc", "planning", "environment"))}
        tokens = {user: nodes[1].token(user) for user in users}
        began = time.monotonic()
        clients = [Client(n, nodes, tokens, began + DRIVE_SECONDS) for n in range(CLIENTS)]
        for client in clients:
            client.start()
        time.sleep(KILL_AFTER)
        nodes[0].kill()  # a machine dies: master and workers, mid-request for some clients
        schedulers[0].kill()  # and a scheduler, perhaps holding claims
        for client in clients:
            client.join(timeout=DRIVE_SECONDS + 60)
        for client in clients:
            assert client.failure is None, repr(client.failure)
        fired = wait_for_timers(platform, timers, seconds=40)
    finally:
        for process in (*nodes, *schedulers):
            process.stop()

    acknowledged = Counter(task_id for client in clients for task_id in client.acknowledged)
    print(f"{len(acknowledged)} completions, {sum(c.retries for c in clients)} requests sent again, "
          f"{sum(fired.values())} timer firings")
    assert acknowledged and sum(c.retries for c in clients) > 0, "the kill cost some client an answer"
    assert max(acknowledged.values()) == 1  # each task was completed by one client, once
    with transaction(platform.sessions, write=False) as session:
        rows = session.execute(select(HumanTask.id, HumanTask.instance_id, HumanTask.spec_name, HumanTask.status)
                               .where(HumanTask.instance_id.not_in(timers))).all()
        completed = {row.id for row in rows if row.status == "completed"}
        assert completed == set(acknowledged), "every told completion happened, and nothing else"
        events = Counter((event.instance_id, json.loads(event.detail)["task"]) for event in session.scalars(
            select(AuditEvent).where(AuditEvent.kind == "task_completed",
                                     AuditEvent.instance_id.not_in(timers))))
        assert max(events.values()) == 1, "no completion was applied twice"
        assert set(events) == {(row.instance_id, row.spec_name) for row in rows if row.status == "completed"}
    assert fired == {instance_id: 1 for instance_id in timers}, "each timer fired exactly once"
    check = subprocess.run([str(BIN / "flask"), "check"], cwd=ROOT, env=node_env(url), capture_output=True,
                           text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr


def wait_for_timers(platform, timers: list[int], seconds: float) -> dict[int, int]:
    """Wait until every timer instance has fired (its next task open); return firings per instance."""
    deadline = time.monotonic() + seconds
    while True:
        with transaction(platform.sessions, write=False) as session:
            waiting = session.scalar(select(ProcessInstance.id).where(ProcessInstance.id.in_(timers),
                                                                      ProcessInstance.next_timer_at.is_not(None))
                                     .limit(1))
            if waiting is None or time.monotonic() > deadline:
                fired = Counter(session.scalars(select(AuditEvent.instance_id).where(
                    AuditEvent.kind == "timers_fired", AuditEvent.instance_id.in_(timers))))
                after = Counter(session.scalars(select(HumanTask.instance_id).where(
                    HumanTask.instance_id.in_(timers), HumanTask.spec_name == "after_timer")))
                assert after == fired, "one task after each firing"
                return {instance_id: fired.get(instance_id, 0) for instance_id in timers}
        time.sleep(0.5)

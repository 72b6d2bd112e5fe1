"""Concurrent completions: exactly one wins a race; parallel branches all apply."""

import threading

from sqlalchemy import select

from app.db import transaction
from app.errors import Conflict
from app.models import HumanTask, ProcessInstance, StageItem, User
from app.services.people import projects
from app.services.provisioning import demo
from app.services.workflow import consistency, instances
from app.stages import BY_KEY


def _start(platform, stage_key="initiation"):
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": "并发测试项目", "division": "460100", "investment_type": "ratification"})
        instance = instances.start_stage(session, platform, project, BY_KEY[stage_key],
                                         demo.stage_application(BY_KEY[stage_key], project,
                                                                platform.now().date()), applicant)
        return instance.id


def _open(platform, instance_id):
    with transaction(platform.sessions, write=False) as session:
        return demo.open_tasks(session, instance_id)


def _complete(platform, row, outcome=None):
    with transaction(platform.sessions) as session:
        actor = demo.actor_for(session, row)
        instances.complete_task(session, platform, row.id,
                                demo.task_answer(row.form, row.id, platform.now().date(), outcome), actor)


def test_two_sessions_complete_the_same_task(platform):
    instance_id = _start(platform)
    row = _open(platform, instance_id)[0]
    results, barrier = [], threading.Barrier(2)

    def worker():
        barrier.wait()
        try:
            _complete(platform, row)
            results.append("ok")
        except Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "ok"]
    with transaction(platform.sessions, write=False) as session:
        assert consistency.check_all(session, platform) == []
        completed = session.scalars(select(HumanTask).where(HumanTask.id == row.id)).one()
        assert completed.status == "completed"


def test_parallel_branches_from_eight_threads(platform):
    instance_ids = [_start(platform) for _ in range(4)]
    for instance_id in instance_ids:  # accept at the window: opens the parallel reviews
        _complete(platform, _open(platform, instance_id)[0])
    errors = []

    def drain(worker_no):
        for _ in range(60):
            rows = [r for i in instance_ids for r in _open(platform, i)]
            if not rows:
                return
            row = rows[(worker_no * 7) % len(rows)]
            try:
                _complete(platform, row)
            except Conflict:
                continue  # another thread took it: expected under contention
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
                return

    threads = [threading.Thread(target=drain, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with transaction(platform.sessions, write=False) as session:
        statuses = session.scalars(select(ProcessInstance.status).where(
            ProcessInstance.id.in_(instance_ids))).all()
        assert statuses == ["approved"] * 4
        assert consistency.check_all(session, platform) == []
        done = session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(instance_ids),
                                                       HumanTask.status == "completed")).all()
        # window accept + one review per item the stage decided + issue, per instance
        reviews = session.scalars(select(StageItem).where(StageItem.instance_id.in_(instance_ids))).all()
        assert len(reviews) >= 4 * 3 and len(done) == 4 * 2 + len(reviews)

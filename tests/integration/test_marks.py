"""The diagram's marks live in the instance row: written by every save, read without a state."""

import json

from sqlalchemy import select, update

from app.db import transaction
from app.models import ProcessInstance
from app.services.people import progress
from app.services.provisioning import demo
from app.services.workflow import instances

from .test_api import apply, declare
from .test_concurrency import _start


def _from_state(platform, instance_id):
    """The marks as the state says, computed the way the progress page did before (whole tree, top level)."""
    from SpiffWorkflow.util.task import TaskState
    with transaction(platform.sessions, write=False) as session:
        instance = session.get(ProcessInstance, instance_id)
        workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
        stored = json.loads(instance.marks)
    done, active = set(), set()
    for task in workflow.get_tasks(state=TaskState.ANY_MASK):
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if task.workflow is not workflow or not bpmn_id:
            continue
        if task.state == TaskState.COMPLETED:
            done.add(bpmn_id)
        elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            active.add(bpmn_id)
    return stored, {"done": sorted(done - active), "active": sorted(active)}


def _complete(platform, instance_id, outcome=None, name=None):
    with transaction(platform.sessions) as session:
        rows = demo.open_tasks(session, instance_id)
        row = next(r for r in rows if name is None or r.spec_name == name)
        instances.complete_task(session, platform, row.id, demo.task_answer(
            row.form, row.id, platform.now().date(), outcome), demo.actor_for(session, row))


def test_every_save_writes_the_marks_the_state_implies(platform):
    instance_id = _start(platform)
    stored, expected = _from_state(platform, instance_id)
    assert stored == expected and "window_accept" in stored["active"]
    _complete(platform, instance_id)  # the window accepts: the reviews open
    stored, expected = _from_state(platform, instance_id)
    assert stored == expected and "window_accept" in stored["done"]
    _complete(platform, instance_id, "correct", name="review_environment")  # a correction loop on a review
    stored, expected = _from_state(platform, instance_id)
    assert stored == expected


def test_the_marks_request_loads_no_state(login, platform, monkeypatch):
    applicant = login("applicant1")
    code = declare(applicant)["code"]
    apply(applicant, code)

    def refuse(*args, **kwargs):
        raise AssertionError("a read loaded a workflow state")

    monkeypatch.setattr(platform.runtime, "load", refuse)
    marks = applicant.get(f"/projects/{code}/progress").get_json()["instances"][0]["marks"]
    assert "window_accept" in marks["active"] and "start" in marks["done"]


def test_an_instance_saved_before_marks_existed_still_shows_them(platform):
    instance_id = _start(platform)
    with transaction(platform.sessions) as session:
        session.execute(update(ProcessInstance).where(ProcessInstance.id == instance_id).values(marks=None))
    with transaction(platform.sessions, write=False) as session:
        instance = session.scalars(select(ProcessInstance).where(ProcessInstance.id == instance_id)).one()
        marks = progress.diagram_marks(platform, instance)
    assert "window_accept" in marks["active"]

"""Every BPMN file end to end in memory, saving and restoring at every step.

Paths: approval, a refusal, a correction loop (with one insufficient recheck),
and a window refusal to accept.  Each submitted answer also validates against
its task's form.
"""

import datetime as dt
from pathlib import Path

import pytest

from app.services.demo import task_answer
from engine.forms import FormLibrary
from engine.runtime import Runtime
from engine.specs import SpecCache, build_bundles, parse_deployment, read_directory

ROOT = Path(__file__).resolve().parents[2]
ROLES = {"window", "applicant", "drc", "planning", "environment", "housing", "fire", "civil_defence",
         "meteorology", "archives", "water", "utilities"}
TODAY = dt.date(2026, 3, 2)
PROJECT = {"code": "2026-460100-48-02-000017", "name": "测试项目", "division": "460100",
           "flow_type": 3, "investment_type": "ratification"}
APPLICATIONS = {
    "stage_initiation": {"investment_type": "ratification"},
    "parallel_utilities": {"water": True, "power": True, "gas": False},
}
PROCESSES = ["stage_initiation", "stage_engineering", "stage_construction", "stage_acceptance",
             "parallel_utilities"]
FIRST_REVIEW = {"stage_initiation": "review_eia", "stage_engineering": "review_civil_defence",
                "stage_construction": "review_fire_design", "stage_acceptance": "review_archives",
                "parallel_utilities": "review_water_connection"}


@pytest.fixture(scope="module")
def runtime():
    files = read_directory(ROOT / "processes")
    cache = SpecCache(lambda version: files)
    cache.add(1, build_bundles(parse_deployment(files), 1))
    return Runtime(cache)


@pytest.fixture(scope="module")
def forms():
    return FormLibrary(ROOT / "forms")


def drive(runtime, forms, process_id, decide, project=PROJECT):
    """Run to the end; ``decide(spec_name, visits)`` may return an outcome. Returns (workflow, trace)."""
    bundle = runtime.specs.get(process_id, 1)
    workflow = runtime.start(bundle, {"project": project, "application": APPLICATIONS.get(process_id, {})})
    trace, visits = [], {}
    for step in range(200):
        state = runtime.dump(workflow)
        restored = runtime.load(state, bundle.key)
        assert runtime.dump(restored) == state, f"state changed on restore at step {step}"
        workflow = restored
        ready = runtime.ready_user_tasks(workflow)
        if not ready:
            return workflow, trace
        view = ready[0]
        assert view.lane in ROLES, f"{view.spec_name} has lane {view.lane!r}"
        assert view.form in forms, f"{view.spec_name} names unknown form {view.form!r}"
        if view.lane not in ("window", "applicant"):
            assert view.item_code, f"review {view.spec_name} names no item"
        visits[view.spec_name] = visits.get(view.spec_name, 0) + 1
        answer = task_answer(view.form, step, TODAY, decide(view.spec_name, visits[view.spec_name]))
        forms.validate(view.form, answer)
        runtime.complete(workflow, view.task_id, answer)
        trace.append((view.spec_name, answer.get("outcome")))
    pytest.fail("process did not finish in 200 steps")


@pytest.mark.parametrize("process_id", PROCESSES)
def test_approval_path(runtime, forms, process_id):
    workflow, trace = drive(runtime, forms, process_id, lambda name, n: None)
    assert runtime.outcome(workflow).end_event == "end_approved"
    assert trace[0][0] == "window_accept" and trace[-1][0] == "window_issue"


@pytest.mark.parametrize("process_id", PROCESSES)
def test_refusal_path(runtime, forms, process_id):
    target = FIRST_REVIEW[process_id]
    workflow, trace = drive(runtime, forms, process_id,
                            lambda name, n: "refuse" if name == target else None)
    assert runtime.outcome(workflow).end_event == "end_refused"
    assert (target, "refuse") in trace and trace[-1][0] == "window_refusal_notice"


@pytest.mark.parametrize("process_id", PROCESSES)
def test_correction_loop(runtime, forms, process_id):
    target = FIRST_REVIEW[process_id]

    def decide(name, visits):
        if name == target and visits == 1:
            return "correct"
        if name == "correction_recheck" and visits == 1:
            return "insufficient"
        return None

    workflow, trace = drive(runtime, forms, process_id, decide)
    assert runtime.outcome(workflow).end_event == "end_approved"
    names = [name for name, _ in trace]
    assert names.count("correction_supplement") == 2 and names.count("correction_recheck") == 2
    assert names.count(target) == 2
    assert workflow.subprocesses == {}  # finished corrections are pruned from the state


@pytest.mark.parametrize("process_id", PROCESSES)
def test_window_refuses_to_accept(runtime, forms, process_id):
    workflow, trace = drive(runtime, forms, process_id,
                            lambda name, n: "reject" if name == "window_accept" else None)
    assert runtime.outcome(workflow).end_event == "end_rejected"
    assert trace == [("window_accept", "reject")]


@pytest.mark.parametrize("investment_type,review", [("government", "review_drc_approval"),
                                                    ("ratification", "review_drc_ratify"),
                                                    ("filing", "review_drc_filing")])
def test_drc_review_follows_investment_type(runtime, forms, investment_type, review):
    project = dict(PROJECT, investment_type=investment_type)
    workflow, trace = drive(runtime, forms, "stage_initiation", lambda name, n: None, project)
    names = {name for name, _ in trace}
    assert review in names
    assert not (names & {"review_drc_approval", "review_drc_ratify", "review_drc_filing"} - {review})


def test_parallel_track_opens_only_requested_connections(runtime, forms):
    workflow, trace = drive(runtime, forms, "parallel_utilities", lambda name, n: None)
    names = {name for name, _ in trace}
    assert {"review_water_connection", "review_power_connection"} <= names
    assert "review_gas_connection" not in names


def test_state_is_smaller_than_stock_serialization(runtime):
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    workflow = runtime.start(runtime.specs.get("stage_acceptance", 1), {"project": PROJECT, "application": {}})
    ours, theirs = len(runtime.dump(workflow)), len(stock.serialize_json(workflow))
    assert ours < theirs / 2, (ours, theirs)

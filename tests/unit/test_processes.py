"""Every BPMN file end to end in memory, saving and restoring at every step.

The stages decide their items with DMN and review each item in a multi-instance
per department.  Paths: approval, a refusal of one item, a correction loop of
one item (with one insufficient recheck) while the department's other items go
on, a window refusal to accept, accepting with gaps (容缺), a committed item
(告知承诺), the merged engineering stage, the warning timer's supervision task
and the commitment verification.  Each submitted answer validates against its
task's form.
"""

import datetime as dt
import json
from pathlib import Path

import pytest

from app.services.provisioning.demo import task_answer
from engine.catalog import load_catalog
from engine.decisions import facts, plan_helpers
from engine.forms import FormLibrary
from engine.runtime import Runtime
from engine.specs import SpecCache, build_bundles, parse_deployment, read_directory

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "catalog")
ROLES = set(CATALOG.roles)
TODAY = dt.date(2026, 3, 2)
FAR, PAST = "2099-01-01T00:00:00+00:00", "2020-01-01T00:00:00+00:00"
PROJECT = {"code": "2026-460100-48-02-000017", "name": "测试项目", "division": "460100",
           "flow_type": 3, "investment_type": "ratification"}
#: The demo project's scale: several items per stage, two or more for some departments.
FACTS = facts(flow_type=3, investment_type="ratification", total_investment=12800.0, land_area=24000.0,
              total_floor_area=56000.0, building_height=79.5, civil_defence_area=4200.0, contract_price=21500.0,
              connections=["water", "power"])
PROCESSES = ["stage_initiation", "stage_engineering", "stage_construction", "stage_acceptance",
             "parallel_utilities"]
#: An item each stage decides for FACTS, and a department with two items there.
TARGET = {"stage_initiation": "S1-EIA", "stage_engineering": "S2-CIVIL-DEFENCE",
          "stage_construction": "S3-FIRE-DESIGN", "stage_acceptance": "S4-ARCHIVES", "parallel_utilities": "P-WATER"}
PAIR = {"stage_initiation": ("S1-LAND-PREREVIEW", "S1-GEOHAZARD"), "stage_engineering": ("S2-DESIGN-SCHEME",
        "S2-PLAN-PERMIT"), "stage_construction": ("S3-DRAWING-REVIEW", "S3-CONSTRUCTION-PERMIT"),
        "stage_acceptance": None, "parallel_utilities": ("P-WATER", "P-POWER")}


def make_runtime(warning_at: str = FAR) -> Runtime:
    files = read_directory(ROOT / "processes")
    cache = SpecCache(lambda version: files)
    cache.add(1, build_bundles(parse_deployment(files), 1))
    helpers = {**plan_helpers(CATALOG), "deadline_warning": lambda context: (lambda code: warning_at)}
    return Runtime(cache, data_helpers=helpers)


@pytest.fixture(scope="module")
def runtime():
    return make_runtime()


@pytest.fixture(scope="module")
def forms():
    return FormLibrary(ROOT / "forms")


def restored(runtime, workflow, key, step):
    """Save, restore and compare (the task tree's JSON, not its key order)."""
    state = runtime.dump(workflow)
    again = runtime.load(state, key)
    assert json.loads(runtime.dump(again)) == json.loads(state), f"state changed on restore at step {step}"
    return again


def drive(runtime, forms, process_id, decide=lambda view, n: None, project=PROJECT, application=None,
          start_facts=FACTS, answers=None):
    """Run to the end; ``decide(view, visits)`` may return an outcome. Returns (workflow, trace)."""
    bundle = runtime.specs.get(process_id, 1)
    workflow = runtime.start(bundle, {"project": project, "application": application or {}, "facts": start_facts})
    trace, visits = [], {}
    for step in range(300):
        workflow = restored(runtime, workflow, bundle.key, step)
        ready = runtime.ready_user_tasks(workflow)
        if not ready:
            return workflow, trace
        view = ready[0]
        assert view.lane in ROLES, f"{view.spec_name} has lane {view.lane!r}"
        assert view.form in forms, f"{view.spec_name} names unknown form {view.form!r}"
        if view.lane not in ("window", "applicant"):
            assert view.item_code and CATALOG.item(view.item_code).role == view.lane, view
        key = (view.spec_name, view.item_code)
        visits[key] = visits.get(key, 0) + 1
        answer = (answers or {}).get(view.spec_name) or task_answer(view.form, step, TODAY,
                                                                    decide(view, visits[key]))
        forms.validate(view.form, answer)
        runtime.complete(workflow, view.task_id, answer)
        trace.append((view.spec_name, view.item_code, answer.get("outcome")))
    pytest.fail("process did not finish in 300 steps")


def items_reviewed(trace):
    return [item for name, item, _ in trace if name.startswith("review_") and item]


@pytest.mark.parametrize("process_id", PROCESSES)
def test_approval_path(runtime, forms, process_id):
    workflow, trace = drive(runtime, forms, process_id)
    assert runtime.outcome(workflow).end_event == "end_approved"
    assert trace[0][0] == "window_accept" and trace[-1][0] == "window_issue"
    assert TARGET[process_id] in items_reviewed(trace)


@pytest.mark.parametrize("process_id", PROCESSES)
def test_refusal_of_one_item(runtime, forms, process_id):
    target = TARGET[process_id]
    workflow, trace = drive(runtime, forms, process_id,
                            lambda view, n: "refuse" if view.item_code == target else None)
    assert runtime.outcome(workflow).end_event == "end_refused"
    assert (f"review_{CATALOG.item(target).role}", target, "refuse") in trace
    assert trace[-1][0] == "window_refusal_notice"


@pytest.mark.parametrize("process_id", PROCESSES)
def test_correction_loop_of_one_item(runtime, forms, process_id):
    target = TARGET[process_id]

    def decide(view, visits):
        if view.item_code == target and view.spec_name.startswith("review_") and visits == 1:
            return "correct"
        if view.spec_name == "correction_recheck" and visits == 1:
            return "insufficient"
        return None

    workflow, trace = drive(runtime, forms, process_id, decide)
    assert runtime.outcome(workflow).end_event == "end_approved"
    names = [name for name, _, _ in trace]
    assert names.count("correction_supplement") == 2 and names.count("correction_recheck") == 2
    assert items_reviewed(trace).count(target) == 2
    assert all(items_reviewed(trace).count(code) == 1 for code in set(items_reviewed(trace)) - {target})


@pytest.mark.parametrize("process_id", [p for p in PROCESSES if PAIR[p]])
def test_items_of_one_department_are_handled_independently(runtime, forms, process_id):
    first, second = PAIR[process_id]
    bundle = runtime.specs.get(process_id, 1)
    workflow = runtime.start(bundle, {"project": PROJECT, "application": {}, "facts": FACTS})
    runtime.complete(workflow, runtime.ready_user_tasks(workflow)[0].task_id, {"outcome": "accept"})
    reviews = {v.item_code: v for v in runtime.ready_user_tasks(workflow)}
    assert reviews[first].spec_name == reviews[second].spec_name  # one review, one instance per item
    runtime.complete(workflow, reviews[first].task_id, {"outcome": "correct", "opinion": "补充材料"})
    workflow = restored(runtime, workflow, bundle.key, 0)
    ready = {(v.spec_name, v.item_code) for v in runtime.ready_user_tasks(workflow)}
    assert ("correction_supplement", first) in ready and (reviews[second].spec_name, second) in ready
    runtime.complete(workflow, reviews[second].task_id, {"outcome": "approve", "opinion": "同意"})
    ready = {(v.spec_name, v.item_code) for v in runtime.ready_user_tasks(workflow)}
    assert ("correction_supplement", first) in ready and (reviews[second].spec_name, second) not in ready


def test_a_loop_started_in_one_process_finishes_in_another(forms):
    """Each web worker parses its own specs: a state saved by one must complete in the other."""
    first, second = make_runtime(), make_runtime()
    bundle = first.specs.get("stage_initiation", 1)
    workflow = first.start(bundle, {"project": PROJECT, "application": {}, "facts": FACTS})
    first.complete(workflow, first.ready_user_tasks(workflow)[0].task_id, {"outcome": "accept"})
    for step in range(20):
        runtime = (first, second)[step % 2]
        workflow = runtime.load(runtime.dump(workflow), bundle.key)
        ready = runtime.ready_user_tasks(workflow)
        if ready[0].spec_name == "window_issue":
            break
        runtime.complete(workflow, ready[0].task_id, {"outcome": "approve", "opinion": "同意"})
    assert [v.spec_name for v in ready] == ["window_issue"]


@pytest.mark.parametrize("process_id", PROCESSES)
def test_window_refuses_to_accept(runtime, forms, process_id):
    workflow, trace = drive(runtime, forms, process_id,
                            lambda view, n: "reject" if view.spec_name == "window_accept" else None)
    assert runtime.outcome(workflow).end_event == "end_rejected"
    assert trace == [("window_accept", None, "reject")]


@pytest.mark.parametrize("investment_type,item", [("government", "S1-PROJ-APPROVAL"),
                                                  ("ratification", "S1-PROJ-RATIFY"),
                                                  ("filing", "S1-PROJ-FILING")])
def test_drc_review_follows_investment_type(runtime, forms, investment_type, item):
    start = dict(FACTS, investment_type=investment_type)
    workflow, trace = drive(runtime, forms, "stage_initiation", start_facts=start)
    reviewed = set(items_reviewed(trace))
    assert item in reviewed
    assert not (reviewed & {"S1-PROJ-APPROVAL", "S1-PROJ-RATIFY", "S1-PROJ-FILING"} - {item})


def test_departments_without_items_are_skipped(runtime, forms):
    small = facts(flow_type=3, investment_type="filing", regional_assessment=True, simplified_park=True)
    workflow, trace = drive(runtime, forms, "stage_initiation", start_facts=small)
    assert runtime.outcome(workflow).end_event == "end_approved"
    assert items_reviewed(trace) == ["S1-PROJ-FILING", "S1-EIA-REGISTRATION"]


def test_parallel_track_opens_only_requested_connections(runtime, forms):
    workflow, trace = drive(runtime, forms, "parallel_utilities")
    assert sorted(items_reviewed(trace)) == ["P-POWER", "P-WATER"]


def test_gaps_withhold_the_result_until_supplied(runtime, forms):
    accept = {"outcome": "accept", "tolerance_acceptance": True,
              "tolerated_materials": ["授权委托书及受托人身份证件"], "supply_by": "2026-03-20"}
    supply = {"materials": ["授权委托书及受托人身份证件"]}
    workflow, trace = drive(runtime, forms, "stage_construction",
                            answers={"window_accept": accept, "supply_gaps": supply})
    names = [name for name, _, _ in trace]
    assert runtime.outcome(workflow).end_event == "end_approved"
    assert names[-2:] == ["supply_gaps", "window_issue"]
    assert max(i for i, n in enumerate(names) if n.startswith("review_")) < names.index("supply_gaps")


def test_a_committed_item_is_not_reviewed(runtime, forms):
    workflow, trace = drive(runtime, forms, "stage_initiation", application={"commitments": ["S1-LAND-PERMIT"]})
    assert runtime.outcome(workflow).end_event == "end_approved"
    assert "S1-LAND-PERMIT" not in items_reviewed(trace) and "S1-LAND-PREREVIEW" in items_reviewed(trace)
    plan = {e["code"]: e["commitment"] for e in workflow.data["decided"]}
    assert plan["S1-LAND-PERMIT"] is True and plan["S1-LAND-PREREVIEW"] is False


def test_merged_engineering_stage_reviews_construction_items(runtime, forms):
    merged = dict(FACTS, flow_type=5, merge_construction=True)
    workflow, trace = drive(runtime, forms, "stage_engineering", project=dict(PROJECT, flow_type=5),
                            start_facts=merged)
    reviewed = set(items_reviewed(trace))
    assert {"S2-PLAN-PERMIT", "S3-DRAWING-REVIEW", "S3-FIRE-DESIGN", "S3-CONSTRUCTION-PERMIT"} <= reviewed
    assert "S2-DESIGN-SCHEME" not in reviewed  # the scheme came with the land
    assert runtime.outcome(workflow).end_event == "end_approved"


def test_warning_timer_opens_a_supervision_task_for_its_item(forms):
    runtime = make_runtime(warning_at=PAST)
    bundle = runtime.specs.get("stage_construction", 1)
    workflow = runtime.start(bundle, {"project": PROJECT, "application": {}, "facts": FACTS})
    runtime.complete(workflow, runtime.ready_user_tasks(workflow)[0].task_id, {"outcome": "accept"})
    runtime.fire_timers(workflow)
    supervision = [v for v in runtime.ready_user_tasks(workflow) if v.properties.get("audience") == "supervisor"]
    reviews = [v for v in runtime.ready_user_tasks(workflow) if v.spec_name.startswith("review_")]
    assert sorted(v.item_code for v in supervision) == sorted(v.item_code for v in reviews)
    assert all(v.form == "supervision.schema.json" for v in supervision)


@pytest.mark.parametrize("outcome,end", [("confirm", "end_approved"), ("revoke", "end_revoked")])
def test_commitment_verification_goes_to_the_items_department(runtime, forms, outcome, end):
    item = CATALOG.item("S1-LAND-PERMIT")
    application = {"code": item.code, "name": item.name, "role": item.role, "stage": "initiation"}
    bundle = runtime.specs.get("commitment_verification", 1)
    workflow = runtime.start(bundle, {"project": PROJECT, "application": application})
    [view] = runtime.ready_user_tasks(workflow)
    assert (view.lane, view.item_code, view.form) == ("planning", item.code, "commitment_verification.schema.json")
    answer = task_answer(view.form, 1, TODAY, outcome)
    forms.validate(view.form, answer)
    runtime.complete(workflow, view.task_id, answer)
    assert runtime.outcome(workflow).end_event == end


def test_state_is_smaller_than_stock_serialization(runtime):
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
    from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

    from engine.gateways import PLATFORM_GATEWAYS
    from engine.timers import PLATFORM_TIMERS
    config = dict(SPIFF_CONFIG)  # the stock serializer, told about our platform-clock timers
    config.update({timer: TimerConditionalEventDefinitionConverter for timer in PLATFORM_TIMERS})
    config.update(PLATFORM_GATEWAYS)
    from SpiffWorkflow.bpmn import BpmnWorkflow

    from engine.walk import PlatformWorkflow
    config[PlatformWorkflow] = config[BpmnWorkflow]  # and about our workflow class (the fast walks)
    stock = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    workflow = runtime.start(runtime.specs.get("stage_acceptance", 1),
                             {"project": PROJECT, "application": {}, "facts": FACTS})
    ours, theirs = len(runtime.dump(workflow)), len(stock.serialize_json(workflow))
    assert ours < theirs / 2, (ours, theirs)

"""The engine's shortcuts give SpiffWorkflow's own answers, on every stage's flow, at every step.

Each flow runs twice in lockstep on the same answers: once on our runtime (the fast
task walks of ``engine.walk``, the scoped parallel join of ``engine.gateways``, a
save and restore before every step) and once on stock SpiffWorkflow (``BpmnWorkflow``,
the stock ``ParallelGateway``, never saved).  After every step the two task trees must
be the same (spec, state and data of every task in the stock walk's order), and on our
workflow every shortcut is asked beside the stock code it replaces.
"""

from __future__ import annotations

import json

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import EndEvent, ParallelGateway, UserTask
from SpiffWorkflow.util.task import TaskIterator, TaskState
from SpiffWorkflow.workflow import Workflow

from app.services.provisioning.demo import task_answer
from engine.gateways import ScopedParallelGateway, ancestor_ids, is_descendant
from engine.runtime import Runtime
from engine.specs import build_bundles, parse_deployment, read_directory
from engine.walk import PlatformSubWorkflow, PlatformWorkflow, fast_tasks

from .test_processes import CATALOG, FACTS, PROCESSES, PROJECT, ROOT, TARGET, TODAY, make_runtime

FILTERS = [dict(state=TaskState.READY), dict(state=TaskState.READY, manual=True), dict(state=TaskState.WAITING),
           dict(state=TaskState.NOT_FINISHED_MASK), dict(state=TaskState.COMPLETED, spec_class=EndEvent),
           dict(state=TaskState.FINISHED_MASK), dict(state=TaskState.PREDICTED_MASK), dict(spec_class=UserTask),
           dict(state=TaskState.READY, lane="window"), {}]


class StockRuntime(Runtime):
    """Our runtime's operations on stock SpiffWorkflow objects: ``BpmnWorkflow`` and its stock subprocesses."""

    def start(self, bundle, data):
        workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data)
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(data)
        self._advance(workflow)
        return workflow


def stock_runtime(ours: Runtime) -> StockRuntime:
    """The same flows parsed again, their parallel gateways left stock."""
    files = read_directory(ROOT / "processes")
    bundles = build_bundles(parse_deployment(files), 1)
    for bundle in bundles.values() if isinstance(bundles, dict) else bundles:
        for spec in [bundle.spec, *bundle.subprocess_specs.values()]:
            for task_spec in spec.task_specs.values():
                if type(task_spec) is ScopedParallelGateway:
                    task_spec.__class__ = ParallelGateway
    from engine.specs import SpecCache
    cache = SpecCache(lambda version: files)
    cache.add(1, bundles)
    stock = StockRuntime(cache)
    stock.script_engine = ours.script_engine
    return stock


@pytest.fixture(scope="module")
def runtimes():
    ours = make_runtime()
    return ours, stock_runtime(ours)


def tree(workflow) -> list:
    """Every task in the stock walk's order: spec, state, data (subprocesses included)."""
    return [(t.task_spec.name, TaskState.get_name(t.state), t.workflow.spec.name,
             json.dumps(t.data, sort_keys=True, default=str, ensure_ascii=False))
            for t in Workflow.get_tasks(workflow)]


def check_shortcuts(workflow) -> int:
    """Ask every shortcut beside the stock code; return how many questions were asked."""
    asked = 0
    for wf in [workflow, *workflow.subprocesses.values()]:
        assert isinstance(wf, (PlatformWorkflow, PlatformSubWorkflow))
        for filters in FILTERS:
            assert wf.get_tasks(**filters) == Workflow.get_tasks(wf, **filters), (wf.spec.name, filters)
            asked += 1
        # update_waiting_tasks: the stock walk there is a plain TaskIterator over the workflow's own tree
        assert fast_tasks(wf, False, state=TaskState.WAITING) == list(TaskIterator(wf.task_tree,
                                                                                    state=TaskState.WAITING))
        for task in wf.tasks.values():  # the join's ancestry tests, on every task of the tree
            assert is_descendant(task, wf.task_tree) == task.is_descendant_of(wf.task_tree)
            assert ancestor_ids(task) == {t.id for t in wf.tasks.values() if task.is_descendant_of(t)}
        for task in wf.tasks.values():
            if isinstance(task.task_spec, ScopedParallelGateway) and task.state == TaskState.WAITING:
                assert task.task_spec._check_threshold_unstructured(task) == \
                    ParallelGateway._check_threshold_unstructured(task.task_spec, task)
                others = [t for t in wf.tasks.values() if t.task_spec is task.task_spec]
                mine = ancestor_ids(task)
                for other in others:
                    assert is_descendant(other, task) == other.is_descendant_of(task)
                    assert (other.id in mine) == task.is_descendant_of(other)
                asked += 1
    return asked


def lockstep(runtimes, process_id, decide=lambda spec_name, item, visits: None) -> tuple[list, int]:
    """Run ``process_id`` on both runtimes with the same answers; compare after every step."""
    ours, stock = runtimes
    start = {"project": PROJECT, "application": {}, "facts": FACTS}
    bundle = ours.specs.get(process_id, 1)
    mine, theirs = ours.start(bundle, start), stock.start(stock.specs.get(process_id, 1), start)
    trace, visits, asked = [], {}, 0
    for step in range(300):
        mine = ours.load(ours.dump(mine), bundle.key)
        assert tree(mine) == tree(theirs), f"{process_id}: the task trees differ at step {step}"
        asked += check_shortcuts(mine)
        ready, stock_ready = ours.ready_user_tasks(mine), stock.ready_user_tasks(theirs)
        assert [(v.spec_name, v.item_code) for v in ready] == [(v.spec_name, v.item_code) for v in stock_ready]
        if not ready:
            assert ours.outcome(mine) == stock.outcome(theirs)
            return trace, asked
        key = (ready[0].spec_name, ready[0].item_code)
        visits[key] = visits.get(key, 0) + 1
        answer = task_answer(ready[0].form, step, TODAY, decide(*key, visits[key]))
        ours.complete(mine, ready[0].task_id, answer)
        stock.complete(theirs, stock_ready[0].task_id, answer)
        trace.append((*key, answer.get("outcome")))
    pytest.fail("process did not finish in 300 steps")


@pytest.mark.parametrize("process_id", PROCESSES)
def test_approval_path_matches_stock(runtimes, process_id):
    trace, asked = lockstep(runtimes, process_id)
    assert trace[-1][0] == "window_issue" and asked > len(trace) * len(FILTERS)


@pytest.mark.parametrize("process_id", PROCESSES)
def test_correction_loop_and_refusal_match_stock(runtimes, process_id):
    target = TARGET[process_id]

    def decide(spec_name, item, visits):
        if item == target and spec_name.startswith("review_"):
            return "correct" if visits == 1 else "refuse"
        if spec_name == "correction_recheck" and visits == 1:
            return "insufficient"
        return None

    trace, _ = lockstep(runtimes, process_id, decide)
    names = [name for name, _, _ in trace]
    assert names.count("correction_recheck") == 2 and trace[-1][0] == "window_refusal_notice"
    assert (f"review_{CATALOG.item(target).role}", target, "refuse") in trace


def test_a_predicted_branch_is_not_entered(runtimes):
    """A definite task below a predicted (MAYBE/LIKELY) one: the stock walk does not reach it, nor ours."""
    ours, _ = runtimes
    workflow = ours.start(ours.specs.get("stage_initiation", 1), {"project": PROJECT, "application": {},
                                                                  "facts": FACTS})
    predicted = next(t for t in workflow.tasks.values() if t.state & TaskState.PREDICTED_MASK and t.children)
    hidden = predicted.children[0]
    hidden._state = TaskState.FUTURE  # a state the engine never leaves below a predicted task
    stock = Workflow.get_tasks(workflow, state=TaskState.FUTURE)
    assert hidden not in stock
    assert workflow.get_tasks(state=TaskState.FUTURE) == stock
    assert workflow.get_tasks(state=TaskState.ANY_MASK) == Workflow.get_tasks(workflow)


def stock_json(workflow) -> str:
    """The state as the stock JSON encoder writes it (what ``dump_state`` wrote before orjson)."""
    from engine import serializer
    registry = serializer._SERIALIZER.registry
    registry._encoder_mode = True
    try:
        return json.dumps(serializer._SERIALIZER.to_dict(workflow), cls=serializer._SERIALIZER._encoder_cls,
                          ensure_ascii=False, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def test_orjson_writes_what_the_stock_encoder_writes(runtimes):
    """Dates, times, sets and callables in task data come back as the stock encoder leaves them."""
    import datetime as dt

    ours, _ = runtimes
    bundle = ours.specs.get("stage_initiation", 1)
    workflow = ours.start(bundle, {"project": PROJECT, "application": {}, "facts": FACTS})
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update(when=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC),
                     span=dt.timedelta(days=2, seconds=5), tags={"a"}, big=2 ** 62, text="审批 ✓", nested={"x": [1.5]})
    state = ours.dump(workflow)
    assert json.loads(state) == json.loads(stock_json(workflow))
    again = ours.load(state, bundle.key).get_task_from_id(task.id).data
    assert again["when"] == task.data["when"] and again["span"] == task.data["span"] and again["tags"] == ["a"]
    task.data["huge"] = 2 ** 70  # beyond orjson's integers: written by json instead, the same
    assert json.loads(ours.dump(workflow)) == json.loads(stock_json(workflow))
    task.data["day"] = dt.date(2026, 3, 2)  # a type neither knows: both refuse it
    with pytest.raises(TypeError):
        stock_json(workflow)
    with pytest.raises(TypeError):
        ours.dump(workflow)


def stock_task_dump(monkeypatch, runtime, workflow) -> str:
    """``dump`` with SpiffWorkflow's own task loop (``mapping_to_dict``) in place of ``_tasks_dict``."""
    from engine import serializer
    with monkeypatch.context() as patched:
        patched.setattr(serializer, "_tasks_dict", lambda converter, tasks: converter.mapping_to_dict(tasks))
        return runtime.dump(workflow)


@pytest.mark.parametrize("process_id", PROCESSES)
def test_fast_task_dump_writes_the_stock_text(runtimes, monkeypatch, process_id):
    """At every step of a flow with a correction loop, live and restored: the same state text, byte for byte."""
    ours, _ = runtimes
    target = TARGET[process_id]
    bundle = ours.specs.get(process_id, 1)
    workflow = ours.start(bundle, {"project": PROJECT, "application": {}, "facts": FACTS})
    visits, compared, subprocess_tasks = {}, 0, 0
    for step in range(300):
        for candidate in (workflow, ours.load(ours.dump(workflow), bundle.key)):
            assert ours.dump(candidate) == stock_task_dump(monkeypatch, ours, candidate), (process_id, step)
            compared += 1
        subprocess_tasks += sum(len(sub.tasks) for sub in workflow.subprocesses.values())
        ready = ours.ready_user_tasks(workflow)
        if not ready:
            break
        key = (ready[0].spec_name, ready[0].item_code)
        visits[key] = visits.get(key, 0) + 1
        outcome = "correct" if key[1] == target and key[0].startswith("review_") and visits[key] == 1 else None
        ours.complete(workflow, ready[0].task_id, task_answer(ready[0].form, step, TODAY, outcome))
    assert ours.outcome(workflow) is not None and compared > 10
    assert subprocess_tasks > 0 or process_id != "stage_initiation"  # stage 1's reviews run in called processes


def test_fast_task_dump_keeps_what_the_stock_loop_keeps(runtimes, monkeypatch):
    """Keys of a task's own, deleted keys, internal data, typed values and a task of another class."""
    import datetime as dt

    from SpiffWorkflow.task import Task

    ours, _ = runtimes
    bundle = ours.specs.get("stage_initiation", 1)
    workflow = ours.start(bundle, {"project": PROJECT, "application": {}, "facts": FACTS})
    task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
    task.data.update(when=dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC), note="补正")
    task.data.pop("facts")
    task.internal_data["seen"] = {"at": dt.datetime(2026, 3, 2, tzinfo=dt.UTC), "skip": print}
    assert ours.dump(workflow) == stock_task_dump(monkeypatch, ours, workflow)

    class OtherTask(Task):
        pass

    task.__class__ = OtherTask  # not a registered class: both paths hand it to the registry as it is
    with pytest.raises(TypeError):
        stock_task_dump(monkeypatch, ours, workflow)
    with pytest.raises(TypeError):
        ours.dump(workflow)
    task.__class__ = Task
    restored = ours.load(ours.dump(workflow), bundle.key).get_task_from_id(task.id)
    assert restored.data["when"] == task.data["when"] and "facts" not in restored.data
    assert restored.internal_data == {"seen": {"at": task.internal_data["seen"]["at"], "skip": None}}

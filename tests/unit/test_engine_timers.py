"""BPMN timers on the platform clock (engine.timers), in memory, saving and restoring at every step."""

import datetime as dt
from pathlib import Path

import pytest
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimeDateEventDefinition

from engine.errors import ScriptError
from engine.runtime import Runtime
from engine.serializer import _SERIALIZER
from engine.specs import SpecCache, build_bundles, parse_deployment
from engine.timers import PlatformTimeDateEventDefinition, parse_instant, use_platform_clock

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "timers.bpmn"
# far from the wall clock on purpose: a timer that read datetime.now() would never fire here
START = dt.datetime(2031, 3, 3, 1, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


class Engine:
    """A runtime over the fixture file with a settable clock and stand-in deadline helpers."""

    def __init__(self):
        files = {"timers.bpmn": FIXTURE.read_bytes()}
        cache = SpecCache(lambda version: files)
        cache.add(1, build_bundles(parse_deployment(files), 1))
        self.clock = Clock(START)
        self.due = {"deadline": START + dt.timedelta(days=9), "deadline_warning": START + dt.timedelta(days=6)}
        helpers = {name: (lambda item, name=name: self.due[name].isoformat()) for name in self.due}
        self.runtime = Runtime(cache, helpers=helpers, clock=self.clock)

    def start(self, process_id, data=None):
        return self.runtime.start(self.runtime.specs.get(process_id, 1), data or {})

    def reload(self, workflow):
        """Save and restore, as every scheduler tick does."""
        state = self.runtime.dump(workflow)
        restored = self.runtime.load(state, workflow.spec.name + "@1")
        assert self.runtime.dump(restored) == state
        return restored

    def fire_at(self, workflow, when):
        self.clock.now = when
        workflow = self.reload(workflow)
        return workflow, self.runtime.fire_timers(workflow)

    def ready(self, workflow):
        return sorted(view.spec_name for view in self.runtime.ready_user_tasks(workflow))


@pytest.fixture
def engine():
    return Engine()


def test_intermediate_timer_fires_when_the_platform_clock_reaches_it(engine):
    workflow = engine.start("timer_intermediate", {"application": {"due": "2031-03-04T09:00:00+08:00"}})
    due = dt.datetime(2031, 3, 4, 1, 0, tzinfo=dt.UTC)
    assert engine.runtime.next_timer_due(workflow) == due
    workflow, fired = engine.fire_at(workflow, due - dt.timedelta(microseconds=1))
    assert fired == [] and engine.ready(workflow) == []
    workflow, fired = engine.fire_at(workflow, due)  # reached, not passed: the scheduler's claim uses <=
    assert fired == ["到期"] and engine.ready(workflow) == ["after_timer"]
    assert engine.runtime.next_timer_due(workflow) is None
    workflow, fired = engine.fire_at(workflow, due + dt.timedelta(days=1))
    assert fired == []  # fired once


def test_a_naive_time_date_is_shanghai_time(engine):
    workflow = engine.start("timer_intermediate", {"application": {"due": "2031-03-04T09:00:00"}})
    assert engine.runtime.next_timer_due(workflow) == dt.datetime(2031, 3, 4, 1, 0, tzinfo=dt.UTC)


def test_durations_start_on_the_platform_clock_and_boundaries_interrupt_or_not(engine):
    workflow = engine.start("timer_boundary")
    assert engine.ready(workflow) == ["wait_for_window"]
    assert engine.runtime.next_timer_due(workflow) == START + dt.timedelta(hours=2)
    workflow, fired = engine.fire_at(workflow, START + dt.timedelta(hours=2))
    assert fired == ["两小时提醒"]
    assert engine.ready(workflow) == ["remind_window", "wait_for_window"]  # non-interrupting
    assert engine.runtime.next_timer_due(workflow) == START + dt.timedelta(days=3)
    workflow, fired = engine.fire_at(workflow, START + dt.timedelta(days=3))
    assert fired == ["三日超时"]
    assert engine.ready(workflow) == ["remind_window"]  # interrupting: the window task is gone
    engine.runtime.complete(workflow, engine.runtime.ready_user_tasks(workflow)[0].task_id, {"outcome": "accept"})
    assert engine.runtime.outcome(workflow).end_event in ("end_timed_out", "end_reminded")


def test_completing_the_task_cancels_its_boundary_timers(engine):
    workflow = engine.start("timer_boundary")
    task = engine.runtime.ready_user_tasks(workflow)[0]
    engine.runtime.complete(workflow, task.task_id, {"outcome": "accept"})
    assert engine.runtime.next_timer_due(workflow) is None and workflow.is_completed()


def test_deadline_timers_follow_the_item_clock(engine):
    workflow = engine.start("time_limit_review", {"project": {"code": "X"}})
    assert engine.runtime.next_timer_due(workflow) == engine.due["deadline_warning"]
    # the clock was stopped for three days: the deadline helpers now answer later
    engine.due = {name: value + dt.timedelta(days=3) for name, value in engine.due.items()}
    workflow = engine.reload(workflow)
    assert engine.runtime.retime_deadline_timers(workflow) == 2
    assert engine.runtime.next_timer_due(workflow) == START + dt.timedelta(days=9)
    workflow, fired = engine.fire_at(workflow, START + dt.timedelta(days=9))
    assert fired == ["时限预警"] and engine.ready(workflow) == ["review", "supervise_warning"]
    workflow, fired = engine.fire_at(workflow, START + dt.timedelta(days=12))
    assert fired == ["超期督办"]
    assert engine.ready(workflow) == ["review", "supervise_overdue", "supervise_warning"]


def test_a_fired_or_literal_timer_is_not_retimed(engine):
    workflow = engine.start("timer_intermediate", {"application": {"due": "2031-03-04T09:00:00+08:00"}})
    assert engine.runtime.retime_deadline_timers(workflow) == 0


def test_bad_timer_values_are_script_errors(engine):
    with pytest.raises(ScriptError):
        engine.start("timer_intermediate", {"application": {"due": "next tuesday"}})
    with pytest.raises(ScriptError):
        parse_instant("not a date")
    assert parse_instant("2031-W10-1T09:00") == dt.datetime(2031, 3, 3, 1, 0, tzinfo=dt.UTC)


def test_specs_use_platform_timers_and_stay_serializable():
    bundles = build_bundles(parse_deployment({"timers.bpmn": FIXTURE.read_bytes()}), 1)
    spec = bundles["timer_intermediate"].spec
    definition = spec.task_specs["wait_until_due"].event_definition
    assert type(definition) is PlatformTimeDateEventDefinition
    restored = _SERIALIZER.registry.restore(_SERIALIZER.registry.convert(definition))
    assert type(restored) is PlatformTimeDateEventDefinition and restored.expression == definition.expression
    both = MultipleEventDefinition([TimeDateEventDefinition("a", "'2031-01-01'"),
                                    DurationTimerEventDefinition("b", "'PT1H'")])

    class Holder:
        task_specs = {"x": type("Spec", (), {"event_definition": both})()}

    use_platform_clock(Holder)
    assert [type(d).__name__ for d in both.event_definitions] == [
        "PlatformTimeDateEventDefinition", "PlatformDurationTimerEventDefinition"]


def test_the_fixture_pattern_passes_the_deployment_rules():
    from engine.catalog import load_catalog
    from engine.forms import FormLibrary
    from engine.lint import LintContext, lint_deployment

    root = FIXTURE.parents[2]
    context = LintContext.of(load_catalog(root / "catalog"), FormLibrary(root / "forms"))
    assert lint_deployment(parse_deployment({"timers.bpmn": FIXTURE.read_bytes()}), context) == []

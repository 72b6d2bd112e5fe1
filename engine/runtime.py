"""Running one process instance: start, complete a user task, fire timers.

The runtime is stateless apart from its spec cache and script engine: the
caller loads a state, calls one operation and saves the state it gets back,
all inside one database transaction (see ``app.services.instances``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.util.task import TaskState

from .errors import EngineError, ScriptError, TaskStateError
from .sandbox import HelperFactory, make_script_engine
from .serializer import SERIALIZER_VERSION, dump_state, load_state
from .specs import SpecBundle, SpecCache
from .timers import parse_instant, retime_deadline_timers
from .walk import PlatformWorkflow

_ACTIVE = (TaskState.READY, TaskState.WAITING, TaskState.STARTED)


@dataclass(frozen=True)
class UserTaskView:
    """What the application needs to know of one ready user task."""

    task_id: str
    spec_name: str
    title: str
    lane: str | None
    process_id: str
    item_code: str | None
    form: str | None
    properties: dict

    @classmethod
    def of(cls, task) -> UserTaskView:
        """Describe a SpiffWorkflow task."""
        spec = task.task_spec
        properties = dict(spec.extensions.get("properties", {}))
        title, item_code = spec.bpmn_name or spec.name, properties.get("item_code")
        item = task.data.get(properties.get("item_data") or "item") if item_code is None else None
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            # A multi-instance review takes its item from its input data item (named by ``item_data``).
            item_code = item["code"]
            title = f"{title}：{item['name']}" if isinstance(item.get("name"), str) else title
        return cls(task_id=str(task.id), spec_name=spec.name, title=title,
                   lane=spec.lane, process_id=task.workflow.spec.name, item_code=item_code,
                   form=properties.get("formJsonSchemaFilename"), properties=properties)


@dataclass(frozen=True)
class Outcome:
    """How a finished instance ended: the id and name of its end event."""

    end_event: str | None
    end_name: str | None


class Runtime:
    """Operations on SpiffWorkflow instances with our specs and sandbox."""

    def __init__(self, specs: SpecCache, helpers: Mapping[str, Callable] | None = None,
                 data_helpers: Mapping[str, HelperFactory] | None = None,
                 clock: Callable[[], dt.datetime] | None = None):
        self.specs = specs
        self.script_engine = make_script_engine(helpers, data_helpers)
        self.script_engine.clock = clock  # timers read it (engine.timers); None: the wall clock

    def start(self, bundle: SpecBundle, data: Mapping[str, Any]) -> BpmnWorkflow:
        """Create an instance with start data and run it to its first wait."""
        workflow = PlatformWorkflow(bundle.spec, bundle.subprocess_specs, script_engine=self.script_engine)
        workflow.task_tree.data.update(data)
        start = workflow.get_next_task(state=TaskState.READY)
        if start is not None:
            start.data.update(data)
        self._advance(workflow)
        return workflow

    def load(self, state: str, spec_key: str, serializer_version: str = SERIALIZER_VERSION) -> BpmnWorkflow:
        """Restore a stored instance and re-attach the sandbox."""
        return load_state(state, self.specs.by_key(spec_key), serializer_version, self.script_engine)

    @staticmethod
    def dump(workflow: BpmnWorkflow) -> str:
        """Serialize an instance without its spec."""
        return dump_state(workflow)

    @staticmethod
    def ready_user_tasks(workflow: BpmnWorkflow) -> list[UserTaskView]:
        """Every ready manual task, in the workflow and its subprocesses."""
        return [UserTaskView.of(t) for t in workflow.get_tasks(state=TaskState.READY, manual=True)]

    def complete(self, workflow: BpmnWorkflow, task_id: str, data: Mapping[str, Any]) -> None:
        """Complete a ready user task with its (already validated) form data."""
        task = self.find_task(workflow, task_id)
        if task.state != TaskState.READY or not task.task_spec.manual:
            raise TaskStateError(f"task {task_id} is not ready ({TaskState.get_name(task.state)})",
                                 task_id=task_id)
        task.task_spec.add_data_from_form(task, dict(data))
        self._run(task.run)
        self._advance(workflow)

    def fire_timers(self, workflow: BpmnWorkflow) -> list[str]:
        """Let due timers fire and run what follows them; return the names of the timers that fired."""
        timers = [t for t in workflow.event_manager.tasks.values() if isinstance(
            t.task_spec.event_definition, (TimerEventDefinition, MultipleEventDefinition))]
        before = {t.id: repr(t._get_internal_data("event_value")) for t in timers}
        self._run(workflow.refresh_timers)
        fired = [t.task_spec.event_definition.name or t.task_spec.bpmn_id for t in timers
                 if t.state != TaskState.WAITING or t._get_internal_data("event_fired", False)
                 or before[t.id] not in ("None", repr(t._get_internal_data("event_value")))]
        self._advance(workflow)
        return fired

    def retime_deadline_timers(self, workflow: BpmnWorkflow) -> int:
        """Re-evaluate waiting ``deadline(...)`` timers after the item clock moved; return how many."""
        count = retime_deadline_timers(workflow)
        if count:
            self._run(workflow.refresh_timers)
            self._advance(workflow)
        return count

    @staticmethod
    def find_task(workflow: BpmnWorkflow, task_id: str):
        """Return a task by its id or raise ``TaskStateError``."""
        try:
            task = workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, KeyError, WorkflowException):
            task = None
        if task is None:
            raise TaskStateError(f"task {task_id} is not part of this instance", task_id=task_id)
        return task

    @staticmethod
    def next_timer_due(workflow: BpmnWorkflow) -> dt.datetime | None:
        """Earliest due time (UTC) of the instance's waiting timers, if any."""
        due = []
        for event in workflow.waiting_events():
            # TimeDateEventDefinition does not end in "TimerEventDefinition": match both names
            if event.event_type.endswith(("TimerEventDefinition", "TimeDateEventDefinition")) and event.value:
                due.append(parse_instant(event.value))
        return min(due) if due else None

    @staticmethod
    def element_marks(workflow: BpmnWorkflow) -> dict[str, list[str]]:
        """The BPMN element ids of the top level that are done and that are active (the diagram's marks).

        Only the top-level workflow's own task map is read (``workflow.tasks``), never the
        subprocesses': the diagram shows the top level.
        """
        done, active = set(), set()
        for task in workflow.tasks.values():
            bpmn_id = getattr(task.task_spec, "bpmn_id", None)
            if not bpmn_id:
                continue
            if task.state == TaskState.COMPLETED:
                done.add(bpmn_id)
            elif task.state in _ACTIVE:
                active.add(bpmn_id)
        return {"done": sorted(done - active), "active": sorted(active)}

    @staticmethod
    def outcome(workflow: BpmnWorkflow) -> Outcome | None:
        """The end event the top-level process finished in, or None while running."""
        if not workflow.is_completed():
            return None
        ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED, spec_class=EndEvent)
                if t.workflow is workflow]
        if not ends:
            return Outcome(None, None)
        last = max(ends, key=lambda t: t.last_state_change)
        return Outcome(last.task_spec.bpmn_id, last.task_spec.bpmn_name)

    def _advance(self, workflow: BpmnWorkflow) -> None:
        self._run(workflow.do_engine_steps)
        prune_finished_subprocesses(workflow)

    @staticmethod
    def _run(operation: Callable[[], Any]) -> None:
        try:
            operation()
        except EngineError:
            raise
        except WorkflowException as exc:
            cause = _engine_cause(exc)
            if isinstance(cause, EngineError):
                raise ScriptError(f"{exc}: {cause.message}") from exc
            raise EngineError(f"the process could not continue: {exc}") from exc


def _engine_cause(exc: BaseException) -> EngineError | None:
    """The first of our errors in an exception's chain (SpiffWorkflow may wrap it twice)."""
    return cause_of(exc, EngineError)


def cause_of(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """The first exception of ``kind`` in ``exc``'s chain: itself, SpiffWorkflow's ``exception``
    attribute, ``__cause__`` or ``__context__``, followed once each."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
    return None


def prune_finished_subprocesses(workflow: BpmnWorkflow) -> int:
    """Drop the task trees of call activities that have finished; return how many.

    A finished 补正 (correction) subprocess has handed its data back to the
    call activity task, and nothing reads its tasks again; keeping them would
    make every later save and load pay for every past correction loop.  The
    audit trail and the human task rows keep the history.
    """
    pruned = 0
    for task_id, subprocess in list(workflow.subprocesses.items()):
        if task_id not in workflow.subprocesses or not subprocess.is_completed():
            continue
        parent = subprocess.parent_workflow.tasks.get(task_id) if subprocess.parent_workflow else None
        if parent is not None and parent.state == TaskState.COMPLETED:
            workflow.delete_subprocess(parent)
            pruned += 1
    return pruned

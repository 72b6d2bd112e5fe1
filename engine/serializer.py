"""Compact workflow state: the task tree and data, with the spec referred to by key.

The stock serializer embeds the whole process spec in every save (more than
half of each state's bytes) and parses it again on every load.  Our converter
leaves the spec out; the caller stores the spec key next to the state and
hands the cached spec back on load.  Every state records ``SERIALIZER_VERSION``
so a later format can migrate older rows on read.
"""

from __future__ import annotations

import json
from functools import partial
from types import ModuleType
from typing import Any
from uuid import UUID

import orjson
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
)
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge

from .errors import StateFormatError
from .gateways import PLATFORM_GATEWAYS
from .specs import SpecBundle
from .timers import PLATFORM_TIMERS
from .walk import PlatformSubWorkflow, PlatformWorkflow

#: Our state format.  "hn-1": SpiffWorkflow 3.2 task tree, spec by key.
SERIALIZER_VERSION = "hn-1"
_SUPPORTED = {SERIALIZER_VERSION}


def _workflow_dict(converter, workflow) -> dict:
    """``WorkflowConverter.to_dict`` with its task loop written out (``_tasks_dict``): the same dict."""
    registry = converter.registry
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": _tasks_dict(converter, workflow.tasks),
        "root": str(workflow.task_tree.id),
    }


def _tasks_dict(converter, tasks: dict) -> dict:
    """What ``mapping_to_dict(tasks)`` gives, several times faster: the state dump's inner loop.

    The stock path goes through the registry for every task (a partial, a typename lookup, a
    property per parent, four ``str(UUID)`` per task).  This renders each id once and builds the
    stock ``TaskConverter``'s dict directly; a task of another class, or a registry whose task
    converter is not the stock one, or a dump outside encoder mode, takes the stock path.
    ``tests/unit/test_walk.py`` compares both texts at every step of every stage's flow.
    """
    registry = converter.registry
    if not registry._encoder_mode or not _stock_task_converter(registry):
        return converter.mapping_to_dict(tasks)
    # by the ids' integers: hashing an int is a C call, hashing a UUID a Python one (several per task)
    names, by_int = {}, {}
    for uid, task in tasks.items():
        names[uid.int], by_int[uid.int] = str(uid), task
    updated, deleted = DeepMerge.get_updated_keys, DeepMerge.get_deleted_keys
    convert = registry.convert
    out = {}
    for uid, task in tasks.items():
        name = names[uid.int]
        if task.__class__ is not Task:  # (the mapping is keyed by task id: key and "id" are the same text)
            out[name] = convert(task)
            continue
        parent_id = task._parent
        parent = by_int.get(parent_id.int) if parent_id is not None else None  # ``task.parent``: in its workflow
        if parent is None:
            data, delta, parent_name = task.data, {}, None
        else:
            mine, theirs = task.data, parent.data
            if mine == theirs:  # most tasks: no key of their own (a value unequal to itself, NaN, aside)
                delta = {"updates": {}, "deletions": []}
            else:
                delta = {"updates": updated(theirs, mine), "deletions": deleted(theirs, mine)}
            data, parent_name = {}, names[parent_id.int]
        internal = task.internal_data
        out[name] = {
            "id": name,
            "parent": parent_name,
            "children": [names.get(child.int) or str(child) for child in task._children],
            "last_state_change": task.last_state_change,
            "state": task.state,
            "task_spec": task.task_spec.name,
            "triggered": task.triggered,
            "internal_data": {} if not internal and internal.__class__ is dict else convert(internal),
            "data": data,
            "delta": delta,
            "typename": "Task",
        }
    return out


def _stock_task_converter(registry) -> bool:
    """Whether ``Task`` objects are written by SpiffWorkflow's own ``TaskConverter`` as ``"Task"``."""
    if registry.typenames.get(Task) != "Task":
        return False
    to_dict = registry.convert_to_dict.get("Task")
    bound = to_dict.args[1] if isinstance(to_dict, partial) and len(to_dict.args) == 2 else None
    return getattr(bound, "__func__", None) is TaskConverter.to_dict


class SpecByKeyWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its spec and subprocess specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        """Task tree, data, subprocesses and pending events; no specs."""
        dct = _workflow_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, bundle: SpecBundle | None = None) -> BpmnWorkflow:
        """Rebuild the workflow around the cached specs of ``bundle``."""
        if bundle is None:
            raise StateFormatError("a spec bundle is needed to restore a workflow")
        workflow = PlatformWorkflow(bundle.spec, bundle.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class PlatformSubWorkflowConverter(BpmnSubWorkflowConverter):
    """Restores a called process as a ``PlatformSubWorkflow`` (the fast task walks)."""

    def to_dict(self, workflow) -> dict:
        """``BpmnSubWorkflowConverter.to_dict`` over the fast task loop."""
        dct = _workflow_dict(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct

    def from_dict(self, dct, task, top_workflow):
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = PlatformSubWorkflow(spec, task.id, top_workflow, deserializing=True)
        subprocess.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=subprocess)
        subprocess.task_tree = subprocess.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(subprocess, dct)
        return subprocess


def _uuid(value: str):
    return UUID(value)


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecByKeyWorkflowConverter
    config[BpmnSubWorkflow] = PlatformSubWorkflowConverter
    for timer_class in PLATFORM_TIMERS:  # specs and timer events stay serializable
        config[timer_class] = TimerConditionalEventDefinitionConverter
    config.update(PLATFORM_GATEWAYS)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    # our workflow classes serialize under the stock type names: states stay readable both ways
    registry = serializer.registry
    registry.typenames[PlatformWorkflow] = registry.typenames[BpmnWorkflow]
    registry.typenames[PlatformSubWorkflow] = registry.typenames[BpmnSubWorkflow]
    return serializer


_SERIALIZER = _build_serializer()


def spec_registry():
    """The serializer's converter registry (SpiffWorkflow's workflow diff compares task specs with it)."""
    return _SERIALIZER.registry


#: orjson leaves these to ``_encode_other`` (the stock encoder's rules): dates and times keep their
#: registered form ({"typename": "datetime", ...}), so they come back as the same type.
_ORJSON_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS \
    | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def _encode_other(obj):
    """What SpiffWorkflow's JSON encoder does with a value JSON has no type for."""
    registry = _SERIALIZER.registry
    typename = registry.typenames.get(type(obj))
    if typename is not None:
        return registry.convert_to_dict[typename](obj)
    if callable(obj) or isinstance(obj, ModuleType):
        return None
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's state (without its spec) to a JSON string.

    orjson writes it (several times faster than ``json``); what it refuses (integers beyond 64
    bits) takes ``json``.  Task data is JSON from forms, decisions and sandboxed scripts; orjson
    would write a UUID object as a plain string and NaN as null, where ``json`` keeps them.
    """
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = _SERIALIZER.to_dict(workflow)
    finally:
        registry._encoder_mode = False
    try:
        text = orjson.dumps(dct, default=_encode_other, option=_ORJSON_OPTIONS).decode()
    except (orjson.JSONEncodeError, TypeError):
        text = None
    if text is None:
        registry._encoder_mode = True
        try:
            return json.dumps(dct, cls=_SERIALIZER._encoder_cls, ensure_ascii=False, separators=(",", ":"))
        finally:
            registry._encoder_mode = False
    return text


def load_state(state: str | bytes, bundle: SpecBundle, serializer_version: str = SERIALIZER_VERSION,
               script_engine: Any = None) -> BpmnWorkflow:
    """Restore a workflow from ``dump_state`` output; re-attach the script engine."""
    if serializer_version not in _SUPPORTED:
        raise StateFormatError(f"unknown workflow state format {serializer_version!r}")
    try:
        dct = orjson.loads(state)
    except orjson.JSONDecodeError:
        try:
            dct = json.loads(state)  # NaN and infinities, which only ``json`` writes and reads
        except ValueError as exc:
            raise StateFormatError(f"workflow state is not valid JSON: {exc}") from exc
    except ValueError as exc:
        raise StateFormatError(f"workflow state is not valid JSON: {exc}") from exc
    workflow = _SERIALIZER.from_dict(dct, bundle=bundle)
    if script_engine is not None:
        workflow.script_engine = script_engine
    return workflow

"""Compact workflow state: the task tree and data, with the spec referred to by key.

The stock serializer embeds the whole process spec in every save (more than
half of each state's bytes) and parses it again on every load.  Our converter
leaves the spec out; the caller stores the spec key next to the state and
hands the cached spec back on load.  Every state records ``SERIALIZER_VERSION``
so a later format can migrate older rows on read.
"""

from __future__ import annotations

import json
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.event_definition import TimerConditionalEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from .errors import StateFormatError
from .gateways import PLATFORM_GATEWAYS
from .specs import SpecBundle
from .timers import PLATFORM_TIMERS

#: Our state format.  "hn-1": SpiffWorkflow 3.2 task tree, spec by key.
SERIALIZER_VERSION = "hn-1"
_SUPPORTED = {SERIALIZER_VERSION}


class SpecByKeyWorkflowConverter(BpmnWorkflowConverter):
    """Converts a top-level workflow without its spec and subprocess specs."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict:
        """Task tree, data, subprocesses and pending events; no specs."""
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict, bundle: SpecBundle | None = None) -> BpmnWorkflow:
        """Rebuild the workflow around the cached specs of ``bundle``."""
        if bundle is None:
            raise StateFormatError("a spec bundle is needed to restore a workflow")
        workflow = self.target_class(bundle.spec, bundle.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(value: str):
    from uuid import UUID
    return UUID(value)


def _build_serializer() -> BpmnWorkflowSerializer:
    config = dict(SPIFF_CONFIG)
    config[BpmnWorkflow] = SpecByKeyWorkflowConverter
    for timer_class in PLATFORM_TIMERS:  # specs and timer events stay serializable
        config[timer_class] = TimerConditionalEventDefinitionConverter
    config.update(PLATFORM_GATEWAYS)
    return BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))


_SERIALIZER = _build_serializer()


def spec_registry():
    """The serializer's converter registry (SpiffWorkflow's workflow diff compares task specs with it)."""
    return _SERIALIZER.registry


def dump_state(workflow: BpmnWorkflow) -> str:
    """Serialize a workflow's state (without its spec) to a JSON string."""
    registry = _SERIALIZER.registry
    registry._encoder_mode = True
    try:
        dct = _SERIALIZER.to_dict(workflow)
        return json.dumps(dct, cls=_SERIALIZER._encoder_cls, ensure_ascii=False, separators=(",", ":"))
    finally:
        registry._encoder_mode = False


def load_state(state: str | bytes, bundle: SpecBundle, serializer_version: str = SERIALIZER_VERSION,
               script_engine: Any = None) -> BpmnWorkflow:
    """Restore a workflow from ``dump_state`` output; re-attach the script engine."""
    if serializer_version not in _SUPPORTED:
        raise StateFormatError(f"unknown workflow state format {serializer_version!r}")
    try:
        dct = json.loads(state)
    except ValueError as exc:
        raise StateFormatError(f"workflow state is not valid JSON: {exc}") from exc
    workflow = _SERIALIZER.from_dict(dct, bundle=bundle)
    if script_engine is not None:
        workflow.script_engine = script_engine
    return workflow

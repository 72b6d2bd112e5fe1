"""A parallel join that looks for its own tasks in its own workflow only.

SpiffWorkflow 3.2's parallel gateway decides whether it may fire by iterating
the workflow's whole task tree (``workflow.get_tasks(spec_name=...)``) each
time it is updated, and a waiting join is updated after every completed task.
With one branch per department and a multi-instance review in each, that walk
was a third of the engine's time.  A gateway's tasks all live in its own
workflow's task map (a process cannot contain itself), so this class reads
them from there; the decision itself is the stock one.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.serializer.default.task_spec import ParallelGatewayConverter
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.util.task import TaskState


class ScopedParallelGateway(ParallelGateway):
    """``parallelGateway`` whose join check scans its workflow's task map, not the tree."""

    def _check_threshold_unstructured(self, my_task) -> bool:
        waiting_inputs = set(self.inputs)

        def remove_ancestor(task) -> None:
            while task is not None:
                if task.task_spec in waiting_inputs:
                    waiting_inputs.remove(task.task_spec)
                    return
                task = task.parent

        for task in [t for t in my_task.workflow.tasks.values() if t.task_spec is self]:
            if task.is_descendant_of(my_task):
                remove_ancestor(task)  # first iteration of a loop: reached only after this join
            elif my_task.is_descendant_of(task):
                continue  # an earlier iteration of a loop
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return not waiting_inputs


#: Our task spec classes and the stock converters that serialize them.
PLATFORM_GATEWAYS = {ScopedParallelGateway: ParallelGatewayConverter}


def use_scoped_gateways(spec) -> object:
    """Turn a process spec's parallel gateways into scoped ones; return the spec."""
    for task_spec in spec.task_specs.values():
        if type(task_spec) is ParallelGateway:
            task_spec.__class__ = ScopedParallelGateway  # adds no state: a method override only
    return spec

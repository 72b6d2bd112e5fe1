"""A parallel join that looks for its own tasks in its own workflow only.

SpiffWorkflow 3.2's parallel gateway decides whether it may fire by iterating
the workflow's whole task tree (``workflow.get_tasks(spec_name=...)``) each
time it is updated, and a waiting join is updated after every completed task.
With one branch per department and a multi-instance review in each, that walk
was a third of the engine's time.  A gateway's tasks all live in its own
workflow's task map (a process cannot contain itself), so this class reads
them from there; the decision itself is the stock one.

``Task.is_descendant_of`` climbs the tree by recursion, one UUID lookup per
level, and the join asked it twice for each of its tasks; here the join's own
ancestors are collected once (a set of ids) and each other task climbs by a
plain loop.  The answers are the stock ones (``tests/unit/test_walk.py``).
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.serializer.default.task_spec import ParallelGatewayConverter
from SpiffWorkflow.bpmn.specs.defaults import ParallelGateway
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState


def ancestor_ids(task) -> set:
    """The ids of every ancestor of ``task`` in its workflow (``t.id in ancestor_ids(task)`` is
    ``task.is_descendant_of(t)``)."""
    tasks, ids, parent_id = task.workflow.tasks, set(), task._parent
    while parent_id is not None:
        ids.add(parent_id)
        parent = tasks.get(parent_id)
        parent_id = parent._parent if parent is not None else None
    return ids


def is_descendant(task, ancestor) -> bool:
    """``task.is_descendant_of(ancestor)`` by a loop over parent ids."""
    tasks, target, parent_id = task.workflow.tasks, ancestor.id, task._parent
    while parent_id is not None:
        if parent_id == target:
            return True
        parent = tasks.get(parent_id)
        if parent is None:
            return False
        parent_id = parent._parent
    return False


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

        mine = ancestor_ids(my_task)
        for task in [t for t in my_task.workflow.tasks.values() if t.task_spec is self]:
            if is_descendant(task, my_task):
                remove_ancestor(task)  # first iteration of a loop: reached only after this join
            elif task.id in mine:
                continue  # an earlier iteration of a loop
            elif task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return not waiting_inputs

    def _run_hook(self, my_task):
        """The stock merge of the branches' data, with the ancestor test done on a set of ids."""
        mine = ancestor_ids(my_task)
        other_tasks = [t for t in my_task.workflow.tasks.values() if t.task_spec == self
                       and t.has_state(TaskState.FINISHED_MASK) and t.id not in mine]
        for task in sorted(other_tasks, key=lambda t: t.last_state_change):
            DeepMerge.merge(my_task.data, task.parent.data)
            if task.has_state(TaskState.COMPLETED):
                task._drop_children(force=True)
        my_task._inherit_data()
        return True


#: Our task spec classes and the stock converters that serialize them.
PLATFORM_GATEWAYS = {ScopedParallelGateway: ParallelGatewayConverter}


def use_scoped_gateways(spec) -> object:
    """Turn a process spec's parallel gateways into scoped ones; return the spec."""
    for task_spec in spec.task_specs.values():
        if type(task_spec) is ParallelGateway:
            task_spec.__class__ = ScopedParallelGateway  # adds no state: a method override only
    return spec

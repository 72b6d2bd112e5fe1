"""Task-tree walks that do not walk the whole tree.

SpiffWorkflow 3.2 answers most questions about a workflow by iterating its task
tree from the root: every completed task updates every waiting task found by a
whole-tree walk (``Workflow.update_waiting_tasks``), every pass of
``do_engine_steps`` lists the ready tasks by another walk, and the ready user
tasks are a third.  Its iterator prepends each visited task's children to a list
(quadratic in the tree's size) and looks every parent up by UUID, so a stage
with a few hundred tasks spent most of its engine time walking.

``PlatformWorkflow`` and ``PlatformSubWorkflow`` answer the same questions from
the workflow's task map instead: they pick the matching tasks with one cheap
scan, drop those the stock iterator would not reach (below a predicted task,
whose subtree it does not enter), and put the rest in the stock iterator's
depth-first order by their path from the root.  Every result is the stock one,
in the stock order; ``tests/unit/test_walk.py`` compares them on every stage's
flow at every step.  Questions the shortcut does not cover (a start task, an
``end_at_spec``, a depth limit) go to the stock code.
"""

from __future__ import annotations

from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

_FAST_FILTERS = frozenset({"state", "manual", "spec_name", "spec_class", "lane"})
#: The stock iterators stop descending at depth 1000; deeper trees take the stock walk.
_MAX_DEPTH = 900


class _Fallback(Exception):
    """The shortcut cannot promise the stock answer: walk the stock way."""


def _min_state(mask: int) -> int:
    """The lowest state whose children the stock iterator visits, for a filter's state mask."""
    if mask & TaskState.PREDICTED_MASK:
        return TaskState.MAYBE
    if mask & TaskState.DEFINITE_MASK:
        return TaskState.FUTURE
    return TaskState.COMPLETED


def _path(task, tasks: dict, min_state: int) -> tuple[int, ...] | None:
    """The task's child-index path from its workflow's root, or None if the stock walk never reaches it."""
    path = []
    child = task
    parent_id = task._parent
    while parent_id is not None:
        parent = tasks.get(parent_id)
        if parent is None:
            raise _Fallback  # a task outside its own map: leave it to the stock walk
        if parent._state < min_state:
            return None  # the stock iterator does not enter a predicted task's subtree
        path.append(parent._children.index(child.id))
        child, parent_id = parent, parent._parent
        if len(path) > _MAX_DEPTH:
            raise _Fallback
    path.reverse()
    return tuple(path)


def _matches(task, state: int, manual, spec_name, spec_class, lane) -> bool:
    spec = task.task_spec
    return bool(task._state & state) \
        and (manual is None or spec.manual == manual) \
        and (spec_name is None or spec.name == spec_name) \
        and (spec_class is None or isinstance(spec, spec_class)) \
        and (lane is None or getattr(spec, "lane", None) == lane)


def _collect(workflow, prefix: tuple, min_state: int, criteria: tuple, descend: bool, out: list) -> None:
    """Append ``(order key, task)`` for every matching task the stock walk from ``workflow``'s root reaches."""
    tasks = workflow.tasks
    for task in tasks.values():
        if _matches(task, *criteria):
            path = _path(task, tasks, min_state)
            if path is not None:
                if len(prefix) + len(path) > _MAX_DEPTH:
                    raise _Fallback
                out.append((prefix + path, task))
    if not descend:
        return
    subprocesses = workflow.top_workflow.subprocesses
    for owner_id, subprocess in list(subprocesses.items()):
        owner = tasks.get(owner_id)
        if owner is None:
            continue  # another workflow's subprocess
        path = _path(owner, tasks, min_state)
        if path is None:
            continue
        # The stock iterator visits a subprocess's tree right after its owner task, before the owner's children.
        _collect(subprocess, prefix + path + (-1,), min_state, criteria, True, out)


def fast_tasks(workflow, descend: bool, state: int = TaskState.ANY_MASK, manual=None, spec_name=None,
               spec_class=None, lane=None) -> list:
    """The tasks ``get_tasks(**filters)`` returns, in its order, without walking the tree."""
    out: list = []
    _collect(workflow, (), _min_state(state), (state, manual, spec_name, spec_class, lane), descend, out)
    out.sort(key=lambda pair: pair[0])
    return [task for _, task in out]


class _FastWalks:
    """The shortcuts, shared by the top-level workflow and its subprocesses."""

    #: Subprocesses are entered by ``get_tasks`` (BpmnTaskIterator) but not by ``update_waiting_tasks``.
    def get_tasks(self, first_task=None, **kwargs):
        if first_task is None and kwargs.keys() <= _FAST_FILTERS and not kwargs.get("skip_subprocesses"):
            try:
                return fast_tasks(self, True, **kwargs)
            except _Fallback:
                pass
        return super().get_tasks(first_task, **kwargs)

    def update_waiting_tasks(self) -> None:
        try:
            waiting = fast_tasks(self, False, state=TaskState.WAITING)
        except _Fallback:
            super().update_waiting_tasks()
            return
        for task in waiting:
            # the stock walk checks each task's state when it reaches it: an earlier update may have
            # cancelled it (a join cancels its other waiting instances)
            if task._state == TaskState.WAITING:
                task.task_spec._update(task)


class PlatformSubWorkflow(_FastWalks, BpmnSubWorkflow):
    """A called process (call activity) with the fast walks."""


class PlatformWorkflow(_FastWalks, BpmnWorkflow):
    """The top-level workflow with the fast walks; its call activities get ``PlatformSubWorkflow``."""

    def create_subprocess(self, my_task, spec_name):
        subprocess = PlatformSubWorkflow(self.subprocess_specs[spec_name], parent_task_id=my_task.id,
                                         top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess

"""Comparing deployed versions and moving running instances between them.

``diff_files`` compares two file sets element by element (by BPMN id), per
process: what an analyst added, removed or changed, layout left aside.

``migration_blockers`` and ``migrate`` use SpiffWorkflow's own workflow diff
(``SpiffWorkflow.bpmn.util.diff``): task specs are aligned by id, and an
instance may move only when no task it has completed or is running (ready,
started, waiting, or in error) lies on a spec the new version removed or
changed.  Tasks still to come are predicted again from the new spec.
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from .lint import BPMN, NS, SPIFF
from .serializer import spec_registry
from .specs import SpecBundle, file_kind, read_xml

#: Task states that pin an instance to the specs of its tasks.
TOUCHED_STATES = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR
_SKIP_CHILDREN = {"incoming", "outgoing", "flowNodeRef", "extensionElements", "conditionExpression",
                  "documentation", "script", "timerEventDefinition"}


# ---------------------------------------------------------------- version diff

def describe_processes(files: Mapping[str, bytes]) -> dict[str, dict[str, dict]]:
    """Process id -> element id -> the element's comparable aspects."""
    processes: dict[str, dict[str, dict]] = {}
    for name in sorted(files):
        tree = read_xml(name, files[name])
        if file_kind(tree) == "dmn":
            for decision in tree.getroot().iter("{*}decision"):
                processes.setdefault(f"dmn:{decision.get('id')}", {})[decision.get("id")] = {
                    "type": "decision", "name": decision.get("name") or "",
                    "table": etree.tostring(decision, method="c14n").decode()}
            continue
        for process in tree.getroot().iterfind("bpmn:process", NS):
            processes[process.get("id")] = _describe_process(process)
    return processes


def _describe_process(process) -> dict[str, dict]:
    lanes = {}
    for lane in process.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            lanes[(ref.text or "").strip()] = lane.get("name") or ""
    elements = {}
    for node in process.iter():
        if not isinstance(node.tag, str) or node is process or not node.get("id"):
            continue
        if etree.QName(node).namespace != BPMN or etree.QName(node).localname in ("laneSet",):
            continue
        elements[node.get("id")] = _aspects(node, lanes.get(node.get("id")))
    return elements


def _aspects(node, lane: str | None) -> dict:
    """What an analyst can change on one element (its layout aside)."""
    texts = lambda path: [" ".join((n.text or "").split()) for n in node.iterfind(path, NS)]  # noqa: E731
    properties = {p.get("name"): p.get("value") for p in node.iterfind(
        "bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS)}
    extensions = {etree.QName(e).localname: " ".join((e.text or "").split())
                  for e in node.iterfind("bpmn:extensionElements/*", NS) if isinstance(e.tag, str)
                  and etree.QName(e).namespace == SPIFF and etree.QName(e).localname != "properties"}
    attributes = {k: v for k, v in sorted(node.attrib.items()) if k not in ("id", "name")}
    children = sorted(etree.QName(c).localname for c in node if isinstance(c.tag, str)
                      and etree.QName(c).localname not in _SKIP_CHILDREN and not c.get("id"))
    return {"type": etree.QName(node).localname, "name": node.get("name") or "", "lane": lane,
            "attributes": attributes, "properties": properties, "extensions": extensions,
            "condition": texts("bpmn:conditionExpression"), "script": texts("bpmn:script"),
            "timer": texts("bpmn:timerEventDefinition/*"), "documentation": texts("bpmn:documentation"),
            "definitions": children, "loop": {etree.QName(n).localname: " ".join((n.text or "").split())
                                              for n in node.iterfind("bpmn:multiInstanceLoopCharacteristics/*", NS)
                                              if isinstance(n.tag, str) and not n.get("id")},
            "incoming": sorted(texts("bpmn:incoming")),
            "outgoing": sorted(texts("bpmn:outgoing"))}


def _summary(element_id: str, aspects: dict) -> dict:
    return {"id": element_id, "type": aspects["type"], "name": aspects["name"]}


def diff_files(old: Mapping[str, bytes], new: Mapping[str, bytes]) -> dict:
    """Files and, per process, the elements added, removed and changed between two file sets."""
    before, after = describe_processes(old), describe_processes(new)
    processes = []
    for pid in sorted(set(before) | set(after)):
        a, b = before.get(pid, {}), after.get(pid, {})
        changed = [dict(_summary(i, b[i]), fields=[k for k in b[i] if a[i].get(k) != b[i][k]])
                   for i in sorted(set(a) & set(b)) if a[i] != b[i]]
        entry = {"id": pid, "status": "added" if pid not in before else "removed" if pid not in after
                 else "changed" if a != b else "unchanged",
                 "added": [_summary(i, b[i]) for i in sorted(set(b) - set(a))],
                 "removed": [_summary(i, a[i]) for i in sorted(set(a) - set(b))],
                 "changed": changed}
        processes.append(entry)
    files = {"added": sorted(set(new) - set(old)), "removed": sorted(set(old) - set(new)),
             "changed": sorted(n for n in set(old) & set(new) if old[n] != new[n])}
    return {"files": files, "processes": processes}


# ---------------------------------------------------------------- migration

def migration_blockers(workflow: BpmnWorkflow, bundle: SpecBundle) -> list[str]:
    """Why ``workflow`` cannot move to ``bundle`` (empty when it can)."""
    if workflow.spec.name != bundle.process_id:
        return [f"the instance runs process {workflow.spec.name!r}, not {bundle.process_id!r}"]
    top, subprocess_diffs = diff_workflow(spec_registry(), workflow, bundle.spec, bundle.subprocess_specs)
    reasons = _touched(top, workflow.spec.name)
    for sp_id, sp_diff in subprocess_diffs.items():
        name = workflow.subprocesses[sp_id].spec.name
        if sp_diff is None:
            reasons.append(f"subprocess {name!r} is running and is not in the new version")
        else:
            reasons.extend(_touched(sp_diff, name))
    return reasons


def _touched(diff, process_name: str) -> list[str]:
    reasons = []
    for kind, tasks in (("removed", diff.removed), ("changed", diff.changed)):
        for task in tasks:
            if task.state & TOUCHED_STATES:
                reasons.append(f"{process_name}: {task.task_spec.bpmn_id or task.task_spec.name} "
                               f"({TaskState.get_name(task.state)}) was {kind} in the new version")
    return sorted(set(reasons))


def migrate(workflow: BpmnWorkflow, bundle: SpecBundle) -> None:
    """Move ``workflow`` (and its running subprocesses) onto ``bundle``'s specs, in place.

    Only ready tasks are reset and predicted again; waiting tasks (timers,
    joins) keep their state, which the blockers guarantee is on unchanged specs.
    """
    reasons = migration_blockers(workflow, bundle)
    if reasons:
        raise ValueError("; ".join(reasons))
    top, subprocess_diffs = diff_workflow(spec_registry(), workflow, bundle.spec, bundle.subprocess_specs)
    for sp_id, sp_diff in subprocess_diffs.items():
        subprocess = workflow.subprocesses[sp_id]
        migrate_workflow(sp_diff, subprocess, bundle.subprocess_specs[subprocess.spec.name],
                         reset_mask=TaskState.READY)
    migrate_workflow(top, workflow, bundle.spec, reset_mask=TaskState.READY)
    workflow.subprocess_specs = dict(bundle.subprocess_specs)


def list_contents(files: Mapping[str, bytes]) -> list[dict]:
    """Each file of a set with its kind and the processes or decisions it defines."""
    contents = []
    for name in sorted(files):
        tree = read_xml(name, files[name])
        kind = file_kind(tree)
        tag = "{*}decision" if kind == "dmn" else f"{{{BPMN}}}process"
        defined = [{"id": n.get("id"), "name": n.get("name") or ""} for n in tree.getroot().iter(tag)]
        contents.append({"path": name, "kind": kind, "defines": defined})
    return contents

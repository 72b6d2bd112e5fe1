"""The structural deployment rules: the sequence-flow graph of every process and subprocess.

The rules (``reachable``, ``outgoing``, ``dead_end``, ``implicit_split``,
``join``, ``boundary``) are described in :mod:`engine.lint`.  Each scope (a
process, or a subprocess inside it) is checked on its own: its start and end
events are its own.  Dominators (Cooper, Harvey and Kennedy's iterative
algorithm) tell which split a join's branches came from.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from ._common import BPMN, NS, problem
from ._common import local as _local

_ACTIVITIES = frozenset({"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask",
                         "receiveTask", "businessRuleTask", "callActivity", "subProcess", "transaction",
                         "adHocSubProcess"})
_GATEWAYS = frozenset({"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway",
                       "complexGateway"})
_EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                     "boundaryEvent"})
_SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})
_ROOT = "\0start"


def _names(node) -> str:
    return node.get("name") or node.get("id") or "?"


def lint_structure(process, file) -> list[dict]:
    """The structural findings of one process and every subprocess inside it."""
    problems = []
    for scope in [process, *process.iter(*(f"{{{BPMN}}}{k}" for k in _SCOPES - {"process"}))]:
        if _local(scope) == "adHocSubProcess":
            continue  # an ad hoc subprocess has no sequence-flow discipline
        problems.extend(_FlowGraph(scope, file).problems())
    return problems


class _FlowGraph:
    """The flow nodes and sequence flows directly inside one scope."""

    def __init__(self, scope, file):
        self.scope, self.file = scope, file
        self.nodes = {}
        for child in scope:
            if not isinstance(child.tag, str) or etree.QName(child).namespace != BPMN:
                continue
            kind = _local(child)
            if kind in _ACTIVITIES | _GATEWAYS | _EVENTS and child.get("id"):
                self.nodes[child.get("id")] = child
        self.flows = [f for f in scope.iterfind("bpmn:sequenceFlow", NS)]
        self.out = {n: [] for n in self.nodes}
        self.into = {n: [] for n in self.nodes}
        for flow in self.flows:
            source, target = flow.get("sourceRef"), flow.get("targetRef")
            if source in self.nodes and target in self.nodes:
                self.out[source].append(flow)
                self.into[target].append(flow)
        self.succ = {n: [f.get("targetRef") for f in self.out[n]] for n in self.nodes}
        links = {}
        for nid, node in self.nodes.items():
            if _local(node) == "intermediateCatchEvent" and node.find("bpmn:linkEventDefinition", NS) is not None:
                links.setdefault(_link_name(node), []).append(nid)
        for nid, node in self.nodes.items():
            if _local(node) == "boundaryEvent" and node.get("attachedToRef") in self.nodes:
                self.succ[node.get("attachedToRef")].append(nid)
            if _local(node) == "intermediateThrowEvent" and node.find("bpmn:linkEventDefinition", NS) is not None:
                self.succ[nid].extend(links.get(_link_name(node), []))
        self.ignored = {nid for nid, node in self.nodes.items() if _exempt(node)}

    def kind(self, nid) -> str:
        return _local(self.nodes[nid])

    def problems(self) -> Iterator[dict]:
        yield from self._boundary()
        yield from self._outgoing_and_splits()
        reached = self._reachable()
        yield from self._unreachable(reached)
        yield from self._dead_ends(reached)
        yield from self._joins(reached)

    def _starts(self) -> list[str]:
        starts = [n for n in self.nodes if self.kind(n) == "startEvent" and n not in self.ignored]
        if not starts:  # link catch events with no incoming flow are entry points of their own
            starts = [n for n in self.nodes if not self.into[n] and self.kind(n) == "intermediateCatchEvent"]
        return starts

    def _reachable(self) -> set[str]:
        seen, todo = set(), self._starts()
        while todo:
            nid = todo.pop()
            if nid not in seen:
                seen.add(nid)
                todo.extend(self.succ[nid])
        return seen

    def _boundary(self) -> Iterator[dict]:
        for nid, node in self.nodes.items():
            if self.kind(nid) != "boundaryEvent":
                continue
            host = node.get("attachedToRef")
            if host not in self.nodes or self.kind(host) not in _ACTIVITIES:
                yield problem("boundary", self.file, node, f"边界事件所附着的活动 {host!r} 不存在",
                              f"boundary event is attached to {host!r}, which is no activity of its process")

    def _outgoing_and_splits(self) -> Iterator[dict]:
        for nid, node in self.nodes.items():
            kind, flows = self.kind(nid), self.out[nid]
            if nid in self.ignored or kind == "endEvent":
                continue
            if not flows and not _is_link_throw(node):
                yield problem("outgoing", self.file, node, f"“{_names(node)}”没有出口顺序流，流程会停在这里",
                              f"{_names(node)!r} has no outgoing sequence flow: the instance would stop here")
            if len(flows) > 1 and kind not in _GATEWAYS:
                yield problem("implicit_split", self.file, node,
                              f"“{_names(node)}”有 {len(flows)} 条出口顺序流（隐式分支），请改用网关",
                              f"{_names(node)!r} has {len(flows)} outgoing flows (an implicit split); use a gateway")

    def _unreachable(self, reached) -> Iterator[dict]:
        lost = [n for n in self.nodes if n not in reached and n not in self.ignored]
        if not lost:
            return
        if not self._starts():
            yield problem("reachable", self.file, self.scope, "流程（或子流程）没有开始事件",
                          "the process (or subprocess) has no start event")
            return
        covered = set()
        roots = [n for n in lost if not any(f.get("sourceRef") in lost for f in self.into[n])]
        for root in roots + [n for n in lost]:  # loops cut off from the rest have no root: report them too
            if root in covered:
                continue
            region = self._closure(root, lost)
            covered |= region
            node = self.nodes[root]
            yield problem("reachable", self.file, node,
                          f"从开始事件无法到达“{_names(node)}”" + (f"（其后还有 {len(region) - 1} 个元素同样无法到达）"
                                                                  if len(region) > 1 else ""),
                          f"{_names(node)!r} cannot be reached from a start event"
                          + (f" (nor can {len(region) - 1} element(s) after it)" if len(region) > 1 else ""))

    def _closure(self, start, within) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            nid = todo.pop()
            if nid in within and nid not in seen:
                seen.add(nid)
                todo.extend(self.succ[nid])
        return seen

    def _dead_ends(self, reached) -> Iterator[dict]:
        pred = {n: [] for n in self.nodes}
        for nid, targets in self.succ.items():
            for target in targets:
                pred[target].append(nid)
        stops = [n for n in self.nodes if self.kind(n) == "endEvent" or _is_link_throw(self.nodes[n])]
        stuck_roots = [n for n in reached if not self.succ[n] and n not in stops]
        finishing = self._backwards(stops, pred)
        explained = self._backwards(stuck_roots, pred)
        trapped = [n for n in self.nodes if n in reached and n not in finishing and n not in explained]
        seen = set()
        for nid in trapped:
            if nid in seen:
                continue
            loop = self._closure(nid, set(trapped))
            seen |= loop
            node = self.nodes[nid]
            yield problem("dead_end", self.file, node,
                          f"从“{_names(node)}”出发的路径都到不了结束事件（无出口的循环）",
                          f"no path from {_names(node)!r} reaches an end event (a loop with no way out)")

    def _backwards(self, targets, pred) -> set[str]:
        seen, todo = set(), list(targets)
        while todo:
            nid = todo.pop()
            if nid not in seen:
                seen.add(nid)
                todo.extend(pred[nid])
        return seen

    def _joins(self, reached) -> Iterator[dict]:
        idom = self._dominators(reached)
        for nid in reached:
            kind = self.kind(nid)
            if kind not in ("parallelGateway", "exclusiveGateway"):
                continue
            sources = [f.get("sourceRef") for f in self.into[nid] if f.get("sourceRef") in reached
                       and not self._dominates(idom, nid, f.get("sourceRef"))]  # loop-back flows aside
            if len(sources) < 2:
                continue
            splits = {self._common_dominator(idom, [a, b]) for i, a in enumerate(sources) for b in sources[i + 1:]}
            splits.discard(None)
            splits.discard(_ROOT)
            clash = _ALTERNATIVES if kind == "parallelGateway" else {"parallelGateway"}
            wrong = sorted(s for s in splits if self.kind(s) in clash)
            if not wrong:
                continue
            split = wrong[0]
            split_kind = self.kind(split)
            node = self.nodes[nid]
            if kind == "parallelGateway":
                yield problem("join", self.file, node,
                              f"并行汇聚“{_names(node)}”的分支来自{_GATEWAY_ZH[split_kind]}“{_names(self.nodes[split])}”"
                              "的互斥分支，永远等不齐，请用同类网关汇聚",
                              f"parallel join {_names(node)!r} merges alternative branches of "
                              f"{split_kind} {_names(self.nodes[split])!r}: it would wait forever")
            else:
                yield problem("join", self.file, node,
                              f"排他汇聚“{_names(node)}”合并了并行分支“{_names(self.nodes[split])}”，"
                              "其后的流程会按分支数重复执行，请用并行网关汇聚",
                              f"exclusive merge {_names(node)!r} merges the parallel branches of "
                              f"{_names(self.nodes[split])!r}: the rest would run once per branch")

    def _dominators(self, reached) -> dict[str, str]:
        """Immediate dominators over the reached nodes, from a virtual root before every start."""
        order, seen = [], set()

        def visit(nid):  # iterative depth-first post-order
            stack = [(nid, iter(self.succ[nid]))]
            seen.add(nid)
            while stack:
                current, children = stack[-1]
                for child in children:
                    if child not in seen:
                        seen.add(child)
                        stack.append((child, iter(self.succ[child])))
                        break
                else:
                    order.append(current)
                    stack.pop()
        for start in self._starts():
            if start not in seen:
                visit(start)
        order.append(_ROOT)
        rpo = list(reversed(order))
        index = {n: i for i, n in enumerate(rpo)}
        pred = {n: [] for n in rpo}
        for start in self._starts():
            pred[start].append(_ROOT)
        for nid in rpo[1:]:
            for target in self.succ[nid]:
                if target in pred:
                    pred[target].append(nid)
        idom = {_ROOT: _ROOT}
        changed = True
        while changed:
            changed = False
            for nid in rpo[1:]:
                done = [p for p in pred[nid] if p in idom]
                if not done:
                    continue
                new = done[0]
                for other in done[1:]:
                    new = _intersect(idom, index, new, other)
                if idom.get(nid) != new:
                    idom[nid], changed = new, True
        return idom

    def _dominates(self, idom, a, b) -> bool:
        while b in idom and b != _ROOT:
            if b == a:
                return True
            b = idom[b]
        return a == b

    def _common_dominator(self, idom, nodes) -> str | None:
        chains = []
        for nid in nodes:
            chain, current = [], nid
            while current in idom:
                chain.append(current)
                if current == _ROOT:
                    break
                current = idom[current]
            chains.append(chain)
        common = set(chains[0]).intersection(*map(set, chains[1:]))
        return next((n for n in chains[0] if n in common), None)


_ALTERNATIVES = frozenset({"exclusiveGateway", "inclusiveGateway", "eventBasedGateway"})
_GATEWAY_ZH = {"exclusiveGateway": "排他网关", "inclusiveGateway": "包容网关", "eventBasedGateway": "事件网关"}


def _intersect(idom, index, a, b):
    while a != b:
        while index[a] > index[b]:
            a = idom[a]
        while index[b] > index[a]:
            b = idom[b]
    return a


def _link_name(node) -> str:
    definition = node.find("bpmn:linkEventDefinition", NS)
    return (definition.get("name") or node.get("name") or "").strip()


def _is_link_throw(node) -> bool:
    return _local(node) == "intermediateThrowEvent" and node.find("bpmn:linkEventDefinition", NS) is not None


def _exempt(node) -> bool:
    """Nodes outside the sequence-flow discipline: event subprocesses and compensation handlers."""
    kind = _local(node)
    if kind in _SCOPES and node.get("triggeredByEvent") == "true":
        return True
    if node.get("isForCompensation") == "true":
        return True
    return kind == "boundaryEvent" and node.find("bpmn:compensateEventDefinition", NS) is not None

"""Our own deployment rules, checked on a parsed deployment before it is built.

XSD validation and SpiffWorkflow's parser accept many models that break at run
time on this platform.  :func:`lint_deployment` looks at the XML of a parsed
deployment and returns every finding as a problem ``{rule, file, element, line,
message}``; a deployment with any problem is refused.  The rules:

``lane_role``
    every lane's name is a known role code, and every user task lies in a lane.
``form``
    every user task names a form (``formJsonSchemaFilename``) that exists; a
    start event's ``applicationFormSchemaFilename``, when given, exists too.
``item``
    every department review (a user task whose lane is not ``window``,
    ``applicant`` or ``intermediary``) names a catalogue item (``item_code``), or
    names with ``item_data`` the task data item that holds its item ``{code, name}``
    (a multi-instance review over decided items), or says with ``review`` =
    ``planning`` that it gives a department's planning opinion (项目策划生成), which
    reviews a proposal, not an item; every ``item_code`` given anywhere resolves
    in the catalogue.
``gateway``
    an exclusive or inclusive gateway with more than one outgoing flow, or with
    a conditional one, has a default flow; every other outgoing flow has a
    condition.  Whether a set of conditions covers every case cannot be proved
    in general, so a default flow is required: without one, a case that no
    condition matches stops the instance at run time.
``expression``
    gateway conditions, timer expressions, scripts (script tasks, pre- and
    post-scripts) and DMN cells compile in the sandbox; an unquoted ISO 8601
    literal in a timer (``PT1H`` instead of ``'PT1H'``) is refused.
``call_activity``
    every call activity names a process of the same deployment.
``decision``
    every business rule task names (``spiffworkflow:calledDecisionId``) a DMN
    decision of the same deployment.
``extension``
    every ``spiffworkflow:*`` element is one SpiffWorkflow reads: the parser
    silently ignores a misspelt one, losing what the analyst meant.

The structural rules look at the sequence flows of each process and each
(sub)process inside it, as its own scope with its own start and end events
(event subprocesses, compensation handlers and link events are understood):

``reachable``
    every flow node can be reached from a start event of its scope; the first
    unreachable node of a region is reported with how many follow it.
``outgoing``
    every flow node except an end event has an outgoing sequence flow.
``dead_end``
    every path reaches an end event: a loop with no way out is refused (a node
    without outgoing flow is reported by ``outgoing`` only, not along its path).
``implicit_split``
    a task, subprocess or event has at most one outgoing sequence flow: several
    are an implicit parallel split (conditional ones an implicit inclusive
    split); branch with a gateway instead.
``join``
    joins match their splits: the branches entering a parallel join diverged at
    a parallel split (alternatives from an exclusive, inclusive or event-based
    gateway never all arrive and the join waits forever), and the branches
    entering an exclusive merge were not split in parallel (the rest of the flow
    would run once per branch).  Loop-back flows are left out of this analysis.
``boundary``
    a boundary event is attached (``attachedToRef``) to an activity of its own
    scope.

Messages are Chinese with the English in brackets.  Nothing here imports the
application: the caller passes the known roles, items and forms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..sandbox import check_expression
from ._common import BPMN, NS, SPIFF, problem
from ._common import local as _local
from .structure import lint_structure

__all__ = ["BPMN", "NS", "SPIFF", "LintContext", "check_form_schema", "lint_deployment",
           "lint_structure", "problem"]

#: ``spiffworkflow:*`` element names SpiffWorkflow 3.2 declares or reads.
KNOWN_EXTENSIONS = frozenset({
    "calledDecisionId", "instructionsForEndUser", "messagePayload", "messageVariable", "parameter",
    "parameters", "payloadExpression", "postScript", "preScript", "properties", "property", "retry",
    "serviceTaskOperator", "unitTest", "unitTests", "inputJson", "expectedOutputJson", "variableName",
    "taskMetadataValues", "taskMetadataValue", "processVariableCorrelation", "propertyId", "expression",
    "signalButtonLabel", "allowGuest", "guestConfirmation",
})
#: Lanes whose user tasks are not department reviews of a catalogue item.
FRONT_OFFICE = frozenset({"window", "applicant", "intermediary"})
#: The ``review`` property of a department's opinion on a planning proposal (no catalogue item).
PLANNING_REVIEW = "planning"
_UNQUOTED_ISO = re.compile(r"^\s*(R\d*/)?P(\d|T\d)[0-9YMWDTHS.,]*\s*$|^\s*\d{4}-\d\d-\d\dT")
_QUESTION = re.compile(r"(\?)(?=(?:[^'\"]|['\"][^'\"]*['\"])*$)")


@dataclass(frozen=True)
class LintContext:
    """What a deployment may refer to: role codes, item codes, form file names."""

    roles: frozenset[str]
    items: frozenset[str]
    forms: frozenset[str]
    front_office: frozenset[str] = FRONT_OFFICE

    @classmethod
    def of(cls, catalog, forms) -> LintContext:
        """Build a context from a catalogue and a form library."""
        return cls(roles=frozenset(catalog.roles), items=frozenset(i.code for i in catalog.items),
                   forms=frozenset(forms.names()))


def _text(node) -> str:
    return (node.text or "").strip() if node is not None else ""


def lint_deployment(parser, context: LintContext) -> list[dict]:
    """Every finding of our rules on a parsed deployment (``engine.specs.parse_deployment``)."""
    process_ids = set(parser.process_parsers)
    decisions = set(getattr(parser, "dmn_parsers", {}))
    problems: list[dict] = []
    documents = {}
    for pp in parser.process_parsers.values():
        documents.setdefault(pp.filename, pp.node.getroottree().getroot())
        problems.extend(_lint_process(pp.node, pp.filename, context, process_ids, decisions))
        problems.extend(lint_structure(pp.node, pp.filename))
    for name, root in sorted(documents.items(), key=lambda kv: str(kv[0])):
        problems.extend(_lint_extensions(root, name))
    for dmn in getattr(parser, "dmn_parsers", {}).values():
        problems.extend(_lint_dmn(dmn.node, dmn.filename))
    return problems


def _lint_process(process, file, context, process_ids, decisions) -> Iterator[dict]:
    lanes = _lanes(process)
    yield from _lint_lanes(process, file, context)
    for task in process.iterfind(".//bpmn:userTask", NS):
        yield from _lint_user_task(task, file, context, lanes.get(task.get("id")), bool(lanes))
    for start in process.iterfind(".//bpmn:startEvent", NS):
        form = _properties(start).get("applicationFormSchemaFilename")
        if form is not None and form not in context.forms:
            yield problem("form", file, start, f"申请表单 {form!r} 不存在", f"application form {form!r} does not exist")
    yield from _lint_items(process, file, context)
    for gateway in _gateways(process):
        yield from _lint_gateway(gateway, process, file)
    yield from _lint_expressions(process, file)
    for call in process.iterfind(".//bpmn:callActivity", NS):
        called = call.get("calledElement") or ""
        if called not in process_ids:
            yield problem("call_activity", file, call, f"调用活动引用的流程 {called!r} 不在本次部署中",
                          f"call activity names process {called!r}, which is not in this deployment")
    for task in process.iterfind(".//bpmn:businessRuleTask", NS):
        decision = _text(task.find("bpmn:extensionElements/spiffworkflow:calledDecisionId", NS))
        if decision not in decisions:
            yield problem("decision", file, task, f"业务规则任务引用的决策 {decision!r} 不在本次部署中",
                          f"business rule task names decision {decision!r}, which is not in this deployment")


def _lanes(process) -> dict[str, str]:
    """Flow node id -> name of the innermost lane holding it."""
    holder = {}
    for lane in process.iterfind(".//bpmn:lane", NS):  # document order: inner lanes come later
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            holder[_text(ref)] = (lane.get("name") or "").strip()
    return holder


def _lint_lanes(process, file, context) -> Iterator[dict]:
    for lane in process.iterfind(".//bpmn:lane", NS):
        name = (lane.get("name") or "").strip()
        if name not in context.roles:
            yield problem("lane_role", file, lane, f"泳道名称 {name!r} 不是已知的角色代码",
                          f"lane name {name!r} is not a known role code")


def _properties(node) -> dict[str, str]:
    found = {}
    for prop in node.iterfind("bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property", NS):
        found[prop.get("name") or ""] = (prop.get("value") or "").strip()
    return found


def _lint_user_task(task, file, context, lane, has_lanes) -> Iterator[dict]:
    properties = _properties(task)
    if lane is None:
        yield problem("lane_role", file, task, "用户任务不在任何泳道中，无法派发",
                      "user task lies in no lane and cannot be routed" if has_lanes
                      else "the process has no lanes, so its user task cannot be routed")
    form = properties.get("formJsonSchemaFilename")
    if not form:
        yield problem("form", file, task, "用户任务未指定表单 formJsonSchemaFilename",
                      "user task names no form (formJsonSchemaFilename)")
    elif form not in context.forms:
        yield problem("form", file, task, f"表单 {form!r} 不存在", f"form {form!r} does not exist")
    if (lane is not None and lane not in context.front_office and not properties.get("item_code")
            and not properties.get("item_data") and properties.get("review") != PLANNING_REVIEW):
        yield problem("item", file, task, f"部门审查任务（泳道 {lane}）未指定事项 item_code",
                      f"department review in lane {lane!r} names no catalogue item (item_code)")
    for zh, en in forecast_problems(properties):
        yield problem("forecast", file, task, zh, en)


def forecast_problems(properties: dict[str, str]) -> list[tuple[str, str]]:
    """What is wrong with a task's forecast figures (``forecast_days``, ``forecast_p90_days``,
    ``forecast_outcomes``), as (Chinese, English) messages; the analyst's input must parse."""
    out = []
    number = {}
    for name in ("forecast_days", "forecast_p90_days"):
        raw = properties.get(name)
        if raw in (None, ""):
            continue
        try:
            number[name] = float(raw)
        except ValueError:
            number[name] = float("nan")
        if not (number[name] > 0 and number[name] < 10_000):
            out.append((f"预测用时 {name}={raw!r} 应为正数（工作日）",
                        f"{name}={raw!r} must be a positive number of working days"))
    if "forecast_p90_days" in number and "forecast_days" not in number:
        out.append(("填写了 forecast_p90_days 但没有 forecast_days",
                    "forecast_p90_days is given without forecast_days"))
    elif number.get("forecast_p90_days", float("inf")) < number.get("forecast_days", 0):
        out.append(("forecast_p90_days 不能小于 forecast_days", "forecast_p90_days cannot be below forecast_days"))
    raw = properties.get("forecast_outcomes")
    if raw:
        try:
            shares = [float(part.partition(":")[2]) for part in raw.split(",")]
            names_ok = all(part.partition(":")[0].strip() and ":" in part for part in raw.split(","))
        except ValueError:
            shares, names_ok = [], False
        if not names_ok or not shares or any(not 0 <= v <= 1 for v in shares) or abs(sum(shares) - 1) > 0.01:
            out.append((f"结论概率 forecast_outcomes={raw!r} 应写成 approve:0.9,correct:0.1（合计为 1）",
                        f"forecast_outcomes={raw!r} must read like approve:0.9,correct:0.1 (shares adding up to 1)"))
    return out


def _lint_items(process, file, context) -> Iterator[dict]:
    for prop in process.iterfind(".//spiffworkflow:property[@name='item_code']", NS):
        code = (prop.get("value") or "").strip()
        if code and code not in context.items:
            yield problem("item", file, prop, f"事项 {code!r} 不在事项目录中",
                          f"item {code!r} is not in the catalogue")


def _gateways(process) -> Iterable:
    yield from process.iterfind(".//bpmn:exclusiveGateway", NS)
    yield from process.iterfind(".//bpmn:inclusiveGateway", NS)


def _lint_gateway(gateway, process, file) -> Iterator[dict]:
    gid, default = gateway.get("id"), gateway.get("default")
    container = gateway.getparent()  # the process, or the subprocess that holds the gateway
    outgoing = [f for f in container.iterfind("bpmn:sequenceFlow", NS) if f.get("sourceRef") == gid]
    conditional = [f for f in outgoing if f.find("bpmn:conditionExpression", NS) is not None]
    if (len(outgoing) > 1 or conditional) and not default:
        yield problem("gateway", file, gateway, "分支网关没有默认流：无法证明条件覆盖所有情况，请设默认流",
                      "gateway has no default flow: its conditions cannot be proved to cover every case")
    if default and default not in {f.get("id") for f in outgoing}:
        yield problem("gateway", file, gateway, f"默认流 {default!r} 不是该网关的出口",
                      f"default flow {default!r} does not leave this gateway")
    for flow in outgoing:
        if len(outgoing) > 1 and flow.get("id") != default and flow not in conditional:
            yield problem("gateway", file, flow, "网关的非默认出口没有条件",
                          "a flow leaving the gateway has neither a condition nor the default mark")


def _lint_expressions(process, file) -> Iterator[dict]:
    for cond in process.iterfind(".//bpmn:conditionExpression", NS):
        yield from _compile(cond, file, "条件", "condition", "eval")
    for timer in process.iterfind(".//bpmn:timerEventDefinition", NS):
        for kind in ("timeDate", "timeDuration", "timeCycle"):
            for node in timer.iterfind(f"bpmn:{kind}", NS):
                if _UNQUOTED_ISO.match(_text(node)):
                    yield problem("expression", file, node, f"定时表达式 {_text(node)!r} 缺少引号",
                                  f"timer expression {_text(node)!r} is Python: quote ISO literals")
                else:
                    yield from _compile(node, file, "定时表达式", "timer expression", "eval")
    for script in process.iterfind(".//bpmn:scriptTask/bpmn:script", NS):
        yield from _compile(script, file, "脚本", "script", "exec")
    for name in ("preScript", "postScript"):
        for script in process.iterfind(f".//bpmn:extensionElements/spiffworkflow:{name}", NS):
            yield from _compile(script, file, name, name, "exec")


def _compile(node, file, zh: str, en: str, mode: str) -> Iterator[dict]:
    source = _text(node)
    if not source:
        yield problem("expression", file, node, f"{zh}为空", f"empty {en}")
        return
    reason = check_expression(source, mode)
    if reason is not None:
        yield problem("expression", file, node, f"{zh}无法在沙箱中编译：{reason}",
                      f"{en} does not compile in the sandbox")


def _lint_extensions(root, file) -> Iterator[dict]:
    for node in root.iter(f"{{{SPIFF}}}*"):
        if _local(node) not in KNOWN_EXTENSIONS:
            yield problem("extension", file, node, f"未知的扩展元素 spiffworkflow:{_local(node)}（拼写错误？）",
                          f"unknown extension element spiffworkflow:{_local(node)}; SpiffWorkflow ignores it")


def _lint_dmn(root, file) -> Iterator[dict]:
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        name, parent = _local(node), node.getparent()
        if name != "text" or parent is None:
            continue
        kind = _local(parent)
        source = _text(node)
        if kind in ("inputExpression", "outputEntry") and source and source != "-":
            yield from _compile(node, file, "决策表达式", "decision expression", "eval")
        elif kind == "inputEntry" and source and source != "-":
            yield from _lint_input_entry(node, file, source)


def _lint_input_entry(node, file, source: str) -> Iterator[dict]:
    """Input entries are compared as SpiffWorkflow does: ``?`` stands for the input."""
    replaced = _QUESTION.sub("dmninputexpr", source)
    candidates = [replaced] if "dmninputexpr" in replaced else [f"v == ({source})", f"v {source}"]
    if all(check_expression(c) is not None for c in candidates):
        yield problem("expression", file, node, f"决策表条件 {source!r} 无法在沙箱中编译",
                      f"decision table entry {source!r} does not compile in the sandbox")


def check_form_schema(schema) -> list[str]:
    """Why an edited form is not a usable JSON Schema (2020-12 object schema); empty when it is."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    if not isinstance(schema, dict):
        return ["表单必须是 JSON 对象（a form is a JSON object）"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return [f"不是有效的 JSON Schema：{exc.message}（not a valid JSON Schema）"]
    if schema.get("type") != "object":
        return ["表单的顶层类型必须是 object（the top-level type must be object）"]
    return []

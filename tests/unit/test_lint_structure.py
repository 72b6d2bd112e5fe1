"""The structural deployment rules (engine/lint/structure.py): one broken model per rule.

The shipped flows and MIWG-style valid models (tests/fixtures/miwg: sequences,
exclusive and parallel blocks, loops, subprocesses with boundary and event
subprocesses, event-based gateways, link events, compensation) find nothing.
"""

from pathlib import Path

import pytest
from lxml import etree

from engine.catalog import load_catalog
from engine.forms import FormLibrary
from engine.lint import LintContext, lint_deployment, lint_structure
from engine.specs import parse_deployment, read_directory
from tests.fixtures.bpmn_variants import NS

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = read_directory(ROOT / "processes")
MIWG = sorted((ROOT / "tests" / "fixtures" / "miwg").glob("*.bpmn"))
INITIATION = "stages/initiation.bpmn"
BPMN = NS["bpmn"]


def structure(content: bytes) -> list[dict]:
    """Structural findings of every process of one file (parsed and XSD-validated first)."""
    parser = parse_deployment({"model.bpmn": content})
    return [p for pp in parser.process_parsers.values() for p in lint_structure(pp.node, pp.filename)]


def model(body: str) -> bytes:
    """A one-process file around ``body`` (flow nodes and sequence flows)."""
    return (f'<bpmn:definitions xmlns:bpmn="{BPMN}" id="D" targetNamespace="t">'
            f'<bpmn:process id="proc" isExecutable="true">{body}</bpmn:process></bpmn:definitions>').encode()


def flows(*pairs) -> str:
    return "".join(f'<bpmn:sequenceFlow id="f_{s}_{t}" sourceRef="{s}" targetRef="{t}"/>' for s, t in pairs)


def rules(problems) -> set[str]:
    return {p["rule"] for p in problems}


@pytest.mark.parametrize("path", MIWG, ids=lambda p: p.stem)
def test_miwg_style_valid_models_pass(path):
    assert structure(path.read_bytes()) == []


def test_the_shipped_flows_pass_the_structural_rules():
    parser = parse_deployment(SHIPPED)
    assert [p for pp in parser.process_parsers.values() for p in lint_structure(pp.node, pp.filename)] == []


def test_deleting_the_flow_out_of_window_acceptance_is_refused_and_names_both_ends():
    """The case that deployed v3: 综合受理 → 综合受理结论 deleted in the modeler."""
    root = etree.fromstring(SHIPPED[INITIATION])
    flow = root.xpath("//bpmn:sequenceFlow[@sourceRef='window_accept'][@targetRef='Gateway_window_accept']",
                      namespaces=NS)[0]
    flow.getparent().remove(flow)
    context = LintContext.of(load_catalog(ROOT / "catalog"), FormLibrary(ROOT / "forms"))
    problems = lint_deployment(parse_deployment({**SHIPPED, INITIATION: etree.tostring(root)}), context)
    by_rule = {p["rule"]: p for p in problems}
    assert set(by_rule) == {"outgoing", "reachable"}, problems
    assert by_rule["outgoing"]["element"] == "window_accept"
    assert by_rule["reachable"]["element"] == "Gateway_window_accept"
    assert "无法到达" in by_rule["reachable"]["message"] and by_rule["reachable"]["file"] == INITIATION


def test_every_flow_node_must_be_reachable_from_a_start_event():
    problems = structure(model('<bpmn:startEvent id="s"/><bpmn:task id="a"/><bpmn:endEvent id="e"/>'
                               '<bpmn:task id="lost"/><bpmn:task id="after"/>'
                               + flows(("s", "a"), ("a", "e"), ("lost", "after"), ("after", "e"))))
    [problem] = problems
    assert problem["rule"] == "reachable" and problem["element"] == "lost"
    assert "1 个元素" in problem["message"]  # the region after the first unreachable node is counted


def test_an_unreachable_loop_is_reported_though_it_has_no_entry():
    problems = structure(model('<bpmn:startEvent id="s"/><bpmn:endEvent id="e"/><bpmn:task id="a"/>'
                               '<bpmn:task id="b"/>' + flows(("s", "e"), ("a", "b"), ("b", "a"))))
    assert rules(problems) == {"reachable"} and len(problems) == 1


def test_every_node_but_an_end_event_needs_an_outgoing_flow():
    problems = structure(model('<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f_g_e"/>'
                               '<bpmn:task id="stuck"/><bpmn:endEvent id="e"/>'
                               + flows(("s", "g"), ("g", "e"))
                               + '<bpmn:sequenceFlow id="f_g_stuck" sourceRef="g" targetRef="stuck">'
                                 '<bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    [problem] = problems
    assert problem["rule"] == "outgoing" and problem["element"] == "stuck"


def test_every_path_must_reach_an_end_event():
    """A loop with no way out: every node has an outgoing flow, yet the instance never ends."""
    problems = structure(model(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="g" default="f_g_e"/><bpmn:endEvent id="e"/>'
        '<bpmn:task id="a"/><bpmn:task id="b"/>' + flows(("s", "g"), ("g", "e"), ("a", "b"), ("b", "a"))
        + '<bpmn:sequenceFlow id="f_g_a" sourceRef="g" targetRef="a">'
          '<bpmn:conditionExpression>x</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    [problem] = problems
    assert problem["rule"] == "dead_end" and problem["element"] in {"a", "b"}


def test_a_task_may_not_split_implicitly():
    problems = structure(model('<bpmn:startEvent id="s"/><bpmn:task id="a"/><bpmn:task id="b"/>'
                               '<bpmn:task id="c"/><bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
                               + flows(("s", "a"), ("a", "b"), ("a", "c"), ("b", "e1"), ("c", "e2"))))
    [problem] = problems
    assert problem["rule"] == "implicit_split" and problem["element"] == "a"


def test_a_parallel_join_must_not_merge_alternatives():
    problems = structure(model(
        '<bpmn:startEvent id="s"/><bpmn:exclusiveGateway id="x" default="f_x_a"/><bpmn:task id="a"/>'
        '<bpmn:task id="b"/><bpmn:parallelGateway id="j"/><bpmn:endEvent id="e"/>'
        + flows(("s", "x"), ("x", "a"), ("a", "j"), ("b", "j"), ("j", "e"))
        + '<bpmn:sequenceFlow id="f_x_b" sourceRef="x" targetRef="b">'
          '<bpmn:conditionExpression>y</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    [problem] = problems
    assert problem["rule"] == "join" and problem["element"] == "j" and "x" in problem["message"]


def test_alternatives_inside_one_parallel_branch_may_not_meet_at_the_parallel_join():
    problems = structure(model(
        '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="p"/><bpmn:task id="a"/>'
        '<bpmn:exclusiveGateway id="x" default="f_x_b"/><bpmn:task id="b"/><bpmn:task id="c"/>'
        '<bpmn:parallelGateway id="j"/><bpmn:endEvent id="e"/>'
        + flows(("s", "p"), ("p", "a"), ("p", "x"), ("x", "b"), ("a", "j"), ("b", "j"), ("c", "j"), ("j", "e"))
        + '<bpmn:sequenceFlow id="f_x_c" sourceRef="x" targetRef="c">'
          '<bpmn:conditionExpression>y</bpmn:conditionExpression></bpmn:sequenceFlow>'))
    assert rules(problems) == {"join"}


def test_an_exclusive_merge_may_not_merge_parallel_branches():
    problems = structure(model(
        '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="p"/><bpmn:task id="a"/><bpmn:task id="b"/>'
        '<bpmn:exclusiveGateway id="m"/><bpmn:endEvent id="e"/>'
        + flows(("s", "p"), ("p", "a"), ("p", "b"), ("a", "m"), ("b", "m"), ("m", "e"))))
    [problem] = problems
    assert problem["rule"] == "join" and problem["element"] == "m"


def test_a_boundary_event_needs_its_activity():
    problems = structure(model(
        '<bpmn:startEvent id="s"/><bpmn:task id="a"/><bpmn:endEvent id="e"/><bpmn:endEvent id="e2"/>'
        '<bpmn:boundaryEvent id="late" attachedToRef="gone"><bpmn:timerEventDefinition>'
        "<bpmn:timeDuration>'P1D'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        + flows(("s", "a"), ("a", "e"), ("late", "e2"))))
    assert "boundary" in rules(problems)
    assert next(p for p in problems if p["rule"] == "boundary")["element"] == "late"


def test_a_subprocess_is_its_own_scope():
    problems = structure(model(
        '<bpmn:startEvent id="s"/><bpmn:subProcess id="sub"><bpmn:startEvent id="ss"/><bpmn:task id="t"/>'
        '<bpmn:endEvent id="se"/>' + flows(("ss", "t")) + '</bpmn:subProcess><bpmn:endEvent id="e"/>'
        + flows(("s", "sub"), ("sub", "e"))))
    assert [(p["rule"], p["element"]) for p in problems] == [("outgoing", "t"), ("reachable", "se")]

"""Our deployment rules (engine/lint.py): one test per rule, each breaking it in a small sample flow."""

from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from engine.catalog import load_catalog
from engine.forms import FormLibrary
from engine.lint import LintContext, lint_deployment
from engine.specs import parse_deployment, read_directory
from tests.fixtures.bpmn_variants import CONSTRUCTION, NS, add_parallel_review, edit

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = read_directory(ROOT / "processes")
SAMPLE_NAME = "rules/sample.bpmn"
SAMPLE = (ROOT / "tests" / "fixtures" / "lint_sample.bpmn").read_bytes()


@pytest.fixture(scope="module")
def context():
    return LintContext.of(load_catalog(ROOT / "catalog"), FormLibrary(ROOT / "forms"))


def lint(context, replaced=None, base=None):
    """Lint the sample (or ``base``) with some files replaced or added."""
    files = {SAMPLE_NAME: SAMPLE} if base is None else dict(base)
    return lint_deployment(parse_deployment({**files, **(replaced or {})}), context)


def sample(transform) -> bytes:
    """The sample flow with ``transform(root)`` applied."""
    root = etree.fromstring(SAMPLE)
    transform(root)
    return etree.tostring(root)


def only(problems, rule):
    found = [p for p in problems if p["rule"] == rule]
    assert found and len(found) == len(problems), problems
    return found


def test_the_shipped_flows_and_a_new_parallel_review_pass(context):
    assert lint(context, base=SHIPPED) == []
    assert lint(context, {CONSTRUCTION: add_parallel_review(SHIPPED[CONSTRUCTION])}, base=SHIPPED) == []
    assert lint(context) == []


def test_a_lane_must_be_a_known_role(context):
    content = edit(SAMPLE, "//bpmn:lane[@id='Lane_fire']", name="fir")
    [problem] = only(lint(context, {SAMPLE_NAME: content}), "lane_role")
    assert problem["element"] == "Lane_fire" and problem["file"] == SAMPLE_NAME
    assert "'fir'" in problem["message"] and problem["line"] > 0


def test_a_user_task_must_lie_in_a_lane(context):
    def drop_ref(root):
        ref = root.xpath("//bpmn:flowNodeRef[text()='review_fire']", namespaces=NS)[0]
        ref.getparent().remove(ref)
    [problem] = only(lint(context, {SAMPLE_NAME: sample(drop_ref)}), "lane_role")
    assert problem["element"] == "review_fire"


def test_a_user_task_form_must_exist(context):
    content = edit(SAMPLE, "//bpmn:userTask[@id='review_fire']//spiffworkflow:property"
                   "[@name='formJsonSchemaFilename']", value="reveiw.schema.json")
    [problem] = only(lint(context, {SAMPLE_NAME: content}), "form")
    assert problem["element"] == "review_fire" and "reveiw.schema.json" in problem["message"]


def test_a_department_review_must_name_an_item_that_resolves(context):
    def drop_item(root):
        prop = root.xpath("//bpmn:userTask[@id='review_fire']//spiffworkflow:property"
                          "[@name='item_code']", namespaces=NS)[0]
        prop.getparent().remove(prop)
    [missing] = only(lint(context, {SAMPLE_NAME: sample(drop_item)}), "item")
    assert missing["element"] == "review_fire" and "fire" in missing["message"]
    content = edit(SAMPLE, "//bpmn:userTask[@id='review_fire']//spiffworkflow:property"
                   "[@name='item_code']", value="S3-NO-SUCH-ITEM")
    [unknown] = only(lint(context, {SAMPLE_NAME: content}), "item")
    assert unknown["element"] == "review_fire" and "S3-NO-SUCH-ITEM" in unknown["message"]


def test_a_branching_gateway_needs_a_default_flow(context):
    content = edit(SAMPLE, "//bpmn:exclusiveGateway[@id='Gateway_accept']",
                   default=None)
    problems = only(lint(context, {SAMPLE_NAME: content}), "gateway")
    assert [p["element"] for p in problems] == ["Gateway_accept",
                                                "Flow_accept_ok"]
    assert "default" in problems[0]["message"]


def test_a_non_default_flow_of_a_gateway_needs_a_condition(context):
    def drop_condition(root):
        flow = root.xpath("//bpmn:sequenceFlow[@id='Flow_accept_correct']", namespaces=NS)[0]
        flow.remove(flow.find("bpmn:conditionExpression", NS))
    [problem] = only(lint(context, {SAMPLE_NAME: sample(drop_condition)}), "gateway")
    assert problem["element"] == "Flow_accept_correct"


@pytest.mark.parametrize("condition", ["review_fire['outcome'] ==", "().__class__.__bases__",
                                       "__import__('os').system('true')"])
def test_a_condition_must_compile_in_the_sandbox(context, condition):
    def set_condition(root):
        flow = root.xpath("//bpmn:sequenceFlow[@id='Flow_accept_correct']", namespaces=NS)[0]
        flow.find("bpmn:conditionExpression", NS).text = condition
    [problem] = only(lint(context, {SAMPLE_NAME: sample(set_condition)}), "expression")
    assert problem["element"] == "Flow_accept_correct"


@pytest.mark.parametrize("expression,ok", [("'PT1H'", True), ("working_days_after(5)", True),
                                           ("PT1H", False), ("working_days_after(", False)])
def test_a_timer_expression_must_compile_and_quote_iso_literals(context, expression, ok):
    def set_timer(root):
        root.xpath("//bpmn:timerEventDefinition[@id='TimerDef_fire']/bpmn:timeDuration",
                   namespaces=NS)[0].text = expression
    problems = lint(context, {SAMPLE_NAME: sample(set_timer)})
    if ok:
        assert problems == []
    else:
        [problem] = only(problems, "expression")
        assert problem["element"] == "TimerDef_fire"


def test_a_call_activity_must_name_a_process_of_the_deployment(context):
    content = edit(SAMPLE, "//bpmn:callActivity[@id='Call_correction']",
                   calledElement="corection")
    [problem] = only(lint(context, {SAMPLE_NAME: content}), "call_activity")
    assert problem["element"] == "Call_correction" and "corection" in problem["message"]


RULES_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_rules" targetNamespace="t">
  <bpmn:process id="fee_rules" isExecutable="true">
    <bpmn:startEvent id="start_rules"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:businessRuleTask id="decide_fee">
      <bpmn:extensionElements><spiffworkflow:calledDecisionId>{decision}</spiffworkflow:calledDecisionId>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="end_rules"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start_rules" targetRef="decide_fee"/>
    <bpmn:sequenceFlow id="f2" sourceRef="decide_fee" targetRef="end_rules"/>
  </bpmn:process>
</bpmn:definitions>"""
RULES_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="Defs_fee" name="fee" namespace="t">
  <decision id="fee_decision" name="收费">
    <decisionTable id="fee_table">
      <input id="in_area" label="面积"><inputExpression id="ie_area"><text>{input}</text></inputExpression></input>
      <output id="out_fee" name="fee"/>
      <rule id="r1"><inputEntry id="e1"><text>{entry}</text></inputEntry>
        <outputEntry id="o1"><text>'low'</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>"""


def rules(decision="fee_decision", input="application['land_area']", entry="< 1000"):
    return {"rules/fees.bpmn": RULES_BPMN.format(decision=decision).encode(),
            "decisions/fees.dmn": RULES_DMN.format(input=escape(input), entry=escape(entry)).encode()}


def test_a_business_rule_task_must_name_a_decision_of_the_deployment(context):
    assert lint(context, rules()) == []
    [problem] = only(lint(context, rules(decision="fee_decison")), "decision")
    assert problem["element"] == "decide_fee" and "fee_decison" in problem["message"]


@pytest.mark.parametrize("field", ["input", "entry"])
def test_decision_table_expressions_must_compile(context, field):
    [problem] = only(lint(context, rules(**{field: "__class__ <"})), "expression")
    assert problem["file"] == "decisions/fees.dmn"
    assert problem["element"] == ("ie_area" if field == "input" else "e1")


def test_a_misspelt_spiffworkflow_extension_is_reported(context):
    def misspell(root):
        node = root.xpath("//bpmn:userTask[@id='review_fire']//spiffworkflow:variableName",
                          namespaces=NS)[0]
        node.tag = f"{{{NS['spiffworkflow']}}}variablename"
    [problem] = only(lint(context, {SAMPLE_NAME: sample(misspell)}), "extension")
    assert problem["element"] == "review_fire" and "variablename" in problem["message"]


def test_every_problem_names_file_element_and_a_bilingual_message(context):
    content = edit(SAMPLE, "//bpmn:lane", name="nobody")
    problems = [p for p in lint(context, {SAMPLE_NAME: content}) if p["rule"] == "lane_role"]
    assert len(problems) == 3
    for problem in problems:
        assert set(problem) == {"rule", "file", "element", "line", "message", "message_zh", "message_en"}
        assert problem["message"] == f"{problem['message_zh']}（{problem['message_en']}）"
        assert "（" in problem["message"] and "lane name" in problem["message"]

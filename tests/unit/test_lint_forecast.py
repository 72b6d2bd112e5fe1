"""The analyst's forecast figures on a user task must parse, or the deployment is refused naming them."""

import pytest

from engine.lint import forecast_problems
from tests.fixtures.bpmn_variants import NS
from tests.unit.test_lint import SAMPLE_NAME, context, lint, only, sample  # noqa: F401  (the fixture)


def _with(props: dict):
    def transform(root):
        from lxml import etree
        holder = root.xpath("//bpmn:userTask[@id='review_fire']//spiffworkflow:properties", namespaces=NS)[0]
        for name, value in props.items():
            etree.SubElement(holder, f"{{{NS['spiffworkflow']}}}property", name=name, value=value)
    return sample(transform)


def test_good_figures_pass(context):  # noqa: F811
    good = {"forecast_days": "3", "forecast_p90_days": "7.5", "forecast_outcomes": "approve:0.9,correct:0.1"}
    assert lint(context, {SAMPLE_NAME: _with(good)}) == []


@pytest.mark.parametrize("props", [{"forecast_days": "three"}, {"forecast_days": "-1"},
                                   {"forecast_days": "4", "forecast_p90_days": "2"},
                                   {"forecast_p90_days": "5"},
                                   {"forecast_days": "2", "forecast_outcomes": "approve:0.7,correct:0.1"},
                                   {"forecast_days": "2", "forecast_outcomes": "approve=1"}])
def test_figures_that_do_not_parse_are_refused_at_deploy(context, props):  # noqa: F811
    [problem] = only(lint(context, {SAMPLE_NAME: _with(props)}), "forecast")
    assert problem["element"] == "review_fire"
    assert forecast_problems(props)

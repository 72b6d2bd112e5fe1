"""The schema form renderer: fields in the hinted order, posted strings back to typed data."""

from pathlib import Path

from werkzeug.datastructures import MultiDict

from app import formrender
from engine.forms import FormLibrary

FORMS = FormLibrary(Path(__file__).resolve().parents[2] / "forms")


def test_fields_follow_the_ui_order_and_pick_widgets():
    name = "window_accept.schema.json"
    fields = formrender.fields(FORMS.schema(name), FORMS.ui_hints(name), {"outcome": "accept"},
                               {"opinion": "此项必填"})
    by_name = {f.name: f for f in fields}
    assert [f.name for f in fields][:2] == ["outcome", "opinion"]
    assert by_name["outcome"].widget == "radio" and ("accept", "受理") in by_name["outcome"].choices
    assert by_name["outcome"].value == "accept" and by_name["outcome"].required
    assert by_name["opinion"].widget == "textarea" and by_name["opinion"].error == "此项必填"
    assert by_name["tolerance_acceptance"].widget == "checkbox"
    assert by_name["missing_materials"].widget == "lines"


def test_every_form_renders():
    for name in FORMS.names():
        assert formrender.fields(FORMS.schema(name), FORMS.ui_hints(name))


def test_parse_types_values_and_reports_what_cannot_be_typed():
    schema = {"type": "object", "properties": {
        "n": {"type": "number"}, "k": {"type": "integer"}, "flag": {"type": "boolean"},
        "lines": {"type": "array", "items": {"type": "string"}},
        "picks": {"type": "array", "items": {"oneOf": [{"const": "a"}, {"const": "b"}]}},
        "rows": {"type": "array", "items": {"type": "object", "properties": {"x": {}, "y": {}}}},
        "text": {"type": "string"}, "empty": {"type": "string"}}}
    form = MultiDict([("n", "12,800.5"), ("k", "3"), ("flag", "on"), ("lines", "甲\n\n 乙 "), ("picks", "a"),
                      ("picks", "b"), ("rows", "1 | 2\n3"), ("text", " 文本 "), ("empty", "")])
    data, errors = formrender.parse(schema, form)
    assert data == {"n": 12800.5, "k": 3, "flag": True, "lines": ["甲", "乙"], "picks": ["a", "b"],
                    "rows": [{"x": "1", "y": "2"}, {"x": "3"}], "text": "文本"}
    assert not errors
    _, errors = formrender.parse(schema, MultiDict([("n", "many"), ("k", "1.5")]))
    assert errors == {"n": "请输入数字", "k": "请输入整数"}


def test_schema_errors_are_worded_for_people():
    schema = FORMS.schema("stage1_application.schema.json")
    raw = {"contact_phone": "'1' does not match '^1[3-9][0-9]{9}$'", "project_name": "'project_name' is a "
           "required property", "total_investment": "0 is less than or equal to the minimum of 0"}
    worded = formrender.field_errors(schema, raw)
    assert worded["contact_phone"].startswith("格式不正确") and worded["project_name"] == "此项必填"
    assert worded["total_investment"] == "必须大于 0"

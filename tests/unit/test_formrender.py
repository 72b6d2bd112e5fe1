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


def _catalogue() -> dict[str, str]:
    """The English catalogues' msgid -> msgstr (both domains, as the pages merge them)."""
    from babel.messages.pofile import read_po
    folder = Path(__file__).resolve().parents[2] / "app" / "translations" / "en" / "LC_MESSAGES"
    out: dict[str, str] = {}
    for po in sorted(folder.glob("*.po")):
        with po.open("rb") as handle:
            out.update({m.id: m.string for m in read_po(handle) if m.id and isinstance(m.id, str)})
    return out


def _texts(node) -> list[str]:
    """The words of a schema or its UI hints that a page shows: titles, descriptions, help, placeholders."""
    if isinstance(node, dict):
        shown = [v for k, v in node.items() if k in ("title", "description", "ui:help", "ui:placeholder")
                 and isinstance(v, str)]
        return shown + [t for v in node.values() for t in _texts(v)]
    return [t for v in node for t in _texts(v)] if isinstance(node, list) else []


def test_every_form_text_has_an_english_translation():
    english = _catalogue()
    missing = sorted({f"{name}: {text}" for name in FORMS.names()
                      for text in _texts(FORMS.schema(name)) + _texts(FORMS.ui_hints(name))
                      if any("\u4e00" <= c <= "\u9fff" for c in text) and not english.get(text)})
    assert missing == []


def test_an_item_of_a_list_is_named_in_the_readers_language():
    english = _catalogue()

    def translate(text, **values):
        return english.get(text, text) % values if values else english.get(text, text)

    schema = FORMS.schema("review.schema.json")
    worded = formrender.field_errors(schema, {"missing_materials/1": "'…' is too long"})
    assert worded == {"missing_materials": "第2项：内容过长"}
    fields = formrender.fields(schema, FORMS.ui_hints("review.schema.json"), errors=worded, translate=translate)
    assert next(f for f in fields if f.name == "missing_materials").error == "Item 2: Too long"

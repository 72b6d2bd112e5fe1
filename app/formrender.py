"""One form renderer: JSON Schema + UI hints -> fields for the ``_form.html`` macro, and back.

Supports what our forms use: text, textarea, number/integer, date, boolean,
choices (``oneOf`` with ``const`` + ``title``, or ``enum``), arrays of strings
(one per line) and arrays of small objects (one per line, parts split by ``|``).
Parsing turns posted strings into typed data; the schema itself then validates
on the server (``FormLibrary.validate``) and :func:`field_errors` words its
complaints for people, in Chinese, beside each field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SEPARATOR = "|"


@dataclass
class Field:
    """One input of a rendered form."""

    name: str
    title: str
    widget: str
    required: bool = False
    help: str = ""
    placeholder: str = ""
    value: Any = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    rows: int = 3
    columns: list[str] = field(default_factory=list)
    readonly: bool = False  # shown, not typed: e.g. the applicant fields taken from the enterprise's record


def choices_of(prop: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(value, label) pairs of a choice property."""
    if "oneOf" in prop:
        return [(str(o["const"]), str(o.get("title", o["const"]))) for o in prop["oneOf"] if "const" in o]
    return [(str(v), str(v)) for v in prop.get("enum", ())]


def _widget(prop: Mapping[str, Any], hint: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if "oneOf" in prop or "enum" in prop:
        return "radio" if hint.get("ui:widget") == "radio" else "select"
    if kind == "boolean":
        return "checkbox"
    if kind in ("number", "integer"):
        return "number"
    if kind == "array":
        items = prop.get("items", {})
        if "oneOf" in items or "enum" in items:
            return "checkboxes"
        return "objects" if items.get("type") == "object" else "lines"
    if prop.get("format") == "date":
        return "date"
    return "textarea" if hint.get("ui:widget") == "textarea" else "text"


def _display(widget: str, value: Any, prop: Mapping[str, Any]) -> Any:
    if widget == "checkboxes":
        return [str(v) for v in value] if isinstance(value, list) else []
    if value is None:
        return "" if widget != "checkbox" else bool(prop.get("default", False))
    if widget == "lines" and isinstance(value, list):
        return "\n".join(str(v) for v in value)
    if widget == "objects" and isinstance(value, list):
        keys = list(prop.get("items", {}).get("properties", {}))
        return "\n".join(f" {SEPARATOR} ".join(str(v.get(k, "")) for k in keys) for v in value if isinstance(v, dict))
    return value


def _same(text: str, **values) -> str:
    return text % values if values else text


_ITEM = re.compile(r"^第(\d+)项$")


def _worded(translate, text: str) -> str:
    """A message in the reader's language, part by part (``格式不正确：…`` has two parts, ``第2项：…`` too)."""
    if not text or translate is _same:
        return text
    return ": ".join(translate("第%(n)s项", n=int(item.group(1))) if (item := _ITEM.match(part)) else translate(part)
                     for part in text.split("："))


def fields(schema: Mapping[str, Any], ui: Mapping[str, Any] | None = None, values: Mapping[str, Any] | None = None,
           errors: Mapping[str, str] | None = None, translate=None) -> list[Field]:
    """The fields of a form in the UI hints' order, with values and error messages.

    ``translate`` (a gettext) words the schema's titles, help and choices and the messages in
    the reader's language; without it they stay as the schema writes them (Chinese).
    """
    t = translate or _same
    ui, values, errors = ui or {}, values or {}, errors or {}
    props = schema.get("properties", {})
    order = [n for n in ui.get("ui:order", []) if n in props] + [n for n in props if n not in ui.get("ui:order", [])]
    required = set(schema.get("required", ()))
    out = []
    for name in order:
        prop, hint = props[name], ui.get(name, {})
        widget = _widget(prop, hint)
        helptext = hint.get("ui:help") or prop.get("description", "")
        f = Field(name=name, title=t(prop.get("title", name)), widget=widget, required=name in required,
                  help=t(helptext) if helptext else "",
                  placeholder=t(hint["ui:placeholder"]) if hint.get("ui:placeholder") else "",
                  value=_display(widget, values.get(name), prop),
                  choices=[(v, t(label)) for v, label in
                           choices_of(prop.get("items", {}) if widget == "checkboxes" else prop)],
                  error=_worded(t, errors.get(name, "")),
                  rows=int(hint.get("ui:options", {}).get("rows", 3)))
        if widget == "objects":
            item_props = prop.get("items", {}).get("properties", {})
            f.columns = [t(p.get("title", k)) for k, p in item_props.items()]
            f.help = (f.help + " " if f.help else "") + t("每行一项，各部分以“%(sep)s”分隔：", sep=SEPARATOR) + \
                f" {SEPARATOR} ".join(f.columns)
        elif widget == "lines":
            f.help = (f.help + " " if f.help else "") + t("每行填写一项")
        out.append(f)
    return out


def _number(raw: str, kind: str) -> Any:
    value = float(raw.replace(",", "").replace("，", ""))
    if kind == "integer":
        if not value.is_integer():
            raise ValueError(raw)
        return int(value)
    return value


def _parse_one(prop: Mapping[str, Any], widget: str, raw: str) -> Any:
    if widget == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if widget == "objects":
        keys = list(prop.get("items", {}).get("properties", {}))
        rows = []
        for line in raw.splitlines():
            parts = [p.strip() for p in line.split(SEPARATOR)]
            if any(parts):
                rows.append({k: v for k, v in zip(keys, parts, strict=False) if v})
        return rows
    if widget == "number":
        return _number(raw, prop.get("type", "number"))
    return raw


def parse(schema: Mapping[str, Any], form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """Typed data from posted strings, and errors for values that cannot even be typed."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, prop in schema.get("properties", {}).items():
        widget = _widget(prop, {})
        if widget == "checkbox":
            data[name] = form.get(name) in ("on", "true", "1", "yes")
            continue
        if widget == "checkboxes":
            picked = form.getlist(name) if hasattr(form, "getlist") else [form.get(name)]
            if [v for v in picked if v]:
                data[name] = list(dict.fromkeys(v for v in picked if v))
            continue
        if widget in ("lines", "objects") and hasattr(form, "getlist"):  # a textarea, or one box per value
            raw = "\n".join(v for v in form.getlist(name) if isinstance(v, str)).strip()
        else:
            raw = (form.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = _parse_one(prop, widget, raw)
        except ValueError:
            errors[name] = "请输入整数" if prop.get("type") == "integer" else "请输入数字"
            continue
        if value != []:
            data[name] = value
    return data, errors


MESSAGES = (("is a required property", "此项必填"), ("is too long", "内容过长"), ("is too short", "内容过短"),
            ("should be non-empty", "此项必填"), ("is not a 'date'", "日期格式应为 年-月-日"),
            ("is not valid under any of the given schemas", "请从选项中选择"),
            ("is not one of", "请从选项中选择"), ("has non-unique elements", "不能有重复项"),
            ("is less than or equal to the minimum", "必须大于 0"), ("is less than the minimum", "数值过小"),
            ("is greater than the maximum", "数值过大"), ("is not of type", "格式不正确"),
            ("Additional properties are not allowed", "含有表单以外的字段"))


def field_errors(schema: Mapping[str, Any], raw: Mapping[str, str]) -> dict[str, str]:
    """Schema complaints (path -> English message) worded for people, keyed by top-level field."""
    props = schema.get("properties", {})
    out: dict[str, str] = {}
    for path, message in raw.items():
        name = path.split("/")[0]
        text = next((zh for en, zh in MESSAGES if en in message), "")
        if "does not match" in message:
            text = "格式不正确" + (f"：{props.get(name, {}).get('description')}" if props.get(name, {}).get(
                "description") else "")
        if "/" in path and text:
            text = f"第{int(path.split('/')[1]) + 1}项：{text}" if path.split("/")[1].isdigit() else text
        out.setdefault(name if name in props else "(form)", text or message)
    return out

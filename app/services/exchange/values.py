"""Field values of the exchange: coercion to each field's kind, the checks, the content hash."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from .codes import CodeBook
from .tables import Field, Table

BEIJING = dt.timezone(dt.timedelta(hours=8))


class BadValue(ValueError):
    """A value that does not fit its field's kind."""


def coerce(f: Field, value: Any) -> Any:
    """The value in its field's kind (int, float, date, aware datetime, str); None and '' stay None."""
    if value is None or value == "":
        return None
    try:
        if f.kind == "int":
            return int(value)
        if f.kind == "num":
            return float(value)
        if f.kind == "date":
            return value if isinstance(value, dt.date) and not isinstance(value, dt.datetime) \
                else dt.date.fromisoformat(str(value)[:10])
        if f.kind == "time":
            moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
            return moment if moment.tzinfo else moment.replace(tzinfo=BEIJING)
    except (TypeError, ValueError) as exc:
        raise BadValue(f"{f.name}（{f.label}）的值 {value!r} 不是{_KIND_NAMES[f.kind]}") from exc
    return str(value)


_KIND_NAMES = {"int": "整数", "num": "数字", "date": "日期", "time": "时间", "str": "文字"}


def to_front(f: Field, value: Any) -> Any:
    """The value as the front database stores it: times in Beijing time without zone."""
    if value is not None and f.kind == "time":
        return value.astimezone(BEIJING).replace(tzinfo=None, microsecond=0)
    return value


def problems(table: Table, fields: dict[str, Any], codes: CodeBook) -> list[str]:
    """What keeps a row from being pushed: missing required fields, unknown codes, broken rules."""
    found = []
    for f in table.fields:
        value = fields.get(f.name)
        if value is None:
            if f.required:
                found.append(f"{f.name}（{f.label}）必填")
            continue
        if f.codes and not codes.valid(f.codes, str(value)):
            found.append(f"{f.name}（{f.label}）的代码 {value} 不在代码表 {f.codes} 中")
        if f.kind == "str" and len(value) > f.length:
            found.append(f"{f.name}（{f.label}）超过 {f.length} 个字符")
    if "start_before_finish" in table.extra_checks:
        start, finish = fields.get("NKGSJ"), fields.get("NJCSJ")
        if start and finish and start > finish:
            found.append("NKGSJ（拟开工时间）晚于 NJCSJ（拟建成时间）")
    if "title_when_approved" in table.extra_checks and fields.get("BLZT") == 11 and not fields.get("PFWJBT"):
        found.append("PFWJBT（批复文件标题）在办结（通过）时必填")
    return found


def content_hash(division: str, fields: dict[str, Any]) -> str:
    """A stable digest of a row's content: equal content, equal digest."""
    def plain(value):
        if isinstance(value, dt.datetime):
            return value.astimezone(dt.UTC).replace(microsecond=0).isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        return value
    text = json.dumps({"XZQHDM": division, **{k: plain(v) for k, v in fields.items()}},
                      sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def as_json(fields: dict[str, Any]) -> str:
    """The fields as JSON for the exchange book (times in ISO 8601)."""
    return json.dumps(fields, ensure_ascii=False, default=lambda v: v.isoformat(), sort_keys=True)

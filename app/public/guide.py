"""A service guide's elements as the page lists them: labels and codes in words, no empty rows."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

ELEMENT_NAMES = {"special_procedures": "特别程序", "consult_phone": "咨询电话", "complaint_phone": "监督投诉电话",
                 "service_objects": "服务对象", "handling_forms": "办理形式", "variants": "办理情形",
                 "limit_note": "时限说明", "note": "说明"}
LIMIT_UNITS = {"working_days": "个工作日", "calendar_days": "个自然日", "hours": "小时", "working_hours": "个工作小时",
               "immediate": "即办"}
HANDLING_FORMS = {"window": "窗口办理", "online": "网上办理", "mobile": "移动端办理", "post": "邮寄办理"}
LEVELS = {"province": "省级", "city": "市县级", "district": "区级"}


def limit_text(limit: Any) -> str:
    """A time limit in words: 20 个工作日, 即办."""
    value = getattr(limit, "value", None) if not isinstance(limit, dict) else limit.get("value")
    unit = getattr(limit, "unit", None) if not isinstance(limit, dict) else limit.get("unit")
    if unit == "immediate":
        return _("即办")
    if value in (None, ""):
        return ""
    return f"{value} {_(LIMIT_UNITS[unit]) if unit in LIMIT_UNITS else unit or ''}".strip()


def _detail(key: str, value: Any) -> list[str]:
    """One catalogue detail as lines of text."""
    if key == "handling_forms":
        return ["、".join(_(HANDLING_FORMS.get(v, v)) for v in value)] if value else []
    if key == "special_procedures":
        lines = []
        for p in value or []:
            parts = [p.get("name", "")]
            if p.get("limit"):
                parts.append(_("一般不超过 %(limit)s", limit=limit_text(p["limit"])))
            if p.get("counted") is False:
                parts.append(_("不计入办理时限"))
            lines.append("，".join(x for x in parts if x))
        return lines
    if key == "variants":
        lines = []
        for v in value or []:
            limits = [f"{_('法定时限')} {limit_text(v['statutory_limit'])}" if v.get("statutory_limit") else "",
                      f"{_('承诺时限')} {limit_text(v['committed_limit'])}" if v.get("committed_limit") else ""]
            lines.append(f"{v.get('case', '')}：" + "，".join(x for x in limits if x))
        return lines
    if isinstance(value, dict):
        return [f"{k}：{v}" for k, v in value.items() if v not in (None, "", [], {})]
    if isinstance(value, (list, tuple)):
        return ["、".join(str(v) for v in value if v not in (None, ""))] if value else []
    return [str(value)] if value not in (None, "") else []


def guide_elements(item, role_name: str, stage) -> list[tuple[str, list[str]]]:
    """``(label, lines)`` for every element of the item that has a value, in the guide's order."""
    rows: list[tuple[str, list[str]]] = [
        (_("事项编码"), [item.code]),
        (_("所属阶段"), [((stage.name_en if _is_en() else stage.name) if stage else item.stage)]),
        (_("事项类型"), [_(item.item_type)] if item.item_type else []),
        (_("设定依据"), [item.legal_basis] if item.legal_basis else []),
        (_("行使层级"), [_(LEVELS.get(item.level, item.level))] if item.level else []),
        (_("实施主体"), [f"{item.implementing_body}（{role_name}）" if item.implementing_body else role_name]),
        (_("实施主体性质"), [_(item.body_nature)] if item.body_nature else []),
        (_("法定时限"), [limit_text(item.statutory_limit)] if item.statutory_limit else []),
        (_("承诺时限"), [limit_text(item.committed_limit)] if item.committed_limit else []),
        (_("办理流程"), [item.flow] if item.flow else []),
        (_("收费"), [item.fees] if item.fees else []),
        (_("审批结果"), [item.result_name] if item.result_name else []),
        (_("告知承诺"), [_("可以") if item.commitment_allowed else _("不适用")]),
        (_("容缺受理"), [_("可以") if item.gaps_allowed else _("不适用")]),
    ]
    for key, value in item.details.items():
        rows.append((_(ELEMENT_NAMES.get(key, key)), _detail(key, value)))
    return [(label, [line for line in lines if line]) for label, lines in rows if any(lines)]


def _is_en() -> bool:
    from ..i18n import is_english
    return is_english()

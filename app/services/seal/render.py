"""The result document as a PDF/A-2b page: fpdf2, Noto Serif CJK embedded, the seal and a QR code.

``render(facts, url)`` is pure: the same facts give the same page.  The facts are what the
document states (``documents.build_facts``); ``url`` is the public verification address the
QR code holds.  fpdf2 writes the PDF/A-2b markers itself (XMP ``pdfaid``, an sRGB OutputIntent);
the seal is drawn as vectors (a red ring, a star, the unit's name along the arc).
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import math
import threading
from pathlib import Path
from typing import Any

import segno
from fontTools.ttLib import TTFont
from fpdf import FPDF, FontFace
from fpdf.fonts import SubsetMap

from . import fonts

RED = (200, 16, 30)
TITLES = {"result": "工程建设项目审批结果通知书", "refusal": "不予许可决定书", "item": "审批决定书"}
HEADINGS = FontFace(emphasis="", fill_color=(240, 240, 240))
OUTCOMES = {"approve": "准予许可", "refuse": "不予许可", "deemed": "逾期默认同意", "gaps": "容缺通过"}


def _texts(facts: dict[str, Any]) -> list[str]:
    out = [str(v) for k, v in facts.items() if isinstance(v, (str, int, float))]
    for item in facts.get("items", []):
        out += [str(v) for v in item.values() if v is not None]
    return out + list(TITLES.values()) + list(OUTCOMES.values())


def _cn_date(value: str | None) -> str:
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    return f"{day.year}年{day.month}月{day.day}日"


def _seal(pdf: FPDF, cx: float, cy: float, unit: str) -> None:
    """The unit's seal: a red ring, a five-pointed star, the name along the upper arc, 审批专用章 below."""
    radius = 21
    pdf.set_draw_color(*RED)
    pdf.set_fill_color(*RED)
    pdf.set_text_color(*RED)
    pdf.set_line_width(1.1)
    pdf.circle(x=cx, y=cy, radius=radius, style="D")
    pdf.star(x=cx, y=cy, r_in=2.6, r_out=6.6, corners=5, rotate_degrees=-90, style="F")
    name = unit[:18]
    size = 11 if len(name) <= 12 else 9
    pdf.set_font("cjk", size=size)
    span = min(250.0, 17.0 * len(name))  # degrees the name covers, centred on the top
    for i, ch in enumerate(name):
        angle = -span / 2 + span * (i + 0.5) / len(name)  # 0 is straight up, clockwise positive
        rad = math.radians(angle)
        r_text = radius - 5.2
        x, y = cx + r_text * math.sin(rad), cy - r_text * math.cos(rad)
        with pdf.rotation(-angle, x, y):
            width = pdf.get_string_width(ch)
            pdf.text(x - width / 2, y + size * 0.35 / 2.83, ch)
    pdf.set_font("cjk", size=9)
    label = "审批专用章"
    pdf.text(cx - pdf.get_string_width(label) / 2, cy + 12, label)
    pdf.set_text_color(0, 0, 0)
    pdf.set_draw_color(0, 0, 0)


def _qr(pdf: FPDF, x: float, y: float, size: float, url: str) -> None:
    """The QR code as filled rectangles (a run of dark modules per rectangle), with its quiet zone."""
    code = segno.make(url, error="m", micro=False)
    matrix = [list(row) for row in code.matrix]
    n = len(matrix)
    module = size / (n + 8)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                pdf.rect(x + (start + 4) * module, y + (r + 4) * module, (c - start) * module, module, style="F")
            else:
                c += 1


_PROTOTYPES: dict[tuple[str, int], tuple[object, bytes]] = {}
_proto_lock = threading.Lock()


def _install_font(pdf: FPDF, path: str, index: int) -> None:
    """Add the CJK font as ``cjk``, reusing its parsed metrics across documents.

    ``add_font`` parses the whole font for its widths each time (the larger part of a page's
    cost); the metrics never change, so a parsed prototype is copied and given a fresh
    fontTools object (which fpdf2 subsets in place on output).  Should fpdf2's internals
    change, the plain ``add_font`` is used.
    """
    key = (path, index)
    with _proto_lock:
        if key not in _PROTOTYPES:
            scratch = FPDF()
            scratch.add_font("cjk", fname=path, collection_font_number=index)
            proto = scratch.fonts["cjk"]
            proto.ttfont.close()  # each document gets its own fontTools object below
            _PROTOTYPES[key] = (proto, Path(path).read_bytes())
    proto, data = _PROTOTYPES[key]
    try:
        font = copy.copy(proto)
        font.ttfont = TTFont(io.BytesIO(data), recalcTimestamp=False, fontNumber=index, lazy=True)
        font.subset = SubsetMap(font)
        font.missing_glyphs = []
        font.i = len(pdf.fonts) + 1
        font.biggest_size_pt = 0
        font._hbfont = None
        font.color_font = None
        pdf.fonts["cjk"] = font
    except (AttributeError, TypeError):  # pragma: no cover - a newer fpdf2 laid its font out otherwise
        pdf.fonts.pop("cjk", None)
        pdf.add_font("cjk", fname=path, collection_font_number=index)


def render(facts: dict[str, Any], url: str, fonts_dir: str) -> bytes:
    """The unsigned PDF of one document."""
    font_file, index = fonts.font_for(_texts(facts), fonts_dir)
    pdf = FPDF(format="A4", enforce_compliance="PDF/A-2B")
    pdf.set_title(f"{TITLES.get(facts['kind'], '审批决定书')} {facts['number']}")
    pdf.set_author(facts.get("unit", ""))
    pdf.set_subject(f"{facts.get('project_code', '')} {facts.get('project_name', '')}")
    pdf.set_creator("海南省工程建设项目审批管理系统")
    pdf.set_lang("zh-CN")
    issued = facts.get("date") or ""
    try:
        pdf.set_creation_date(dt.datetime.fromisoformat(facts["issued_at"]))
    except (KeyError, ValueError, TypeError):
        pass
    _install_font(pdf, str(font_file), index)
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.set_margins(22, 20, 22)
    pdf.add_page()
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 6, facts.get("issuer_header", "海南省工程建设项目审批管理系统"), align="C",
             new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("cjk", size=20)
    pdf.set_text_color(*RED)
    pdf.cell(0, 12, TITLES.get(facts["kind"], "审批决定书"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, facts["number"], align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RED)
    pdf.set_line_width(0.6)
    pdf.line(22, pdf.get_y() + 1, 188, pdf.get_y() + 1)
    pdf.set_draw_color(0, 0, 0)
    pdf.ln(5)
    rows = [("项目名称", facts.get("project_name", "")), ("项目代码", facts.get("project_code", "")),
            ("工程代码", facts.get("engineering_code", "")), ("申请单位", facts.get("applicant", "")),
            ("统一社会信用代码", facts.get("credit_code", "")), ("审批阶段", facts.get("stage_name", ""))]
    pdf.set_line_width(0.2)
    with pdf.table(col_widths=(38, 128), text_align=("LEFT", "LEFT"), first_row_as_headings=False,
                   line_height=7) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label)
            row.cell(str(value))
    pdf.ln(4)
    items = facts.get("items", [])
    if items:
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, "审批事项及结果" if facts["kind"] != "refusal" else "审查结论", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9.5)
        with pdf.table(col_widths=(52, 34, 22, 36, 22), line_height=6, headings_style=HEADINGS,
                       text_align=("LEFT", "LEFT", "CENTER", "LEFT", "CENTER")) as table:
            head = table.row()
            for title in ("事项", "审批部门", "结果", "文号", "日期"):
                head.cell(title)
            for item in items:
                row = table.row()
                row.cell(f"{item.get('item_name', '')}（{item.get('item_code', '')}）")
                row.cell(item.get("unit_name", "") or "")
                row.cell(OUTCOMES.get(item.get("outcome", ""), item.get("outcome", "")))
                row.cell(item.get("number") or "—")
                row.cell(item.get("date") or "—")
        pdf.ln(3)
    pdf.set_font("cjk", size=11)
    if facts["kind"] == "refusal":
        pdf.multi_cell(0, 7, f"不予许可理由：{facts.get('reason', '')}", new_x="LMARGIN", new_y="NEXT")
        pdf.multi_cell(0, 7, "如对本决定不服，可以自收到本决定书之日起六十日内依法申请行政复议，"
                             "或者在六个月内依法向人民法院提起行政诉讼。", new_x="LMARGIN", new_y="NEXT")
    elif facts.get("note"):
        pdf.multi_cell(0, 7, f"备注：{facts['note']}", new_x="LMARGIN", new_y="NEXT")
    # the foot: QR code on the left, the issuing unit, the date and the seal on the right
    foot = max(pdf.get_y() + 8, 215.0)
    if foot > 240:
        pdf.add_page()
        foot = 40.0
    _qr(pdf, 22, foot, 38, url)
    pdf.set_font("cjk", size=8)
    pdf.set_xy(22, foot + 39)
    pdf.cell(60, 4, "扫码核验 · 证照编号", new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(22)
    pdf.cell(60, 4, facts.get("cert_id", ""))
    pdf.set_font("cjk", size=12)
    unit = facts.get("unit", "")
    pdf.set_xy(100, foot + 10)
    pdf.cell(86, 8, unit, align="R", new_x="LEFT", new_y="NEXT")
    pdf.set_xy(100, foot + 19)
    pdf.cell(86, 8, _cn_date(issued), align="R")
    _seal(pdf, 160, foot + 14, unit)
    return bytes(pdf.output())

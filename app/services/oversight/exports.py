"""The dashboard's tables as rows, and those rows as an ``.xlsx`` workbook (openpyxl) or CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from engine.calendar import LOCAL_TZ

from ...errors import InvalidInput
from . import figures

#: table name -> (Chinese title, English title)
TABLES = {"summary": ("总体情况", "Summary"), "trend": ("按月趋势", "Trend by month"),
          "overdue": ("超期事项", "Overdue items"), "notices": ("督办通知", "Supervision notices"),
          **{f"durations_{by}": (f"办理用时（按{zh}）", f"Working days by {by}")
             for by, zh in (("stage", "阶段"), ("item", "事项"), ("department", "部门"), ("city", "市县"))}}
FORMATS = ("xlsx", "csv")


def table(session, platform, scope, filters, name: str, english: bool = False) -> tuple[list[str], list[list]]:
    """One dashboard table as a header and rows, in the reader's language."""
    if name not in TABLES:
        raise InvalidInput(f"unknown table {name!r}", {"table": f"one of {', '.join(TABLES)}"})
    label: Callable[[str, str], str] = (lambda zh, en: en) if english else (lambda zh, en: zh)
    if name == "summary":
        s = figures.summary(session, platform, scope, filters)
        rows = [[label("项目数", "projects"), s["projects"]], [label("服务企业数", "enterprises"), s["enterprises"]],
                [label("受理事项", "items accepted"), s["items_accepted"]],
                [label("办结事项", "items finished"), s["items_finished"]],
                [label("按时办结", "finished on time"), s["items_on_time"]],
                [label("在办事项", "items in progress"), s["open"]],
                [label("超期在办", "overdue in progress"), s["overdue"]]]
        return [label("指标", "figure"), label("数值", "value")], rows
    if name == "trend":
        head = [label("月份", "month"), label("受理", "accepted"), label("办结", "finished"),
                label("超期办结", "finished late")]
        return head, [[m["month"], m["accepted"], m["finished"], m["late"]]
                      for m in figures.trend(session, platform, scope, filters)]
    if name == "overdue":
        data = figures.overdue(session, platform, scope, filters, limit=5000)
        head = [label("项目代码", "project code"), label("项目名称", "project"), label("事项", "item"),
                label("承办单位", "unit"), label("受理时间", "accepted"), label("到期时间", "due"),
                label("超期工作日", "working days overdue")]
        return head, [[i["project_code"], i["project_name"], i["item_name"], i["unit"], _local(i["accepted_at"]),
                       _local(i["due_at"]), i["days_overdue"]] for i in data["items"]]
    if name == "notices":
        data = figures.notices(session, platform, scope, limit=5000)
        head = [label("时间", "time"), label("类型", "kind"), label("项目代码", "project code"),
                label("事项", "item"), label("内容", "message")]
        return head, [[_local(n["created_at"]), n["kind"], n["project_code"], n["item_code"], n["message"]]
                      for n in data["items"]]
    by = name.removeprefix("durations_")
    head = [label("分组", "group"), label("名称", "name"), label("办结件数", "finished"),
            label("中位数（工作日）", "median (working days)"), label("90分位（工作日）", "p90 (working days)"),
            label("平均（工作日）", "mean (working days)")]
    return head, [[d["key"], d["name"], d["count"], d["median"], d["p90"], d["mean"]]
                  for d in figures.durations(session, platform, scope, filters, by)]


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M") if value else ""


def to_csv(head: list[str], rows: list[list[Any]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (so spreadsheet programs read the Chinese text)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(head)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(title: str, head: list[str], rows: list[list[Any]], note: str = "") -> bytes:
    """A one-sheet workbook: a bold header row, the rows, the filters noted below."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    if note:
        sheet.append([])
        sheet.append([note])
    for column, name in zip(sheet.columns, head, strict=False):
        width = max([len(str(name))] + [len(str(c.value or "")) for c in column[1:200]])
        sheet.column_dimensions[column[0].column_letter].width = min(60, 4 + width * 1.6)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()

"""Workbench views: starting and ending a special procedure (特别程序) on a task's item."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from ..errors import AppError
from ..services.timelimits import special_procedures
from ..services.workflow import tasks
from ..web import platform, unit_of_work, whole_number
from . import bp


def _handling_of(task_id: int) -> int:
    with unit_of_work(write=False) as session:
        row = tasks.visible_task(session, g.user, task_id)
        if row.handling_id is None:
            abort(404)
        return row.handling_id


@bp.post("/tasks/<int:task_id>/special-procedures")
def start_special(task_id: int):
    """Start a special procedure on the task's item: the clock stops (BLZT 9)."""
    handling_id = _handling_of(task_id)
    days = request.form.get("expected_days", "")
    body = {"kind": request.form.get("kind", ""), "reason": request.form.get("reason", ""),
            "expected_days": whole_number(days, 0, 100000) if whole_number(days, 0, 100000) is not None else days}
    try:
        with unit_of_work() as session:
            special_procedures.start(session, platform(), g.user, handling_id, body)
    except AppError as exc:
        if exc.status == 404:
            raise
        flash(_("未能启动特别程序：%(reason)s", reason="；".join(_(SPECIAL_FIELDS.get(k, k)) for k in exc.fields or {})
                or exc.message),
              "error")
    else:
        flash(_("特别程序已启动，期间不计入办理时限"), "success")
    return redirect(url_for("officer.task", task_id=task_id))


SPECIAL_FIELDS = {"kind": "请选择特别程序类型", "reason": "请填写理由", "expected_days": "请填写预计工作日数（1至180）"}


@bp.post("/tasks/<int:task_id>/special-procedures/<int:procedure_id>/end")
def end_special(task_id: int, procedure_id: int):
    """End a special procedure: the due date moves by the paused working days (BLZT 10)."""
    handling_id = _handling_of(task_id)
    try:
        with unit_of_work() as session:
            special_procedures.end(session, platform(), g.user, handling_id, procedure_id,
                                   {"result": request.form.get("result", "")})
    except AppError as exc:
        if exc.status == 404:
            raise
        flash(_("未能结束特别程序：%(reason)s", reason=exc.message), "error")
    else:
        flash(_("特别程序已结束，办理时限相应顺延"), "success")
    return redirect(url_for("officer.task", task_id=task_id))

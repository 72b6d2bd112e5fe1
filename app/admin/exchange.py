"""The administrator's page of the national data exchange: queue, failures, corrections, code tables."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles_required
from ..errors import AppError
from ..services.exchange import codes, push, service
from ..services.exchange.tables import BY_NAME
from ..web import platform, unit_of_work
from . import bp

STATE_NAMES = {"waiting": "等待上级数据", "invalid": "本地校验未通过", "pushed": "已上传待校验",
               "accepted": "已通过", "rejected": "国家端校验失败", "withdrawn": "已作废"}


@bp.get("/exchange")
@roles_required("admin")
def exchange():
    """Rows per table and state, the queue, the failures with a correction form, the code tables."""
    with unit_of_work(write=False) as session:
        view = service.overview(session)
        queue = [service.row_view(r) for r in view["queue"]]
        failures = [service.row_view(r) for r in view["failures"]]
        tables = codes.tables(session)
    return render_template("admin/exchange.html", view=view, queue=queue, failures=failures, code_tables=tables,
                           state_names=STATE_NAMES, specs=BY_NAME, front=platform().settings.SPGL_URL)


@bp.post("/exchange/run")
@roles_required("admin")
def exchange_run():
    """One exchange run now."""
    plat = platform()
    with unit_of_work() as session:
        report = push.run(session, plat, service.front_database(plat.settings.SPGL_URL))
        service.record_run(session, plat, g.user, report)
    totals = report.summary()
    flash(_("同步完成：上传 %(pushed)s 条，作废 %(invalidated)s 条，通过 %(accepted)s 条，失败 %(rejected)s 条",
            **totals), "ok")
    return redirect(url_for("admin.exchange"))


@bp.post("/exchange/rows/<int:row_id>/correction")
@roles_required("admin")
def exchange_correct(row_id: int):
    """Correct one field of a failed row; it is pushed again on the next run."""
    try:
        with unit_of_work() as session:
            service.set_override(session, platform(), g.user, row_id, request.form.get("field", ""),
                                 request.form.get("value", ""))
        flash(_("已更正，下次同步时重新上传"), "ok")
    except AppError as exc:
        flash(_("未能更正：%(reason)s", reason=exc.message), "error")
    return redirect(url_for("admin.exchange") + "#failures")


@bp.post("/exchange/codes")
@roles_required("admin")
def exchange_code():
    """Add or change one entry of a code table."""
    form = request.form
    try:
        with unit_of_work() as session:
            codes.save_code(session, platform(), g.user, form.get("table", ""), {
                "code": form.get("code", ""), "name": form.get("name", ""), "active": bool(form.get("active")),
                "is_default": bool(form.get("is_default"))})
        flash(_("代码表已保存"), "ok")
    except AppError as exc:
        flash(_("未能保存：%(reason)s", reason=exc.message), "error")
    return redirect(url_for("admin.exchange") + "#codes")

"""The intermediaries' own pages: their commissions only, accepting, uploading the report, delivering."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError
from ..models import Material
from ..pagekit import PREVIEWABLE, form_fields, material_response, submit_task_form
from ..services.intermediary import contracts, registry
from ..services.people import materials
from ..web import platform, unit_of_work
from . import intermediary_bp


def _mine(session, service_id: int):
    return contracts.visible_service(session, g.user, service_id)  # 404 for another firm's service


@intermediary_bp.get("/")
def commissions():
    """The firm's commissions, open ones first, with their lights."""
    with unit_of_work(write=False) as session:
        firm = registry.firm_of_user(session, g.user)
        rows = [(r, contracts.service_light(platform(), r), contracts.open_task(session, r))
                for r in contracts.commissions(session, g.user)]
        return render_template("platforms/commissions.html", firm=firm, rows=rows,
                               kinds=registry.service_kinds(platform()), status_names=contracts.STATUS_NAMES)


def _page(session, row, values, errors, status=200):
    task = contracts.open_task(session, row)
    task = task if task is not None and task.lane_role == "intermediary" else None
    report = session.get(Material, row.report_material_id) if row.report_material_id else None
    return render_template("platforms/commission.html", service=row, task=task, report=report,
                           kind=registry.service_kinds(platform()).get(row.service), previewable=PREVIEWABLE,
                           light=contracts.service_light(platform(), row), status_names=contracts.STATUS_NAMES,
                           fields=form_fields(task.form, values, errors) if task else [], errors=errors), status


@intermediary_bp.route("/services/<int:service_id>", methods=["GET", "POST"])
def commission(service_id: int):
    """One commission: accept or refuse it, then upload the report and deliver."""
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            return _page(session, _mine(session, service_id), {}, {})
    with unit_of_work(write=False) as session:
        task = contracts.open_task(session, _mine(session, service_id))
        if task is None or task.lane_role != "intermediary":
            flash(_("该委托当前没有待本机构办理的事项"), "error")
            return redirect(url_for("intermediary.commission", service_id=service_id))
        task_id = task.id
    result = submit_task_form(task_id)
    if result.refused is not None:
        flash(_("提交失败：%(reason)s", reason="；".join((result.refused.fields or {}).values())
                or result.refused.message), "error")
        return redirect(url_for("intermediary.commission", service_id=service_id))
    if result.title is not None:
        flash(_("“%(title)s”已提交", title=result.title), "success")
        return redirect(url_for("intermediary.commission", service_id=service_id))
    with unit_of_work(write=False) as session:
        return _page(session, _mine(session, service_id), request.form.to_dict(), result.errors, 422)


@intermediary_bp.post("/services/<int:service_id>/report")
def upload_report(service_id: int):
    """Upload the report (PDF, OFD or image): it becomes the project's material under the report's name."""
    upload = request.files.get("file")
    try:
        with unit_of_work() as session:
            contracts.upload_report(session, platform(), g.user, service_id, upload.filename if upload else "",
                                    upload.stream if upload else _Empty())
    except AppError as exc:
        if exc.status == 404:
            raise
        flash(_("上传失败：%(reason)s", reason="；".join((exc.fields or {}).values()) or exc.message), "error")
    else:
        flash(_("已上传服务成果"), "success")
    return redirect(url_for("intermediary.commission", service_id=service_id))


@intermediary_bp.get("/services/<int:service_id>/report")
def report(service_id: int):
    """Download the uploaded report."""
    with unit_of_work(write=False) as session:
        row = _mine(session, service_id)
        found = materials.get_material(session, row.project, row.report_material_id or 0)
    return material_response(found)


class _Empty:
    """Stands in for a missing file part."""

    @staticmethod
    def read(_size: int = -1) -> bytes:
        return b""

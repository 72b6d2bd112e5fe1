"""中介服务 for applicants (select, commission, follow, rate) and supervisors (late and refused services)."""

from __future__ import annotations

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..auth import roles_required
from ..errors import AppError, InvalidInput
from ..pagekit import form_fields, submit_task_form
from ..services.intermediary import contracts, registry
from ..services.people import projects
from ..web import platform, unit_of_work
from . import services_bp


def _project_page(session, found, form, errors, status=200):
    today = platform().now().date()
    kinds = registry.service_kinds(platform())
    qualified = {code: registry.qualified_firms(session, code, today) for code in kinds}
    return render_template("platforms/services_project.html", project=found, kinds=kinds, qualified=qualified,
                           services=[(s, contracts.service_light(platform(), s))
                                     for s in contracts.services_of_project(session, found)],
                           form=form, errors=errors, status_names=contracts.STATUS_NAMES), status


@services_bp.get("/projects/<code>")
@roles_required("applicant")
def project(code: str):
    """A project's intermediary services, and the form that commissions one."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        return _project_page(session, found, {"method": "random", "service": request.args.get("service", "")}, {})


@services_bp.post("/projects/<code>")
@roles_required("applicant")
def commission(code: str):
    """Select a firm (direct or random draw, recorded) and commission the service."""
    form = {k: request.form.get(k, "").strip() for k in ("service", "method", "firm_id", "committed_days")}
    body = {k: v for k, v in form.items() if v}
    try:
        with unit_of_work() as session:
            row = contracts.commission(session, platform(), g.user, code, body)
            service_id, firm = row.id, row.firm.enterprise.name
    except InvalidInput as exc:
        with unit_of_work(write=False) as session:
            found = projects.visible_project(session, g.user, code)
            return _project_page(session, found, form, exc.fields or {"(form)": exc.message}, 422)
    except AppError as exc:
        if exc.status == 404:
            raise
        flash(_("未能委托：%(reason)s", reason=exc.message), "error")
        return redirect(url_for("services.project", code=code))
    flash(_("已委托 %(firm)s，等待其承接", firm=firm), "success")
    return redirect(url_for("services.service", service_id=service_id))


def _service_page(session, row, values, errors, status=200):
    task = contracts.open_task(session, row)
    mine = task is not None and task.lane_role == "applicant" and g.user.role == "applicant"
    kind = registry.service_kinds(platform()).get(row.service)
    return render_template("platforms/service.html", service=row, kind=kind,
                           light=contracts.service_light(platform(), row), task=task if mine else None,
                           fields=form_fields(task.form, values, errors) if mine else [], errors=errors,
                           status_names=contracts.STATUS_NAMES, back=url_for("services.project", code=row.project.code)
                           if g.user.role == "applicant" else url_for("services.oversight")), status


@services_bp.route("/<int:service_id>", methods=["GET", "POST"])
def service(service_id: int):
    """One service: the selection record, the contract's state and light; the applicant rates it here."""
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            return _service_page(session, contracts.visible_service(session, g.user, service_id), {}, {})
    with unit_of_work(write=False) as session:
        row = contracts.visible_service(session, g.user, service_id)
        task = contracts.open_task(session, row)
        if task is None or task.lane_role != "applicant":
            abort(409)
        task_id = task.id
    result = submit_task_form(task_id)
    if result.refused is not None:
        flash(_("提交失败：%(reason)s", reason=result.refused.message), "error")
        return redirect(url_for("services.service", service_id=service_id))
    if result.title is not None:
        flash(_("已评价，评价将在中介超市公开"), "success")
        return redirect(url_for("services.service", service_id=service_id))
    with unit_of_work(write=False) as session:
        return _service_page(session, contracts.visible_service(session, g.user, service_id),
                             request.form.to_dict(), result.errors, 422)


@services_bp.get("/oversight")
@roles_required("supervisor", "admin")
def oversight():
    """Late (red) and refused intermediary services of the supervisor's division (督办)."""
    with unit_of_work(write=False) as session:
        return render_template("platforms/services_oversight.html",
                               rows=contracts.oversight(session, platform(), g.user),
                               status_names=contracts.STATUS_NAMES)

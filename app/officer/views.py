"""Workbench views: inbox with filters and bulk claim, the task page and its outcomes."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError, Conflict, Forbidden, InvalidInput
from ..models import Project
from ..pagekit import (
    PREVIEWABLE,
    add_diagram_routes,
    form_fields,
    material_preview_response,
    material_response,
    page_number,
    progress_context,
    submit_task_form,
)
from ..services.people import listings, materials, projects, workbench
from ..services.people.projects import application_of
from ..services.seal import documents as seal_documents
from ..services.timelimits import special_procedures
from ..services.workflow import tasks
from ..stages import BY_KEY, STAGES
from ..web import platform, unit_of_work, whole_number
from . import bp

PAGE_SIZE = 20


FILTER_KEYS = ("stage", "item", "light", "project", "sort")


def _filters() -> dict[str, str]:
    return {k: request.args.get(k, "").strip()[:40] for k in FILTER_KEYS}


@bp.get("/")
def inbox():
    """The unit's open tasks, by deadline or by submission, with filters, saved filters and paging."""
    filters = _filters()
    if filters["light"] not in ("", *listings.LIGHTS):
        filters["light"] = ""
    if filters["sort"] not in ("", *tasks.INBOX_SORTS):
        filters["sort"] = ""
    with unit_of_work(write=False) as session:
        page = listings.inbox(session, platform(), g.user, page_number(), PAGE_SIZE, **filters)
        now, share = platform().now(), platform().settings.WARNING_SHARE
        rows = [(t, t.instance, t.instance.project, listings.task_light(t, now, share)) for t in page.rows]
        items = sorted({(i.code, i.name) for i in platform().catalog.items})
        return render_template("officer/inbox.html", page=page, rows=rows, filters=filters, stages=STAGES,
                               items=items, query={k: v for k, v in filters.items() if v},
                               saved=workbench.saved_filters(session, g.user), sorts=tasks.INBOX_SORTS)


@bp.get("/done")
def done():
    """The tasks I completed (已办), newest first, with their outcome and time."""
    with unit_of_work(write=False) as session:
        page = workbench.done_tasks(session, g.user, page_number(), PAGE_SIZE)
        return render_template("officer/done.html", page=page)


@bp.post("/filters")
def save_filter():
    """Keep the current inbox filters under a name."""
    query = {k: request.form.get(k, "") for k in FILTER_KEYS}
    try:
        with unit_of_work() as session:
            workbench.save_filter(session, platform(), g.user, request.form.get("name", ""), query)
        flash(_("已保存筛选条件“%(name)s”", name=request.form.get("name", "").strip()), "success")
    except AppError as exc:
        flash(_("未能保存筛选条件：%(reason)s", reason=exc.message), "error")
    return redirect(url_for("officer.inbox", **{k: v for k, v in query.items() if v}))


@bp.post("/filters/<int:filter_id>/delete")
def delete_filter(filter_id: int):
    """Forget a saved filter."""
    with unit_of_work() as session:
        workbench.delete_filter(session, g.user, filter_id)
    flash(_("已删除筛选条件"), "success")
    return redirect(url_for("officer.inbox"))


@bp.post("/claim")
def bulk_claim():
    """Claim every selected task that is still free; say which were not."""
    ids = [n for x in request.form.getlist("task") if (n := whole_number(x)) is not None][:200]
    claimed, refused = 0, []
    with unit_of_work() as session:
        for task_id in ids:
            try:
                tasks.claim(session, g.user, task_id)
                claimed += 1
            except AppError as exc:
                refused.append(f"#{task_id}（{_reason(exc)}）")
    flash(_("已签收 %(n)s 件", n=claimed) + (_("；未能签收：%(tasks)s", tasks="、".join(refused)) if refused else ""),
          "error" if refused else "success")
    return redirect(url_for("officer.inbox", **_filters_from_form()))


def _filters_from_form() -> dict[str, str]:
    return {k: v for k in ("stage", "item", "light", "project") if (v := request.form.get(k, ""))}


def _reason(exc: AppError) -> str:
    return {404: _("不存在或不属于本单位"), 409: _("已被他人签收或已办结")}.get(exc.status, exc.message)


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    """Hold a task."""
    return _hold(task_id, tasks.claim, _("已签收"))


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    """Give a task back to the unit."""
    return _hold(task_id, tasks.unclaim, _("已退回待签收"))


def _hold(task_id: int, action, done: str):
    try:
        with unit_of_work() as session:
            action(session, g.user, task_id)
    except Conflict as exc:
        flash(_("操作失败：%(reason)s", reason=_reason(exc)), "error")
    else:
        flash(done, "success")
    return redirect(url_for("officer.task", task_id=task_id))


def _task_page(session, row, values, errors, status=200):
    instance = row.instance
    project = instance.project
    stage = BY_KEY.get(instance.stage_key)
    context = progress_context(session, project, str(instance.id), "officer.diagram")
    procedures = special_procedures.procedures_of(session, row.handling_id) if row.handling_id else []
    decided = workbench.decided_items(session, platform(), instance) if row.lane_role == "window" else []
    from ..platforms.panels import task_panels  # planning opinions and conditions, intermediary reports
    return render_template("officer/task.html", task=row, instance=instance, project=project, stage=stage,
                           can_act=tasks.may_complete(g.user, row),
                           **task_panels(session, row),
                           decided=decided, recheck=workbench.recheck(session, platform(), row),
                           seal_preview=seal_documents.preview(session, platform(), row),  # 出件核对 (issue 10)
                           seal_outcomes=seal_documents.render.OUTCOMES,
                           previewable=PREVIEWABLE,
                           procedures=procedures, procedure_kinds=special_procedures.KINDS,
                           application=application_of(instance),
                           app_schema=platform().forms.schema(stage.form) if stage else {},
                           uploads=materials.project_materials(session, project),
                           fields=form_fields(row.form, values, errors) if row.form else [],
                           errors=errors, **context), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task(task_id: int):
    """The task page: application, materials, history and the form; POST completes it."""
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            return _task_page(session, tasks.visible_task(session, g.user, task_id), {}, {})
    result = submit_task_form(task_id)
    if result.refused is not None:
        flash(_("办理失败：%(reason)s", reason=_reason(result.refused)), "error")
        return redirect(url_for("officer.task", task_id=task_id))
    if result.title is not None:
        flash(_("“%(title)s”已办理", title=result.title), "success")
        return redirect(url_for("officer.inbox"))
    with unit_of_work(write=False) as session:
        return _task_page(session, tasks.visible_task(session, g.user, task_id), request.form.to_dict(),
                          result.errors, 422)


@bp.get("/projects/<code>")
def project(code: str):
    """A project's progress as officers see it."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        context = progress_context(session, found, request.args.get("instance"), "officer.diagram")
        from ..services.planning.generation import proposal_of  # whether it was generated (项目策划生成)
        signed = [(d, seal_documents.may_manage(g.user, d)) for d in seal_documents.documents_of(session, found)]
        return render_template("officer/progress.html", project=found, planning=proposal_of(session, found),
                               signed=signed, status_names=seal_documents.STATUS_NAMES,
                               kind_names=seal_documents.KIND_NAMES, **context)


add_diagram_routes(bp)


@bp.get("/tasks/<int:task_id>/materials/<int:material_id>")
def material(task_id: int, material_id: int):
    """A material of the task's project (only for officers who may see the task)."""
    with unit_of_work(write=False) as session:
        row = tasks.visible_task(session, g.user, task_id)
        found = materials.get_material(session, row.instance.project, material_id)
    return material_response(found)


@bp.get("/tasks/<int:task_id>/materials/<int:material_id>/preview")
def material_preview(task_id: int, material_id: int):
    """A PDF or image material of the task's project, shown in the page."""
    with unit_of_work(write=False) as session:
        row = tasks.visible_task(session, g.user, task_id)
        found = materials.get_material(session, row.instance.project, material_id)
    return material_preview_response(found)



@bp.post("/documents/<cert_id>")
def revoke_document(cert_id: str):
    """撤销 or re-issue a signed document of the officer's unit (audited), back to its project."""
    action, reason = request.form.get("action"), request.form.get("reason")
    try:
        with unit_of_work() as session:
            doc = seal_documents.document(session, cert_id)
            code = session.get(Project, doc.project_id).code
            if action == "reissue":
                seal_documents.reissue(session, platform(), g.user, cert_id, reason)
            else:
                seal_documents.revoke(session, platform(), g.user, cert_id, reason)
    except (Conflict, InvalidInput, Forbidden) as exc:
        flash(_("操作失败：%(reason)s", reason=_reason(exc)), "error")
        with unit_of_work(write=False) as session:
            code = session.get(Project, seal_documents.document(session, cert_id).project_id).code
    else:
        flash(_("证照已重新出件") if action == "reissue" else _("证照已撤销"), "success")
    return redirect(url_for("officer.project", code=code))

"""Portal views: correction tasks, materials, withdrawal, results, progress."""

from __future__ import annotations

from flask import abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..errors import AppError, InvalidInput
from ..pagekit import form_fields, material_response, progress_context, submit_task_form
from ..services.people import applications, materials, projects, results
from ..services.people import progress as progress_service
from ..services.workflow import tasks
from ..web import platform, unit_of_work
from . import bp


def _back(default: str) -> str:
    target = request.form.get("next") or request.args.get("next") or default
    return target if target.startswith("/") and not target.startswith("//") else default


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.post("/projects/<code>/materials")
def upload(code: str):
    """Upload one material; it serves every item that needs a material of that name.

    Asked for JSON (the page's in-place upload) it answers with the material instead of a
    redirect, so the page keeps what was typed; a bad file is a 422 with the reason.
    """
    back = _back(url_for("portal.project", code=code))
    upload = request.files.get("file")
    try:
        with unit_of_work() as session:
            found = projects.visible_project(session, g.user, code)
            row = materials.store(session, platform(), g.user, found, request.form.get("name", ""),
                                  upload.filename if upload else "", upload.stream if upload else _Empty())
            name = row.name
            version = max((v.version for v in materials.versions_of(session, [row.id])[row.id]), default=1)
            body = {"name": row.name, "id": row.id, "original_name": row.original_name, "size": row.size,
                    "version": version, "url": url_for("portal.download", code=code, material_id=row.id)}
    except InvalidInput as exc:
        if _wants_json():
            return jsonify({"error": {"code": exc.code, "message": exc.message, "fields": exc.fields or {}}}), 422
        flash(f"上传失败：{'；'.join((exc.fields or {}).values()) or exc.message}", "error")
        return redirect(back)
    if _wants_json():
        return jsonify({"material": body, "message": _("已上传：%(name)s", name=name)})
    flash(f"已上传：{name}", "success")
    return redirect(back)


class _Empty:
    """Stands in for a missing file part."""

    @staticmethod
    def read(_size: int = -1) -> bytes:
        return b""


@bp.get("/projects/<code>/materials/<int:material_id>")
def download(code: str, material_id: int):
    """Download one of the project's materials."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        row = materials.get_material(session, found, material_id)
    return material_response(row)


@bp.get("/projects/<code>/materials/<int:material_id>/versions/<int:version>")
def download_version(code: str, material_id: int, version: int):
    """Download a kept version of a material (a replaced file stays available)."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        row = materials.get_version(session, found, material_id, version)
    return material_response(row)


@bp.get("/projects/<code>/materials/<int:material_id>/history")
def material_history(code: str, material_id: int):
    """Every version of one material, newest first."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        row = materials.get_material(session, found, material_id)
        versions = materials.versions_of(session, [row.id])[row.id]
        return render_template("portal/material_history.html", project=found, material=row, versions=versions)


@bp.get("/projects/<code>/applications/<int:instance_id>")
def filed(code: str, instance_id: int):
    """What was filed with a stage application: the form as submitted and its materials, with versions."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        view = applications.filed_application(session, platform(), found, instance_id)
        return render_template("portal/filed.html", project=found, status_names=progress_service.STATUS_NAMES,
                               **view)


def _task_page(session, row, values, errors, status=200):
    request_info = applications.correction_request(session, platform(), row)
    found = row.instance.project
    uploads = materials.project_materials(session, found)
    fields = form_fields(row.form, values, errors) if row.form else []
    titles = {f.name: f.title for f in fields}
    summary = [(name, titles.get(name, _("补正")), message) for name, message in errors.items()]
    return render_template("portal/task.html", task=row, project=found, request_info=request_info,
                           fields=fields, summary=summary, uploads=uploads,
                           versions=materials.versions_of(session, [m.id for m in uploads]),
                           deadline=applications.correction_deadline(platform(), row),
                           deadline_days=None if row.due_at else platform().settings.CORRECTION_WORKING_DAYS,
                           errors=errors), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
def task(task_id: int):
    """A task routed to my enterprise (补正): the reviewer's opinion and the form to answer it."""
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            row = tasks.visible_task(session, g.user, task_id)
            if row.process_id == "intermediary_service":  # rating a service: on the service's own page
                from ..services.intermediary.contracts import service_of_task
                return redirect(url_for("services.service", service_id=service_of_task(session, row).id))
            return _task_page(session, row, {}, {})
    result = submit_task_form(task_id)
    if result.refused is not None:
        flash(f"未能提交：{result.refused.message}", "error")
        return redirect(url_for("portal.task", task_id=task_id))
    if result.title is not None:
        flash("补正材料已提交，等待综合窗口审核", "success")
        return redirect(url_for("portal.project", code=result.project_code))
    with unit_of_work(write=False) as session:
        row = tasks.visible_task(session, g.user, task_id)
        return _task_page(session, row, request.form.to_dict(), result.errors, 422)


@bp.post("/projects/<code>/applications/<int:instance_id>/withdraw")
def withdraw(code: str, instance_id: int):
    """Withdraw a running application (申请人撤回)."""
    try:
        with unit_of_work() as session:
            applications.withdraw(session, platform(), g.user, code, instance_id)
    except AppError as exc:
        if exc.status == 404:
            raise
        flash(f"撤回失败：{exc.message}", "error")
    else:
        flash("申请已撤回，可修改后重新申报", "success")
    return redirect(url_for("portal.project", code=code))


@bp.get("/projects/<code>/progress")
def progress(code: str):
    """The progress page: stage bar, items with lights, diagram, history."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        context = progress_context(session, found, request.args.get("instance"))
        return render_template("portal/progress.html", project=found, **context)


@bp.get("/projects/<code>/results/<int:instance_id>")
def result(code: str, instance_id: int):
    """A printable notice of the result issued for one application (download with ?download=1)."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        issued = results.issued_result(session, platform(), found, instance_id)
        if issued is None:
            abort(404)
        from ..services.seal import documents, verify  # the signed PDFs (一枚印章出件)
        signed = [(d, verify.url_of(platform().settings, d))
                  for d in documents.documents_of(session, found, instance_id)]
        html = render_template("portal/result.html", project=found, result=issued, signed=signed,
                               status_names=documents.STATUS_NAMES, kind_names=documents.KIND_NAMES)
    if request.args.get("download"):
        name = f"{found.code}-{issued.stage_key}.html"
        return html, 200, {"Content-Type": "text/html; charset=utf-8",
                           "Content-Disposition": f'attachment; filename="{name}"'}
    return html


@bp.get("/projects/<code>/documents/<cert_id>.pdf")
def document_pdf(code: str, cert_id: str):
    """Download one signed result document (PDF/A, PAdES)."""
    from ..services.seal import documents
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        doc = documents.document(session, cert_id)
        if doc.project_id != found.id:
            abort(404)
        data = documents.pdf_of(platform(), doc)
    name = f"{found.code}-{doc.kind}-{doc.cert_id}.pdf"
    return data, 200, {"Content-Type": "application/pdf", "Content-Disposition": f'attachment; filename="{name}"'}

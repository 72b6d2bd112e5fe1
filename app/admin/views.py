"""Pages of the admin area: versions, modeler, comparison, migration, forms."""

from __future__ import annotations

import json

from flask import Response, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine.errors import EngineError, ProcessDefinitionError
from engine.lint import check_form_schema

from ..errors import AppError, InvalidInput
from ..i18n import is_english
from ..services.flows import deployments, versions
from ..services.people import projects
from ..services.workflow import migrations as instance_migrations
from ..web import platform, unit_of_work, whole_number
from . import bp


def _json_error(exc: Exception):
    """The API's error envelope for the modeler's fetch calls (pages otherwise get HTML)."""
    status = getattr(exc, "status", 422)
    error = {"code": getattr(exc, "code", "invalid"), "message": getattr(exc, "message", str(exc))}
    if isinstance(exc, ProcessDefinitionError):
        language = "message_en" if is_english() else "message_zh"
        error["problems"] = [{**p, "message": p.get(language) or p["message"]} for p in exc.problems]
        error["message"] = _("流程有 %(count)s 个问题", count=len(exc.problems))
    elif getattr(exc, "fields", None):
        error["fields"] = exc.fields
    return jsonify({"error": error}), status


@bp.get("/")
def index():
    """Deployed versions, the processes of the active one, forms and recent migrations."""
    with unit_of_work(write=False) as session:
        listing = deployments.list_processes(session)
        active = next((d["version"] for d in listing if d["active"]), None)
        shown = request.args.get("version", type=int) or active
        files = versions.contents(session, shown) if shown else []
        migrations = instance_migrations.list_migrations(session, limit=20)
    return render_template("admin/index.html", deployments=list(reversed(listing)), active=active, shown=shown,
                           files=files, forms=platform().forms.names(), migrations=migrations)


@bp.get("/versions/<int:version>/files/<path:name>")
def version_file(version: int, name: str):
    """The XML of one file of a version (the modeler loads it)."""
    with unit_of_work(write=False) as session:
        content = versions.file_of(session, version, name)
    return Response(content, mimetype="application/xml")


@bp.get("/versions/<int:version>/export")
def export_version(version: int):
    """A version's files as a zip archive."""
    with unit_of_work(write=False) as session:
        archive = versions.export_zip(session, version)
    return Response(archive, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="processes-v{version}.zip"'})


@bp.get("/versions/<int:version>/activate")
def confirm_activation(version: int):
    """What activating a version changes, and the confirmation form."""
    with unit_of_work(write=False) as session:
        preview = versions.activation_preview(session, version)
        awaiting = projects.awaiting_stages(session, preview["changed_processes"])
    return render_template("admin/activate.html", preview=preview, diff=preview["diff"], awaiting=awaiting)


@bp.post("/versions/<int:version>/activate")
def activate_version(version: int):
    """Activate a version for new instances once the analyst confirmed it (audited)."""
    replacing = request.form.get("replacing", type=int)
    if request.form.get("confirm") != "yes" or replacing is None:
        flash(_("请先核对差异并勾选确认，再启用版本"), "error")
        return redirect(url_for("admin.confirm_activation", version=version))
    try:
        with unit_of_work() as session:
            versions.activate(session, platform(), version, g.user, replacing=replacing)
        flash(_("版本 %(version)s 已启用：新申请将按该版本办理", version=version), "ok")
    except AppError as exc:
        flash(exc.message, "error")
        return redirect(url_for("admin.confirm_activation", version=version))
    return redirect(url_for("admin.index"))


@bp.get("/diff")
def choose_diff():
    """Redirect the comparison form to its page."""
    old, new = request.args.get("from", type=int), request.args.get("to", type=int)
    if old is None or new is None:
        abort(400)
    return redirect(url_for("admin.diff", old=old, new=new))


@bp.get("/versions/<int:old>/diff/<int:new>")
def diff(old: int, new: int):
    """Elements added, removed and changed per process between two versions."""
    with unit_of_work(write=False) as session:
        result = versions.compare(session, old, new)
    return render_template("admin/diff.html", diff=result)


def _editor_options() -> dict:
    """What the properties panel offers: roles, items, forms."""
    catalog = platform().catalog
    return {"roles": [{"code": r.code, "name": r.name} for r in catalog.roles.values()],
            "items": [{"code": i.code, "name": i.name, "role": i.role, "stage": i.stage} for i in catalog.items],
            "forms": platform().forms.names()}


@bp.get("/modeler/<int:version>/<path:name>")
def modeler(version: int, name: str):
    """The BPMN modeler (or the DMN editor) on one file of a version."""
    with unit_of_work(write=False) as session:
        files = versions.contents(session, version)
    entry = next((f for f in files if f["path"] == name), None)
    if entry is None:
        abort(404)
    processes = [d["id"] for f in files if f["kind"] == "bpmn" for d in f["defines"]]
    decisions = [d["id"] for f in files if f["kind"] == "dmn" for d in f["defines"]]
    options = {**_editor_options(), "processes": processes, "decisions": decisions}
    template = "admin/decision.html" if entry["kind"] == "dmn" else "admin/modeler.html"
    return render_template(template, version=version, name=name, options=options,
                           source_url=url_for("admin.version_file", version=version, name=name))


@bp.post("/deploy")
def deploy():
    """Save from the modeler: the edited file replaces its namesake in the version it was opened from.

    The result is a draft version; it goes live only by the confirmed activation.
    """
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict) or not isinstance(body.get("xml"), str):
            raise InvalidInput("send {file, xml, comment, base} as JSON")
        name = deployments.clean_name(str(body.get("file", "")))
        content = body["xml"].encode("utf-8")
        base = body.get("base")
        with unit_of_work() as session:
            if base is None:
                files = deployments.active_files(session)
            elif isinstance(base, int) and not isinstance(base, bool):
                files = versions.files_of(session, base)
            else:
                raise InvalidInput("'base' is the version number the file was opened from")
            files[name] = content
            deployment, created = versions.save_draft(session, platform(), files, g.user,
                                                      str(body.get("comment", ""))[:500])
            result = {"version": deployment.version, "content_hash": deployment.content_hash,
                      "unchanged": not created, "active": deployment.active,
                      "activate_url": url_for("admin.confirm_activation", version=deployment.version)}
    except (AppError, EngineError) as exc:
        return _json_error(exc)
    return jsonify(result), 201 if created else 200


@bp.get("/migrations")
def migrations():
    """Running instances of a process and the version to move them to."""
    process_id = request.args.get("process") or None
    with unit_of_work(write=False) as session:
        listing = deployments.list_processes(session)
        running = instance_migrations.running_instances(session, process_id)
        history = instance_migrations.list_migrations(session, limit=50)
    target = request.args.get("version", type=int) or next((d["version"] for d in listing if d["active"]), None)
    return render_template("admin/migrations.html", deployments=listing, running=running, target=target,
                           process_id=process_id, history=history, results=None)


@bp.post("/migrations")
def migrate():
    """Move the chosen instances; each result or refusal is shown."""
    version = request.form.get("version", type=int)
    ids = [n for i in request.form.getlist("instance") if (n := whole_number(i)) is not None][:200]
    if version is None or not ids:
        flash(_("请选择目标版本和至少一个办件实例"), "error")
        return redirect(url_for("admin.migrations"))
    with unit_of_work() as session:
        results = instance_migrations.migrate_many(session, platform(), ids, version, g.user)
    with unit_of_work(write=False) as session:
        listing = deployments.list_processes(session)
        running = instance_migrations.running_instances(session)
        history = instance_migrations.list_migrations(session, limit=50)
    return render_template("admin/migrations.html", deployments=listing, running=running, target=version,
                           process_id=None, history=history, results=results)


@bp.post("/migrations/<int:migration_id>/undo")
def undo(migration_id: int):
    """Undo a migration while the instance has not moved on."""
    try:
        with unit_of_work() as session:
            record = instance_migrations.undo_migration(session, platform(), migration_id, g.user)
        flash(_("已撤销迁移：实例 %(id)s 回到 %(key)s", id=record.instance_id, key=record.from_spec_key), "ok")
    except AppError as exc:
        flash(exc.message, "error")
    return redirect(url_for("admin.migrations"))


@bp.get("/forms/<name>")
def form(name: str):
    """A form's JSON Schema and UI hints (view only: forms are files under forms/)."""
    forms = platform().forms
    if name not in forms:
        abort(404)
    return render_template("admin/form.html", name=name,
                           schema=json.dumps(forms.schema(name), ensure_ascii=False, indent=2),
                           hints=json.dumps(forms.ui_hints(name), ensure_ascii=False, indent=2))


@bp.post("/forms/<name>/check")
def check_form(name: str):
    """Check an edited form schema; nothing is stored."""
    if name not in platform().forms:
        abort(404)
    try:
        schema = json.loads(request.get_data(as_text=True) or "null")
    except ValueError as exc:
        return jsonify({"ok": False, "errors": [_("不是合法的 JSON：%(reason)s", reason=exc)]})
    errors = check_form_schema(schema)
    return jsonify({"ok": not errors, "errors": errors})


@bp.post("/versions/<int:version>/forecast")
def forecast_version(version: int):
    """The activation page's forecast (same checks and service as ``POST /api/v1/processes/<v>/forecast``)."""
    from ..api.forecast import prepare, start_or_run
    body = request.get_json(silent=True)
    try:
        if not isinstance(body, dict):
            raise InvalidInput("send {n, seed, stages?} as JSON")
        return start_or_run(prepare(version, {**body, "async": True}), "admin.forecast_job",
                            started_by=g.user.username)
    except AppError as exc:
        return _json_error(exc)


@bp.get("/versions/<int:version>/forecast/<job>")
def forecast_job(version: int, job: str):
    """A forecast's progress and result, for the activation page's progress bar and chart."""
    from ..api.forecast import job_view
    try:
        return jsonify(job_view(version, job))
    except AppError as exc:
        return _json_error(exc)

"""The API twins of the portal and workbench pages: registration, materials, progress, withdrawal, bulk claim."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request

from ..errors import AppError, Forbidden, InvalidInput
from ..pagekit import material_response
from ..services.people import applications, enterprises, listings, materials, progress, projects, results
from ..services.people.accounts import user_view
from ..services.security import throttle
from ..services.workflow import tasks
from ..web import int_arg, json_body, platform, unit_of_work, whole_number
from . import bp, require_role


@bp.post("/enterprises")
def register_enterprise():
    """Register an enterprise (credit code checked) and its first applicant account."""
    body = json_body()
    with unit_of_work() as session:  # every attempt counts, kept even when the body is refused
        throttle.count_attempt(session, "register", request.remote_addr or "?", platform().now(),
                               platform().settings.REGISTER_PER_HOUR, dt.timedelta(hours=1))
    with unit_of_work() as session:
        user = enterprises.register(session, platform(), body)
        return jsonify(user_view(user)), 201


@bp.get("/projects")
def my_projects():
    """The projects of the caller's enterprise, newest first (applicants)."""
    require_role("applicant")
    page = int_arg("page", 1, 1, 100000)
    with unit_of_work(write=False) as session:
        result = listings.enterprise_projects(session, g.user, page)
        return jsonify({"projects": [{"code": p.code, "name": p.name, "division": p.division_code,
                                      "created_at": p.created_at.isoformat()} for p in result.rows],
                        "total": result.total, "page": result.page, "page_size": result.page_size})


def _iso(value):
    return value.isoformat() if value else None


@bp.get("/projects/<code>/progress")
def project_progress(code: str):
    """Stage bar, items with department, deadline and light, diagram marks and history."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        view = progress.project_progress(session, platform(), found)
        return jsonify({
            "code": found.code, "name": found.name, "stages": view.stages,
            "items": [{"item_code": i.item_code, "item_name": i.item_name, "stage": i.stage, "state": i.state,
                       "state_name": i.state_name, "unit": i.unit_name, "accepted_at": _iso(i.accepted_at),
                       "due_at": _iso(i.due_at), "finished_at": _iso(i.finished_at), "light": i.light}
                      for i in view.items],
            "instances": [{"id": i.id, "stage": i.stage_key, "status": i.status, "spec": i.spec_key,
                           "marks": progress.diagram_marks(platform(), i) if i.status == "running" else None}
                          for i in view.instances],
            "history": [{"at": _iso(e["at"]), "kind": e["kind"], "actor": e["actor"], "detail": e["detail"]}
                        for e in view.history]})


def _material_view(m) -> dict:
    return {"id": m.id, "name": m.name, "sha256": m.sha256, "size": m.size, "content_type": m.content_type,
            "original_name": m.original_name, "uploaded_at": _iso(m.uploaded_at)}


@bp.get("/projects/<code>/materials")
def list_materials(code: str):
    """The project's uploaded materials."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        rows = materials.project_materials(session, found)
        kept = materials.versions_of(session, [m.id for m in rows])  # a replaced file stays listed
        return jsonify({"materials": [{**_material_view(m), "versions": [
            {"version": v.version, "sha256": v.sha256, "size": v.size, "content_type": v.content_type,
             "original_name": v.original_name, "uploaded_at": _iso(v.uploaded_at)} for v in kept[m.id]]}
            for m in rows]})


@bp.post("/projects/<code>/materials")
def upload_material(code: str):
    """Upload a material (multipart: ``name``, ``file``); one upload serves every item needing it."""
    require_role("applicant", "admin")
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("send the file as multipart field 'file'", {"file": "required"})
    with unit_of_work() as session:
        found = projects.visible_project(session, g.user, code)
        row = materials.store(session, platform(), g.user, found, request.form.get("name", ""),
                              upload.filename or "", upload.stream)
        return jsonify(_material_view(row)), 201


@bp.get("/projects/<code>/materials/<int:material_id>")
def download_material(code: str, material_id: int):
    """The bytes of one material."""
    if g.user.role not in ("applicant", "window", "officer", "supervisor", "admin"):
        raise Forbidden("materials are for the applicant and the officers")
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        row = materials.get_material(session, found, material_id)
    return material_response(row)


@bp.post("/projects/<code>/applications/<int:instance_id>/withdraw")
def withdraw(code: str, instance_id: int):
    """Withdraw a running stage application (BLZT 2)."""
    with unit_of_work() as session:
        instance = applications.withdraw(session, platform(), g.user, code, instance_id)
        return jsonify({"instance_id": instance.id, "stage": instance.stage_key, "status": instance.status})


@bp.get("/projects/<code>/results")
def project_results(code: str):
    """What the window issued for the project's finished applications."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        return jsonify({"results": [{"instance_id": r.instance_id, "stage": r.stage_key, "kind": r.kind,
                                     "data": r.data} for r in results.issued_results(session, platform(), found)]})


@bp.get("/tasks/<int:task_id>/correction")
def correction(task_id: int):
    """For a correction task: who asked, their opinion and the materials to supply."""
    with unit_of_work(write=False) as session:
        row = tasks.visible_task(session, g.user, task_id)
        info = applications.correction_request(session, platform(), row)
        return jsonify({**info, "at": _iso(info["at"])})


@bp.post("/tasks/claim")
def bulk_claim():
    """Claim several tasks ``{ids: [...]}``; answers which were claimed and why others were not."""
    ids = json_body().get("ids")
    if not isinstance(ids, list) or not ids or len(ids) > 200 or not all(
            whole_number(i) is not None for i in ids):
        raise InvalidInput("'ids' must be a list of 1 to 200 task ids", {"ids": "invalid"})
    claimed, refused = [], {}
    with unit_of_work() as session:
        for task_id in ids:
            try:
                claimed.append(tasks.claim(session, g.user, task_id).id)
            except AppError as exc:  # not visible, already held or done: reported per task
                refused[str(task_id)] = exc.message
    return jsonify({"claimed": claimed, "refused": refused})

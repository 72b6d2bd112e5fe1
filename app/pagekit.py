"""Helpers shared by the page blueprints: schema forms, paging, progress, material downloads."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request, send_file, url_for
from sqlalchemy import select
from sqlalchemy.orm import undefer

from engine.errors import FormValidationError

from . import formrender
from .errors import AppError
from .i18n import is_english
from .models import ProcessInstance
from .services.people import materials, progress, projects
from .services.workflow import instances, tasks
from .web import platform, unit_of_work, whole_number


def page_number() -> int:
    """The ``page`` query argument (1 when missing or nonsense)."""
    raw = request.args.get("page", "1")
    return whole_number(raw, 1, 100000) or 1


def form_fields(form_name: str, values: dict | None = None, errors: dict | None = None) -> list:
    """The fields of a schema form, ready for the ``render_fields`` macro."""
    forms = platform().forms
    from flask_babel import gettext
    return formrender.fields(forms.schema(form_name), forms.ui_hints(form_name), values, errors,
                             translate=gettext if is_english() else None)


def read_form(form_name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted form as typed data, and field errors from typing and from the schema (server-side)."""
    schema = platform().forms.schema(form_name)
    data, errors = formrender.parse(schema, request.form)
    try:
        platform().forms.validate(form_name, data)
    except FormValidationError as exc:
        for name, message in formrender.field_errors(schema, exc.fields).items():
            errors.setdefault(name, message)
    return data, errors


def form_errors(form_name: str, exc: FormValidationError) -> dict[str, str]:
    """A service's form validation error, worded for the page."""
    return formrender.field_errors(platform().forms.schema(form_name), exc.fields)


def material_response(material) -> Response:
    """The stored file of a material, as a download with its cleaned original name."""
    data = materials.blob(platform(), material)
    if data is None:
        abort(404)
    return send_file(io.BytesIO(data), mimetype=material.content_type, as_attachment=True,
                     download_name=materials.typed_name(material.original_name, material.content_type), max_age=0)


#: Material types a browser shows in the page itself (PDF viewer, image).
PREVIEWABLE = frozenset({"application/pdf", "image/png", "image/jpeg"})


def material_preview_response(material) -> Response:
    """The stored file shown inline, for PDF and images only (others are downloads)."""
    data = materials.blob(platform(), material) if material.content_type in PREVIEWABLE else None
    if data is None:
        abort(404)
    response = send_file(io.BytesIO(data), mimetype=material.content_type, as_attachment=False,
                         download_name=materials.typed_name(material.original_name, material.content_type), max_age=0)
    # shown in a frame of our own page only; the type was judged by the file's first bytes
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; frame-ancestors 'self'"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def diagram_response(session, project, instance_id: int) -> Response:
    """The BPMN XML of one of the project's instances (for the bpmn-js viewer)."""
    instance = next((i for i in project.instances if i.id == instance_id), None)
    xml = progress.diagram_xml(session, instance.spec_key) if instance else None
    if xml is None:
        abort(404)
    return Response(progress.department_lanes(xml, platform().catalog, is_english()), mimetype="application/xml")


def diagram_marks_response(session, project, instance_id: int) -> Response:
    """The done and active element ids of one of the project's instances (JSON, for the viewer).

    One statement: the instance row with its marks, not the project's instances and then the marks.
    """
    instance = session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id,
                                                            ProcessInstance.project_id == project.id)
                              .options(undefer(ProcessInstance.marks)))
    if instance is None:
        abort(404)
    return jsonify(progress.diagram_marks(platform(), instance))


def progress_context(session, project, instance_arg: str | None = None,
                     diagram_endpoint: str = "portal.diagram") -> dict[str, Any]:
    """Template values of the shared progress panel (the viewer fetches the diagram and its marks)."""
    view = progress.project_progress(session, platform(), project)
    shown = None
    if instance_arg and whole_number(instance_arg) is not None:
        shown = next((i for i in view.instances if i.id == whole_number(instance_arg)), None)
    if shown is None:
        running = [i for i in view.instances if i.status == "running"]
        shown = running[0] if running else (view.instances[-1] if view.instances else None)
    code = project.code
    return {"progress": view, "shown": shown, "timeline": progress.stage_timeline(session, platform(), shown),
            "diagram_url": lambda instance_id: url_for(diagram_endpoint, code=code, instance_id=instance_id),
            "marks_url": lambda instance_id: url_for(diagram_endpoint + "_marks", code=code,
                                                     instance_id=instance_id)}


def add_diagram_routes(bp: Blueprint) -> None:
    """Register the diagram and its marks for the projects the blueprint's user may see."""

    def diagram(code: str, instance_id: int):
        """The BPMN file of one of the project's applications."""
        with unit_of_work(write=False) as session:
            return diagram_response(session, projects.visible_project(session, g.user, code), instance_id)

    def diagram_marks(code: str, instance_id: int):
        """Which elements of the application's diagram are done and which are active."""
        with unit_of_work(write=False) as session:
            found = projects.visible_project(session, g.user, code)
            return diagram_marks_response(session, found, instance_id)

    bp.add_url_rule("/projects/<code>/diagram/<int:instance_id>.bpmn", "diagram", diagram)
    bp.add_url_rule("/projects/<code>/diagram/<int:instance_id>/marks", "diagram_marks", diagram_marks)


@dataclass
class Submission:
    """The result of posting a task's form: done, field errors, or refused."""

    title: str | None = None
    project_code: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    refused: AppError | None = None


def submit_task_form(task_id: int) -> Submission:
    """Complete a visible task with its posted form; 404s propagate, other refusals are returned."""
    with unit_of_work(write=False) as session:
        form_name = tasks.visible_task(session, g.user, task_id).form
    if not form_name:
        abort(404)
    data, errors = read_form(form_name)
    if errors:
        return Submission(errors=errors)
    try:
        with unit_of_work() as session:
            row = instances.complete_task(session, platform(), task_id, data, g.user)
            return Submission(title=row.title, project_code=row.instance.project.code)
    except FormValidationError as exc:
        return Submission(errors=form_errors(form_name, exc))
    except AppError as exc:  # held by someone else, already done, or refused by the engine
        if exc.status == 404:
            raise
        return Submission(refused=exc)

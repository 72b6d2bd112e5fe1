"""Helpers shared by the page blueprints: schema forms, paging, progress, material downloads."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request, send_file, url_for

from engine.errors import FormValidationError

from . import formrender
from .services import materials, progress
from .web import platform


def page_number() -> int:
    """The ``page`` query argument (1 when missing or nonsense)."""
    raw = request.args.get("page", "1")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= 100000 else 1


def form_fields(form_name: str, values: dict | None = None, errors: dict | None = None) -> list:
    """The fields of a schema form, ready for the ``render_fields`` macro."""
    forms = platform().forms
    return formrender.fields(forms.schema(form_name), forms.ui_hints(form_name), values, errors)


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
    path = materials.blob_path(platform(), material)
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype=material.content_type, as_attachment=True,
                     download_name=material.original_name, max_age=0)


def diagram_response(session, project, instance_id: int) -> Response:
    """The BPMN XML of one of the project's instances (for the bpmn-js viewer)."""
    instance = next((i for i in project.instances if i.id == instance_id), None)
    xml = progress.diagram_xml(session, instance.spec_key) if instance else None
    if xml is None:
        abort(404)
    return Response(xml, mimetype="application/xml")


def diagram_marks_response(session, project, instance_id: int) -> Response:
    """The done and active element ids of one of the project's instances (JSON, for the viewer)."""
    instance = next((i for i in project.instances if i.id == instance_id), None)
    if instance is None:
        abort(404)
    return jsonify(progress.diagram_marks(platform(), instance))


def progress_context(session, project, instance_arg: str | None = None,
                     diagram_endpoint: str = "portal.diagram") -> dict[str, Any]:
    """Template values of the shared progress panel (the viewer fetches the diagram and its marks)."""
    view = progress.project_progress(session, platform(), project)
    shown = None
    if instance_arg and instance_arg.isdigit():
        shown = next((i for i in view.instances if i.id == int(instance_arg)), None)
    if shown is None:
        running = [i for i in view.instances if i.status == "running"]
        shown = running[0] if running else (view.instances[-1] if view.instances else None)
    code = project.code
    return {"progress": view, "shown": shown,
            "diagram_url": lambda instance_id: url_for(diagram_endpoint, code=code, instance_id=instance_id),
            "marks_url": lambda instance_id: url_for(diagram_endpoint + "_marks", code=code,
                                                     instance_id=instance_id)}

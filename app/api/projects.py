"""Projects and stage applications."""

from __future__ import annotations

from flask import g, jsonify

from ..services.forecast import eta
from ..services.people import projects
from ..web import json_body, platform, unit_of_work
from . import bp, require_role


@bp.post("/projects")
def create_project():
    """Declare a project; the response carries its code."""
    require_role("applicant", "window", "admin")
    body = json_body()
    with unit_of_work() as session:
        project = projects.create_project(session, platform(), g.user, body)
        view = projects.project_view(session, platform(), project)
    return jsonify(view), 201


@bp.get("/projects/<code>")
def get_project(code: str):
    """The project with its stages, items, their states and deadlines."""
    with unit_of_work(write=False) as session:
        project = projects.visible_project(session, g.user, code)
        return jsonify(_with_eta(session, project, projects.project_view(session, platform(), project, code=code)))


@bp.post("/projects/<code>/stages/<key>/applications")
def apply(code: str, key: str):
    """Start a stage with its one application form."""
    body = json_body()
    with unit_of_work() as session:
        instance = projects.apply_for_stage(session, platform(), g.user, code, key, body.get("data"))
        view = {"instance_id": instance.id, "stage": key, "status": instance.status,
                "spec": instance.spec_key}
    return jsonify(view), 201


@bp.post("/projects/<code>/stages/<key>/checklist")
def stage_checklist(code: str, key: str):
    """The materials and signable items of a stage application with the answers given so far."""
    body = json_body()
    with unit_of_work(write=False) as session:
        return jsonify(projects.stage_checklist(session, platform(), g.user, code, key, body.get("data")))


@bp.get("/public/projects/<code>")
def public_project(code: str):
    """Progress by code (码上查): public fields only, no login."""
    with unit_of_work(write=False) as session:
        project = projects.find_project(session, code)
        return jsonify(_with_eta(session, project,
                                 projects.project_view(session, platform(), project, public=True, code=code)))


def _with_eta(session, project, view: dict) -> dict:
    """Each running stage's expected completion (median and p90 "at the latest"), null without a model."""
    etas = eta.project_etas(session, platform(), project)
    for stage in view["stages"]:
        found = etas.get(stage["key"])
        stage["eta"] = found.as_dict() if found else None
    return view

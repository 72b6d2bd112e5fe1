"""三级工程码: issuing sub-project (level 2) and unit or section (level 3) codes."""

from __future__ import annotations

from flask import g, jsonify

from ..services.catalogue import engineering_codes
from ..services.people import projects
from ..web import json_body, platform, unit_of_work
from . import bp


@bp.post("/projects/<code>/sub-projects")
def issue_sub_projects(code: str):
    """Split a project into sub-projects: ``{names: [...]}`` -> their level-2 codes."""
    body = json_body()
    with unit_of_work() as session:
        project = projects.visible_project(session, g.user, code)
        rows = engineering_codes.issue_sub_projects(session, platform(), g.user, project, code, body.get("names"))
        return jsonify({"codes": [engineering_codes.part_view(r, project) for r in rows]}), 201


@bp.post("/projects/<code>/sections")
def issue_sections(code: str):
    """Units or sections of a sub-project: ``{names: [...], kind: unit|section}`` -> level-3 codes."""
    body = json_body()
    with unit_of_work() as session:
        project = projects.visible_project(session, g.user, code)
        rows = engineering_codes.issue_sections(session, platform(), g.user, project, code, body.get("names"),
                                                body.get("kind", "unit"))
        return jsonify({"codes": [engineering_codes.part_view(r, project) for r in rows]}), 201


@bp.get("/projects/<code>/codes")
def list_codes(code: str):
    """The project's issued level-2 codes, each with its level-3 codes."""
    with unit_of_work(write=False) as session:
        project = projects.visible_project(session, g.user, code)
        return jsonify({"project": project.code, "part": engineering_codes.part_view(
            engineering_codes.part(session, code), project),
            "codes": engineering_codes.codes_view(session, project)})

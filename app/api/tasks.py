"""The inbox and task actions."""

from __future__ import annotations

from flask import g, jsonify, request

from ..errors import InvalidInput
from ..models import HumanTask
from ..services.people import listings
from ..services.people.projects import application_of
from ..services.timelimits import lights
from ..services.workflow import instances, tasks
from ..web import int_arg, json_body, platform, unit_of_work
from . import bp


def task_view(row: HumanTask, detail: bool = False) -> dict:
    """A task as the API shows it."""
    view = {"id": row.id, "title": row.title, "task": row.spec_name, "process": row.process_id,
            "stage": row.instance.stage_key, "project_code": row.instance.project.code,
            "project_name": row.instance.project.name, "lane": row.lane_role, "unit_id": row.unit_id,
            "item_code": row.item_code, "form": row.form, "status": row.status,
            "assignee_id": row.assignee_id, "created_at": row.created_at.isoformat(),
            "due_at": row.due_at.isoformat() if row.due_at else None, "outcome": row.outcome,
            "handling_id": row.handling_id, "audience": row.audience,
            "light": lights.task_light(row, platform().now())}
    if detail:
        view["schema"] = platform().forms.schema(row.form) if row.form else None
        view["ui"] = platform().forms.ui_hints(row.form) if row.form else {}
        view["application"] = application_of(row.instance)
        enterprise = row.instance.project.enterprise
        view["registered_enterprise"] = {"name": enterprise.name, "credit_code": enterprise.credit_code}
    return view


def _int_arg(name: str, default: int, maximum: int) -> int:
    return int_arg(name, default, 1, maximum)


@bp.get("/tasks")
def inbox():
    """The caller's inbox: open tasks routed to their unit, oldest deadline first (``?light=`` filters)."""
    page = _int_arg("page", 1, 100000)
    size = _int_arg("page_size", platform().settings.PAGE_SIZE, 500)
    with unit_of_work(write=False) as session:
        result = listings.inbox(session, platform(), g.user, page, size, stage=request.args.get("stage"),
                                item=request.args.get("item"), project=request.args.get("project"),
                                light=request.args.get("light"))
        return jsonify({"tasks": [task_view(r) for r in result.rows], "total": result.total,
                        "page": result.page, "page_size": result.page_size})


@bp.get("/tasks/<int:task_id>")
def get_task(task_id: int):
    """One task with its form's JSON Schema and the application."""
    with unit_of_work(write=False) as session:
        return jsonify(task_view(tasks.visible_task(session, g.user, task_id), detail=True))


@bp.post("/tasks/<int:task_id>/claim")
def claim(task_id: int):
    """Hold a task; 409 when someone else holds it."""
    with unit_of_work() as session:
        return jsonify(task_view(tasks.claim(session, g.user, task_id)))


@bp.post("/tasks/<int:task_id>/unclaim")
def unclaim(task_id: int):
    """Give a task back."""
    with unit_of_work() as session:
        return jsonify(task_view(tasks.unclaim(session, g.user, task_id)))


@bp.post("/tasks/<int:task_id>/complete")
def complete(task_id: int):
    """Complete a task with its form data: 200, 409 if already done or held, 422 on form errors."""
    body = json_body()
    data = body.get("data")
    if not isinstance(data, dict):
        raise InvalidInput("'data' must be an object with the task's form", {"data": "required"})
    with unit_of_work() as session:
        row = instances.complete_task(session, platform(), task_id, data, g.user)
        return jsonify(task_view(row))

"""Catalogue, units, deployed processes and statistics."""

from __future__ import annotations

from dataclasses import asdict

from flask import g, jsonify, request
from sqlalchemy import func, select

from ..errors import InvalidInput, NotFound
from ..models import HumanTask, ItemHandling, ProcessInstance, Project, Unit
from ..services.flows import deployments, versions
from ..services.timelimits import lights
from ..web import platform, unit_of_work
from . import bp, require_role

MAX_UPLOAD_FILES = 50


def _item_view(item) -> dict:
    return asdict(item) if hasattr(item, "__dataclass_fields__") else dict(item)


@bp.get("/catalog/items")
def catalog_items():
    """The item list, filtered by stage, department role or name."""
    stage, role, name = request.args.get("stage"), request.args.get("role"), request.args.get("q")
    items = [i for i in platform().catalog.items
             if (not stage or i.stage == stage) and (not role or i.role == role)
             and (not name or name in i.name)]
    return jsonify({"items": [_item_view(i) for i in items], "total": len(items)})


@bp.get("/catalog/items/<code>")
def catalog_item(code: str):
    """One item's service guide with all its elements."""
    try:
        item = platform().catalog.item(code)
    except Exception:
        raise NotFound(f"no catalogue item {code!r}") from None
    return jsonify(_item_view(item))


@bp.get("/units")
def list_units():
    """Every unit with its level, division and roles."""
    with unit_of_work(write=False) as session:
        units = session.scalars(select(Unit).order_by(Unit.id)).all()
        return jsonify({"units": [{"id": u.id, "code": u.code, "name": u.name, "level": u.level,
                                   "division": u.division_code, "kind": u.kind,
                                   "roles": sorted(r.role for r in u.roles)} for u in units]})


@bp.get("/processes")
def list_processes():
    """Deployed versions of the flows."""
    with unit_of_work(write=False) as session:
        return jsonify({"deployments": deployments.list_processes(session)})


@bp.post("/processes")
def upload_processes():
    """Save a draft version: multipart files replacing or adding to the active set (activate it apart)."""
    require_role("analyst", "admin")
    uploads = request.files.getlist("files") or request.files.getlist("file")
    if not uploads:
        raise InvalidInput("send one or more BPMN/DMN files as multipart field 'files'")
    if len(uploads) > MAX_UPLOAD_FILES:
        raise InvalidInput(f"at most {MAX_UPLOAD_FILES} files per deployment")
    with unit_of_work() as session:
        files = deployments.active_files(session)
        for upload in uploads:
            name = deployments.clean_name(upload.filename or "")
            files[name] = upload.read(deployments.MAX_BYTES + 1)
        deployment, created = versions.save_draft(session, platform(), files, g.user,
                                                  comment=request.form.get("comment", "")[:500])
        return jsonify({"version": deployment.version, "content_hash": deployment.content_hash,
                        "unchanged": not created, "active": deployment.active}), 201 if created else 200


@bp.get("/stats")
def stats():
    """Counts of projects, items handled, open tasks and overdue items."""
    with unit_of_work(write=False) as session:
        now = platform().now()
        return jsonify({
            "projects": session.scalar(select(func.count(Project.id))),
            "instances_running": session.scalar(select(func.count(ProcessInstance.id)).where(
                ProcessInstance.status == "running")),
            "items_handled": session.scalar(select(func.count(ItemHandling.id))),
            "items_finished": session.scalar(select(func.count(ItemHandling.id)).where(
                ItemHandling.finished_at.is_not(None))),
            "items_overdue": session.scalar(select(func.count(ItemHandling.id)).where(
                ItemHandling.finished_at.is_(None), lights.condition(lights.RED, now))),
            "lights": lights.counts(session, now),  # open item handlings per light
            "tasks_open": session.scalar(select(func.count(HumanTask.id)).where(HumanTask.status == "open")),
        })

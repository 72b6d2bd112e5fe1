"""Versions of the flows for analysts: compare, re-activate, export, migrate, undo."""

from __future__ import annotations

from flask import Response, g, jsonify

from ..errors import InvalidInput
from ..services.flows import versions
from ..services.people import projects
from ..services.workflow import migrations
from ..web import int_arg, json_body, platform, unit_of_work, whole_number
from . import bp, require_role

ANALYSTS = ("analyst", "admin")


@bp.get("/processes/<int:old>/diff/<int:new>")
def diff_versions(old: int, new: int):
    """Elements added, removed and changed per process between two versions."""
    require_role(*ANALYSTS)
    with unit_of_work(write=False) as session:
        return jsonify(versions.compare(session, old, new))


@bp.get("/processes/<int:version>/activation")
def activation_preview(version: int):
    """What activating a version changes: the diff, the stages that will start on it, who stays where."""
    require_role(*ANALYSTS)
    with unit_of_work(write=False) as session:
        preview = versions.activation_preview(session, version)
        preview["awaiting"] = projects.awaiting_stages(session, preview["changed_processes"])
        return jsonify(preview)


@bp.post("/processes/<int:version>/activate")
def activate_version(version: int):
    """Make a version the one new instances start on, confirmed: ``{confirm: true, replacing}`` (audited)."""
    require_role(*ANALYSTS)
    body = json_body()
    replacing = body.get("replacing")
    if body.get("confirm") is not True:
        raise InvalidInput("activation must be confirmed: send {confirm: true, replacing: <active version>} "
                           f"after reading GET /api/v1/processes/{version}/activation",
                           {"confirm": "must be true"})
    if replacing is not None and (not isinstance(replacing, int) or isinstance(replacing, bool)):
        raise InvalidInput("'replacing' is the active version number you compared against",
                           {"replacing": "an integer"})
    with unit_of_work() as session:
        deployment = versions.activate(session, platform(), version, g.user, replacing=replacing)
        return jsonify({"version": deployment.version, "active": True})


@bp.get("/processes/<int:version>/export")
def export_version(version: int):
    """A version's files as a zip archive laid out like ``processes/``."""
    require_role(*ANALYSTS)
    with unit_of_work(write=False) as session:
        archive = versions.export_zip(session, version)
    return Response(archive, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="processes-v{version}.zip"'})


@bp.get("/processes/<int:version>/files/<path:name>")
def version_file(version: int, name: str):
    """One BPMN or DMN file of a version, as XML."""
    require_role(*ANALYSTS)
    with unit_of_work(write=False) as session:
        content = versions.file_of(session, version, name)
    return Response(content, mimetype="application/xml")


@bp.get("/instances/<int:instance_id>/migration-check")
def migration_check(instance_id: int):
    """Whether an instance could move to ``?version=N``, and why not."""
    require_role(*ANALYSTS)
    version = int_arg("version")
    if version is None:
        raise InvalidInput("name the target version: ?version=N")
    with unit_of_work(write=False) as session:
        reasons = migrations.check_migration(session, platform(), instance_id, version)
    return jsonify({"instance": instance_id, "version": version, "allowed": not reasons, "reasons": reasons})


@bp.post("/processes/<int:version>/migrations")
def migrate_instances(version: int):
    """Move chosen running instances to a version: ``{"instances": [ids]}``; one result each."""
    require_role(*ANALYSTS)
    ids = json_body().get("instances")
    if not isinstance(ids, list) or not ids or not all(whole_number(i) is not None for i in ids) or len(ids) > 200:
        raise InvalidInput("send {\"instances\": [ids]} with 1 to 200 instance ids")
    with unit_of_work() as session:
        results = migrations.migrate_many(session, platform(), ids, version, g.user)
    return jsonify({"version": version, "results": results})


@bp.get("/migrations")
def list_migrations():
    """Recent migrations (``?instance=ID`` for one instance's)."""
    require_role(*ANALYSTS)
    with unit_of_work(write=False) as session:
        return jsonify({"migrations": migrations.list_migrations(session, int_arg("instance"))})


@bp.post("/migrations/<int:migration_id>/undo")
def undo_migration(migration_id: int):
    """Undo a migration while the instance has not moved on since."""
    require_role(*ANALYSTS)
    with unit_of_work() as session:
        record = migrations.undo_migration(session, platform(), migration_id, g.user)
        return jsonify(migrations.migration_view(record))

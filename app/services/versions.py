"""Versions of the flows: deploy, compare, re-activate, export; migrate running instances.

Every deployment is a new version (``deployments.deploy``); a file set identical
to the active version is reported as unchanged and adds none.  New instances
start on the active version and running ones stay on theirs until an analyst
migrates them; every migration keeps the state it replaced so that it can be
undone while the instance has not moved on.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.errors import EngineError
from engine.versions import diff_files, list_contents, migrate, migration_blockers

from ..errors import Conflict, InvalidInput, NotFound
from ..models import Deployment, DeploymentFile, HumanTask, InstanceMigration, ProcessInstance, User
from . import audit, deployments, instances

if TYPE_CHECKING:
    from ..platform import Platform


def publish(session: Session, platform: Platform, files: Mapping[str, bytes], actor: User,
            comment: str = "") -> tuple[Deployment, bool]:
    """Deploy a file set as the active version; ``(deployment, created)``, audited when created."""
    before = session.scalar(select(Deployment.version).where(Deployment.active.is_(True)))
    deployment = deployments.deploy(session, platform, files, author=actor.username, comment=comment)
    created = deployment.version != before
    if created:
        audit.record(session, platform, "process_deployed", actor=actor,
                     detail={"version": deployment.version, "previous": before, "comment": comment,
                             "content_hash": deployment.content_hash})
    return deployment, created


def get_deployment(session: Session, version: int) -> Deployment:
    """A deployment by version, or 404."""
    deployment = session.get(Deployment, version)
    if deployment is None:
        raise NotFound(f"there is no deployed version {version}")
    return deployment


def files_of(session: Session, version: int) -> dict[str, bytes]:
    """The complete file set of a version."""
    get_deployment(session, version)
    rows = session.scalars(select(DeploymentFile).where(DeploymentFile.version == version))
    return {row.path: row.content for row in rows}


def file_of(session: Session, version: int, path: str) -> bytes:
    """One file of a version, or 404."""
    row = session.get(DeploymentFile, (version, path))
    if row is None:
        raise NotFound(f"version {version} has no file {path!r}")
    return row.content


def contents(session: Session, version: int) -> list[dict]:
    """The files of a version with the processes and decisions each defines."""
    return list_contents(files_of(session, version))


def compare(session: Session, old: int, new: int) -> dict:
    """Elements added, removed and changed per process from version ``old`` to ``new``."""
    result = diff_files(files_of(session, old), files_of(session, new))
    return {"from": old, "to": new, **result}


def activate(session: Session, platform: Platform, version: int, actor: User) -> Deployment:
    """Make an existing version the one new instances start on (audited)."""
    deployment = get_deployment(session, version)
    before = session.scalar(select(Deployment.version).where(Deployment.active.is_(True)))
    if before == version:
        raise Conflict(f"version {version} is already active")
    session.execute(update(Deployment).values(active=False))
    deployment.active = True
    session.flush()
    audit.record(session, platform, "deployment_activated", actor=actor,
                 detail={"version": version, "previous": before})
    return deployment


def export_zip(session: Session, version: int) -> bytes:
    """A zip archive of a version's files, laid out as ``processes/``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(files_of(session, version).items()):
            archive.writestr(path, content)
    return buffer.getvalue()


def export_to_directory(session: Session, version: int, directory: Path) -> list[Path]:
    """Write a version's files below ``directory``; returns the paths written."""
    directory = Path(directory).resolve()
    written = []
    for path, content in sorted(files_of(session, version).items()):
        target = (directory / deployments.clean_name(path)).resolve()
        if directory not in target.parents:
            raise InvalidInput(f"file name {path!r} leaves the export directory")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        written.append(target)
    return written


def running_instances(session: Session, process_id: str | None = None, limit: int = 200) -> list[dict]:
    """Running instances (newest first) with their spec key and open tasks."""
    query = select(ProcessInstance).where(ProcessInstance.status == "running")
    if process_id:
        query = query.where(ProcessInstance.process_id == process_id)
    rows = session.scalars(query.order_by(ProcessInstance.id.desc()).limit(limit)).unique().all()
    open_tasks: dict[int, list[str]] = {}
    for task in session.scalars(select(HumanTask).where(
            HumanTask.status == "open", HumanTask.instance_id.in_([r.id for r in rows]))):
        open_tasks.setdefault(task.instance_id, []).append(task.title)
    return [{"id": r.id, "project_code": r.project.code, "stage": r.stage_key, "process_id": r.process_id,
             "spec_key": r.spec_key, "version": int(r.spec_key.rpartition("@")[2]),
             "open_tasks": sorted(open_tasks.get(r.id, []))} for r in rows]


def _target(session: Session, platform: Platform, instance: ProcessInstance, version: int):
    get_deployment(session, version)
    if instance.status != "running":
        raise Conflict(f"instance {instance.id} is {instance.status}; only running instances move")
    if instance.spec_key == f"{instance.process_id}@{version}":
        raise Conflict(f"instance {instance.id} already runs on version {version}")
    return platform.specs.get(instance.process_id, version)


def check_migration(session: Session, platform: Platform, instance_id: int, version: int) -> list[str]:
    """Why an instance cannot move to ``version`` (empty when it can); changes nothing."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound(f"process instance {instance_id} does not exist")
    bundle = _target(session, platform, instance, version)
    workflow = platform.runtime.load(instance.state, instance.spec_key, instance.serializer_version)
    return migration_blockers(workflow, bundle)


def migrate_instance(session: Session, platform: Platform, instance_id: int, version: int,
                     actor: User) -> InstanceMigration:
    """Move one running instance to ``version`` under its row lock; 409 with the reasons if refused."""
    instance = instances.lock_instance(session, instance_id)
    bundle = _target(session, platform, instance, version)
    previous_state, previous_format = instance.state, instance.serializer_version
    from_key = instance.spec_key
    workflow = platform.runtime.load(previous_state, from_key, previous_format)
    reasons = migration_blockers(workflow, bundle)
    if reasons:
        raise Conflict(f"instance {instance_id} cannot move to version {version}: {'; '.join(reasons)}",
                       {str(i): reason for i, reason in enumerate(reasons)})
    try:
        migrate(workflow, bundle)
    except (EngineError, ValueError) as exc:
        raise Conflict(f"instance {instance_id} could not be migrated: {exc}") from exc
    instance.spec_key = bundle.key
    instances.save(session, platform, instance, workflow)
    record = InstanceMigration(instance_id=instance.id, from_spec_key=from_key, to_spec_key=bundle.key,
                               previous_state=previous_state, previous_serializer_version=previous_format,
                               row_version_after=instance.version, actor_id=actor.id,
                               actor_name=actor.username, migrated_at=platform.now())
    session.add(record)
    session.flush()
    audit.record(session, platform, "instance_migrated", actor=actor, instance=instance,
                 detail={"from": from_key, "to": bundle.key, "migration": record.id})
    return record


def migrate_many(session: Session, platform: Platform, instance_ids: list[int], version: int,
                 actor: User) -> list[dict]:
    """Migrate each chosen instance on its own savepoint; one result (or refusal) per instance."""
    results = []
    for instance_id in instance_ids:
        try:
            with session.begin_nested():
                record = migrate_instance(session, platform, instance_id, version, actor)
            results.append({"instance": instance_id, "migrated": True, "migration": record.id,
                            "spec_key": record.to_spec_key})
        except (Conflict, NotFound, EngineError) as exc:
            reasons = list((getattr(exc, "fields", None) or {}).values()) or [exc.message]
            results.append({"instance": instance_id, "migrated": False, "reasons": reasons})
    return results


def undo_migration(session: Session, platform: Platform, migration_id: int, actor: User) -> InstanceMigration:
    """Put an instance back on its previous version while it has not moved on since."""
    record = session.get(InstanceMigration, migration_id)
    if record is None:
        raise NotFound(f"there is no migration {migration_id}")
    if record.undone_at is not None:
        raise Conflict(f"migration {migration_id} was already undone")
    instance = instances.lock_instance(session, record.instance_id)
    if instance.version != record.row_version_after or instance.spec_key != record.to_spec_key:
        raise Conflict(f"instance {instance.id} has moved on since migration {migration_id}; "
                       "it can no longer be undone")
    workflow = platform.runtime.load(record.previous_state, record.from_spec_key,
                                     record.previous_serializer_version)
    instance.spec_key = record.from_spec_key
    instances.save(session, platform, instance, workflow)
    record.undone_at, record.undone_by = platform.now(), actor.username
    audit.record(session, platform, "instance_migration_undone", actor=actor, instance=instance,
                 detail={"from": record.to_spec_key, "to": record.from_spec_key, "migration": record.id})
    return record


def list_migrations(session: Session, instance_id: int | None = None, limit: int = 200) -> list[dict]:
    """Recent migrations, newest first."""
    query = select(InstanceMigration).order_by(InstanceMigration.id.desc()).limit(limit)
    if instance_id is not None:
        query = query.where(InstanceMigration.instance_id == instance_id)
    return [migration_view(m) for m in session.scalars(query)]


def migration_view(record: InstanceMigration) -> dict:
    """The JSON view of a migration record."""
    return {"id": record.id, "instance": record.instance_id, "from": record.from_spec_key,
            "to": record.to_spec_key, "by": record.actor_name, "at": record.migrated_at.isoformat(),
            "undone_at": record.undone_at.isoformat() if record.undone_at else None,
            "undone_by": record.undone_by}

"""Moving running instances between deployed versions, and undoing a move.

A migration runs SpiffWorkflow's diff and migrate under the instance's row lock;
it is refused, with the reason, when the change touches completed or active
tasks.  Every migration keeps the state it replaced, so that it can be undone
while the instance has not moved on.  Migrating is an operation on running
instances, so it lives with them in the workflow layer; the versions it moves
between belong to ``services.flows``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineError
from engine.versions import migrate, migration_blockers

from ...errors import Conflict, NotFound
from ...models import HumanTask, InstanceMigration, ProcessInstance, User
from ..flows.versions import get_deployment
from ..trail import audit
from . import instances

if TYPE_CHECKING:
    from ...platform import Platform


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

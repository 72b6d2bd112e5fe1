"""Versions of the flows: save drafts, compare, activate, export.

Saving a file set makes a new *draft* version (``deployments.deploy``); a set
identical to a stored version is reported as unchanged and adds none.  A version
goes live only by ``activate``, which the analyst confirms after seeing the
difference from the active version and what will start on it
(``activation_preview``); re-activating an older version goes the same way.  New
instances start on the active version and running ones stay on theirs until an
analyst migrates them (``services.workflow.migrations``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.versions import diff_files, list_contents

from ...db import is_sqlite
from ...errors import Conflict, InvalidInput, NotFound
from ...models import Deployment, DeploymentFile, ProcessInstance, User
from ..trail import audit
from . import deployments

if TYPE_CHECKING:
    from ...platform import Platform


def save_draft(session: Session, platform: Platform, files: Mapping[str, bytes], actor: User,
               comment: str = "") -> tuple[Deployment, bool]:
    """Store a validated file set as a draft version; ``(deployment, created)``, audited when created."""
    latest = session.scalar(select(func.max(Deployment.version)))
    deployment = deployments.deploy(session, platform, files, author=actor.username, comment=comment)
    created = deployment.version > (latest or 0)
    if created:
        audit.record(session, platform, "process_deployed", actor=actor,
                     detail={"version": deployment.version, "draft": True, "comment": comment,
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


def activation_preview(session: Session, version: int) -> dict:
    """What activating ``version`` changes: the diff from the active version and who runs on what.

    ``processes``: the processes whose elements differ (new applications of their
    stages start on the new version); ``running``: the running instances by
    process and version, which stay where they are until migrated.
    """
    get_deployment(session, version)
    active = deployments.active_version(session)
    diff = compare(session, active, version)
    changed = [p["id"] for p in diff["processes"] if p["status"] != "unchanged"]
    rows = session.execute(select(ProcessInstance.process_id, ProcessInstance.spec_key, func.count())
                           .where(ProcessInstance.status == "running")
                           .group_by(ProcessInstance.process_id, ProcessInstance.spec_key)).all()
    running = [{"process_id": p, "version": int(k.rpartition("@")[2]), "count": n} for p, k, n in rows]
    return {"version": version, "active": active, "diff": diff, "changed_processes": changed,
            "running": sorted(running, key=lambda r: (r["process_id"], r["version"]))}


def activate(session: Session, platform: Platform, version: int, actor: User,
             replacing: int | None = None) -> Deployment:
    """Make an existing version the one new instances start on (audited).

    ``replacing`` is the active version the analyst saw when confirming: if
    another analyst activated a version meanwhile, the activation is refused
    (409) rather than replacing a version nobody compared against.
    """
    deployment = get_deployment(session, version)
    query = select(Deployment.version).where(Deployment.active.is_(True))
    if not is_sqlite(session):
        query = query.with_for_update()
    before = session.scalar(query)
    if before == version:
        raise Conflict(f"version {version} is already active")
    if replacing is not None and replacing != before:
        raise Conflict(f"version {before} was activated meanwhile; compare against it and confirm again")
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

"""Versions of the flows: deploy, compare, re-activate, export.

Every deployment is a new version (``deployments.deploy``); a file set identical
to the active version is reported as unchanged and adds none.  New instances
start on the active version and running ones stay on theirs until an analyst
migrates them (``services.workflow.migrations``).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.versions import diff_files, list_contents

from ...errors import Conflict, InvalidInput, NotFound
from ...models import Deployment, DeploymentFile, User
from ..trail import audit
from . import deployments

if TYPE_CHECKING:
    from ...platform import Platform


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

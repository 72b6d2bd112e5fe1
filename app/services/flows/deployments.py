"""Deployed versions of the flows: the files in ``processes/`` are version 1."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine.errors import ProcessDefinitionError
from engine.lint import LintContext, lint_deployment
from engine.specs import build_bundles, parse_deployment

from ...db import is_sqlite
from ...errors import InvalidInput
from ...models import Deployment, DeploymentFile
from ...stages import REQUIRED_PROCESSES


def content_hash(files: Mapping[str, bytes]) -> str:
    """A stable hash over the names and contents of a file set."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def active_version(session: Session) -> int:
    """The version new instances start on."""
    version = session.scalar(select(Deployment.version).where(Deployment.active.is_(True)))
    if version is None:
        raise InvalidInput("no process deployment is active; run init-db")
    return version


def deploy(session: Session, platform, files: Mapping[str, bytes], author: str, comment: str = "",
           activate: bool = False) -> Deployment:
    """Validate and store a complete file set as a new (draft) version.

    The files are parsed with XSD validation, checked against our rules
    (``engine.lint``) and built; any problem refuses the whole set.  A set
    identical to a stored version is reported as unchanged: that deployment is
    returned and no version is added.  The new version is a draft: it goes live
    only by ``versions.activate`` (``activate=True`` is for the first version,
    which the set-up deploys).
    """
    parser = parse_deployment(files)
    problems = lint_deployment(parser, LintContext.of(platform.catalog, platform.forms))
    if problems:
        raise ProcessDefinitionError(f"the deployment breaks {len(problems)} rule(s)", problems)
    bundles = build_bundles(parser, 0)
    missing = [p for p in REQUIRED_PROCESSES if p not in bundles]
    if missing:
        raise InvalidInput(f"the deployment lacks processes: {', '.join(missing)}")
    query = select(Deployment).where(Deployment.active.is_(True))
    if not is_sqlite(session):  # one deploy at a time: the active row is the lock (SQLite: BEGIN IMMEDIATE)
        query = query.with_for_update()
    session.scalar(query)
    same = session.scalar(select(Deployment).where(Deployment.content_hash == content_hash(files))
                          .order_by(Deployment.active.desc(), Deployment.version.desc()).limit(1))
    if same is not None:
        return same
    version = (session.scalar(select(func.max(Deployment.version))) or 0) + 1
    if activate:
        session.execute(update(Deployment).values(active=False))
    deployment = Deployment(version=version, content_hash=content_hash(files), author=author,
                            comment=comment, active=activate, created_at=platform.now())
    deployment.files = [DeploymentFile(path=p, content=c) for p, c in sorted(files.items())]
    session.add(deployment)
    session.flush()
    return deployment


def list_processes(session: Session) -> list[dict]:
    """Every deployment with its files' process ids."""
    rows = session.scalars(select(Deployment).order_by(Deployment.version)).all()
    return [{"version": d.version, "active": d.active, "author": d.author, "comment": d.comment,
             "content_hash": d.content_hash, "created_at": d.created_at.isoformat(),
             "files": [f.path for f in d.files]} for d in rows]


MAX_BYTES = 2 * 1024 * 1024


def clean_name(name: str) -> str:
    """A safe relative file name for an uploaded process file."""
    import posixpath
    import re
    name = posixpath.normpath(name.replace("\\", "/")).lstrip("/")
    if name.startswith("..") or not re.fullmatch(r"[A-Za-z0-9_./-]{1,150}\.(bpmn|dmn)", name):
        raise InvalidInput(f"file name {name!r} is not a .bpmn or .dmn file name",
                           {"files": "use names like stages/construction.bpmn"})
    return name


def active_files(session: Session) -> dict[str, bytes]:
    """The file set of the active deployment."""
    version = active_version(session)
    rows = session.scalars(select(DeploymentFile).where(DeploymentFile.version == version))
    return {row.path: row.content for row in rows}

"""Where issued PDFs are kept: the platform's store (``app.storage``), beside the uploaded materials.

A document is stored by its SHA-256 as ``documents/ab/abcdef….pdf`` through ``platform.storage``:
the filesystem under ``HN_UPLOAD_DIR``, or S3-compatible object storage with
``HN_STORAGE_URL=s3://…``, so every node of a cluster serves what any node signed.  Writing is
content-addressed, so a retried or doubled write is harmless and a failed transaction leaves
at most an unreferenced object.

Documents issued before kept their files under ``DOCUMENT_DIR`` with keys without the
``documents/`` prefix (``ab/abcdef….pdf``); they are still read from there, and
``flask seal move-documents`` (:func:`move_legacy`) copies them into the store.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import IssuedDocument
from ...storage import check_key

PREFIX = "documents/"


def key_of(digest: str) -> str:
    """The storage key of a document's bytes (by their sha256)."""
    return f"{PREFIX}{digest[:2]}/{digest}.pdf"


def put(platform, data: bytes) -> tuple[str, str]:
    """Keep ``data`` in the platform's store; return ``(storage key, sha256)``."""
    digest = hashlib.sha256(data).hexdigest()
    key = key_of(digest)
    storage = platform.storage
    if not storage.exists(key):
        storage.put(key, data, "application/pdf")
    return key, digest


def get(platform, key: str) -> bytes:
    """The bytes kept under ``key`` (``FileNotFoundError`` if gone; ``StorageError`` if the store is down)."""
    if not key.startswith(PREFIX):
        data = _legacy(platform.settings, key)
    else:
        try:
            data = platform.storage.get(key)
        except ValueError:  # not a storage key: nothing is kept under it
            data = None
    if data is None:
        raise FileNotFoundError(key)
    return data


def _legacy(settings, key: str) -> bytes | None:
    """A document file kept under ``DOCUMENT_DIR`` before documents went to the store, or None."""
    try:
        path = Path(settings.DOCUMENT_DIR) / check_key(key)
        return path.read_bytes()
    except (ValueError, FileNotFoundError, IsADirectoryError):
        return None


def move_legacy(session: Session, platform) -> dict[str, list[str]]:
    """Copy every document still under ``DOCUMENT_DIR`` into the store and point its row there.

    Each file is checked against the row's sha256 first; a missing or different file is named
    and its row left as it is.  The old files stay where they were (remove ``DOCUMENT_DIR`` once
    this reports nothing missing).  Returns ``{"moved": [cert ids], "missing": [cert ids]}``.
    """
    rows = session.scalars(select(IssuedDocument).where(IssuedDocument.storage_key.is_not(None),
                                                        IssuedDocument.storage_key.not_like(f"{PREFIX}%"))
                           .order_by(IssuedDocument.id).with_for_update())
    done: dict[str, list[str]] = {"moved": [], "missing": []}
    for doc in rows:
        data = _legacy(platform.settings, doc.storage_key)
        if data is None or hashlib.sha256(data).hexdigest() != doc.sha256:
            done["missing"].append(doc.cert_id)
            continue
        doc.storage_key, _ = put(platform, data)
        done["moved"].append(doc.cert_id)
    return done

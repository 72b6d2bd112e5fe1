"""Where issued PDFs are kept: one small interface, so another store (S3) can take its place.

Files are named by their SHA-256 under ``DOCUMENT_DIR`` (``ab/abcdef….pdf``), written to a
temporary name and renamed, so a reader never sees half a file and a failed transaction leaves
at most an orphan.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def put(settings, data: bytes) -> tuple[str, str]:
    """Keep ``data``; return ``(storage key, sha256)``."""
    digest = hashlib.sha256(data).hexdigest()
    key = f"{digest[:2]}/{digest}.pdf"
    path = Path(settings.DOCUMENT_DIR) / key
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f".{path.name}.{os.getpid()}")
        temp.write_bytes(data)
        os.replace(temp, path)
    return key, digest


def get(settings, key: str) -> bytes:
    """The bytes kept under ``key`` (``FileNotFoundError`` if gone)."""
    if ".." in key or key.startswith("/"):
        raise FileNotFoundError(key)
    return (Path(settings.DOCUMENT_DIR) / key).read_bytes()

"""Private key files: written 0600 and atomically, so no reader sees half a key or a key others may read.

Used by every domain that keeps a secret on disk (the audit signing key, the seals, the
cookie-signing key), so it sits below the services: the trail, the lowest layer that needs it,
may import no other service.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization


def private_pem(key) -> bytes:
    """A private key as unencrypted PKCS#8 PEM (the file itself is the protection: mode 0600)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def write_private(path: str | Path, data: bytes, keep_existing: bool = False) -> bool:
    """Put ``data`` at ``path`` (mode 0600) through a temporary file; whether these bytes are the file's now.

    ``keep_existing``: when the file is already there (another worker made it first), it stays
    and this call's bytes are dropped (False); otherwise an existing file is replaced.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # 0600, O_EXCL
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        if not keep_existing:
            os.replace(temp, path)
            return True
        try:
            os.link(temp, path)  # fails if the file exists: never overwrite another worker's key
        except FileExistsError:
            return False
        return True
    finally:
        Path(temp).unlink(missing_ok=True)


def owner_only(path: str | Path) -> None:
    """Take away any access but the owner's from an existing key file."""
    path = Path(path)
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        os.chmod(path, 0o600)

"""Signed checkpoints of the audit chain: (seq, head hash) signed with the platform's audit key.

A chain alone cannot show that someone recomputed it from some row on, or cut its tail and
moved the head back.  Every few minutes the scheduler signs the current head with the
platform's ECDSA P-256 key (``AUDIT_KEY_FILE``, made 0600 on first use, never committed) and
writes the checkpoint as a JSON file outside the database (``AUDIT_CHECKPOINT_DIR``).
``flask audit verify --checkpoint FILE`` checks the signature, then that the chain still
carries that hash at that seq.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.orm import Session

from ...keyfiles import private_pem, write_private
from . import audit


class CheckpointError(ValueError):
    """A checkpoint file that cannot be trusted: unreadable, or its signature does not verify."""


def private_key(path: str | Path) -> ec.EllipticCurvePrivateKey:
    """The audit signing key at ``path``, created (0600, atomically) on first use."""
    path = Path(path)
    if not path.exists():
        write_private(path, private_pem(ec.generate_private_key(ec.SECP256R1())), keep_existing=True)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _signed_text(seq: int, head: str, at: str) -> bytes:
    return json.dumps({"seq": seq, "head": head, "at": at}, sort_keys=True, separators=(",", ":")).encode()


def key_id(public: ec.EllipticCurvePublicKey) -> str:
    """A short name of a public key: the first 16 hex digits of its DER's SHA-256."""
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(der)
    return digest.finalize().hex()[:16]


def make(session: Session, platform) -> dict:
    """Sign the current head: ``{seq, head, at, key, signature}``."""
    seq, head = audit.head_state(session)
    key = private_key(platform.settings.AUDIT_KEY_FILE)
    at = platform.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    signature = key.sign(_signed_text(seq, head, at), ec.ECDSA(hashes.SHA256()))
    return {"seq": seq, "head": head, "at": at, "key": key_id(key.public_key()),
            "signature": base64.b64encode(signature).decode("ascii")}


def write(platform, checkpoint: dict) -> Path:
    """Keep a checkpoint as a file in ``AUDIT_CHECKPOINT_DIR`` (and ``latest.json``)."""
    folder = Path(platform.settings.AUDIT_CHECKPOINT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    text = json.dumps(checkpoint, indent=1, sort_keys=True)
    path = folder / f"checkpoint-{checkpoint['seq']:012d}.json"
    path.write_text(text, encoding="utf-8")
    (folder / "latest.json").write_text(text, encoding="utf-8")
    return path


def load(path: str | Path, public: ec.EllipticCurvePublicKey) -> dict:
    """Read a checkpoint file and verify its signature, or raise ``CheckpointError`` saying why."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        seq, head, at = int(data["seq"]), str(data["head"]), str(data["at"])
        signature = base64.b64decode(data["signature"], validate=True)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{path}: not a checkpoint file ({exc.__class__.__name__}: {exc})") from exc
    try:
        public.verify(signature, _signed_text(seq, head, at), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise CheckpointError(f"{path}: the signature does not verify with the platform's audit key "
                              f"({key_id(public)})") from exc
    return {"seq": seq, "head": head, "at": at}


def latest(platform) -> dict | None:
    """The last checkpoint written (unverified: for deciding whether a new one is due)."""
    path = Path(platform.settings.AUDIT_CHECKPOINT_DIR) / "latest.json"
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

"""Private key files: 0600, atomic, one helper for the audit key, the seals and the cookie key."""

from __future__ import annotations

import datetime as dt
import os
import stat

from cryptography.hazmat.primitives import serialization

from app.keyfiles import owner_only, write_private
from app.services.seal import certs
from app.services.security.keys import key_from_file
from app.services.trail import checkpoints


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_key_file_is_written_0600_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "keys" / "a.key.pem"
    assert write_private(path, b"first") is True
    assert path.read_bytes() == b"first" and _mode(path) == 0o600
    assert write_private(path, b"second") is True  # replaced
    assert path.read_bytes() == b"second" and _mode(path) == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["a.key.pem"]


def test_keep_existing_never_overwrites_a_key_another_worker_made(tmp_path):
    path = tmp_path / "audit.key.pem"
    assert write_private(path, b"theirs", keep_existing=True) is True
    assert write_private(path, b"mine", keep_existing=True) is False
    assert path.read_bytes() == b"theirs" and [p.name for p in tmp_path.iterdir()] == ["audit.key.pem"]


def test_owner_only_takes_away_group_and_other_access(tmp_path):
    path = tmp_path / "k"
    path.write_bytes(b"x")
    os.chmod(path, 0o644)
    owner_only(path)
    assert _mode(path) == 0o600


def test_the_audit_key_the_seals_and_the_cookie_key_are_all_0600(tmp_path):
    audit_key = tmp_path / "audit.key.pem"
    first = checkpoints.private_key(audit_key)
    again = checkpoints.private_key(audit_key)  # made once, then read
    der = serialization.PublicFormat.SubjectPublicKeyInfo
    assert first.public_key().public_bytes(serialization.Encoding.DER, der) == \
        again.public_key().public_bytes(serialization.Encoding.DER, der)
    paths = certs.Paths(tmp_path / "seals", tmp_path / "seals" / "root-ca.cert.pem")
    assert certs.issue_seal(paths, "U1", "测试单位", dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    secret = tmp_path / "secret_key"
    assert len(key_from_file(secret)) >= 16
    for path in (audit_key, paths.root_key, paths.seal_key("U1"), secret):
        assert _mode(path) == 0o600, path
    assert not [p for p in tmp_path.rglob(".*")]  # no temporary file left anywhere

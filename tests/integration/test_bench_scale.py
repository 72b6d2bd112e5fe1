"""The scale benchmark's generated database is one the platform accepts: its audit rows form the chain."""

from __future__ import annotations

from sqlalchemy import func, select

from app import create_app
from app.db import transaction
from app.models import AuditEvent, Project
from bench import scale
from tests.conftest import _build


def test_a_small_generated_database_passes_audit_verify(tmp_path):
    platform = _build(f"sqlite:///{tmp_path / 'scale.db'}")
    try:
        scale.generate(platform, 12, say=lambda line: None, enterprises=5)
        with transaction(platform.sessions, write=False) as session:
            assert session.scalar(select(func.count(Project.id))) == 13  # the template's and twelve bulk ones
            unchained = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.seq.is_(None)))
            total = session.scalar(select(func.count(AuditEvent.id)))
        assert unchained == 0 and total >= 24
        result = create_app(platform.settings, platform=platform).test_cli_runner().invoke(args=["audit", "verify"])
        assert result.exit_code == 0, result.output
        assert result.output.startswith(f"OK {total} rows")
    finally:
        platform.sessions.kw["bind"].dispose()

"""Shared fixtures: a platform on SQLite and on PostgreSQL, an app, API clients.

PostgreSQL is taken from ``TEST_POSTGRES_URL`` (default: the local server's
``test`` database); each run uses its own schema.  Without a server those
tests skip saying why, unless ``REQUIRE_POSTGRES=1`` (CI), where they fail.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, text, update

from app import create_app
from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.models import ApiToken, AuditEvent, HumanTask, ItemHandling, ItemHandlingEvent, ProcessInstance, Project
from app.services.provisioning import reference
from app.wiring import build_platform

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"
from app.models import LoginFailure, Material  # noqa: E402,I001  (portal rows reference projects)

from app.models import SpecialProcedure, SupervisionNotice  # noqa: E402,I001  (time limits reference handlings)

from app.models import Commitment, EngineeringCode, MaterialGap, StageItem, StagePlan  # noqa: E402,I001  (issue 3)

from app.models import RateEvent, UserSession  # noqa: E402,I001  (security: sessions, rate limits)
from app.models import ExchangeOverride, ExchangePush, ExchangeRow  # noqa: E402,I001  (SPGL exchange book)
from app.models import HistoryRun, HistoryWorker  # noqa: E402,I001  (oversight: generated history runs)
from app.models import Notification, OutboxMessage, UserContact  # noqa: E402,I001  (notify)
from app.models import MaterialVersion, StageDraft  # noqa: E402,I001  (applicants: drafts, material versions)
from app.models import IntermediaryService, PlanningProposal  # noqa: E402,I001  (planning, intermediary)

MUTABLE = (RateEvent, UserSession, OutboxMessage, Notification, UserContact, MaterialVersion, StageDraft,
           HistoryWorker, HistoryRun, ExchangePush, ExchangeRow, ExchangeOverride,
           IntermediaryService, PlanningProposal,
           Commitment, MaterialGap, StageItem, StagePlan, EngineeringCode,
           Material, LoginFailure, SupervisionNotice, SpecialProcedure, ItemHandlingEvent, ItemHandling, HumanTask,
           AuditEvent, ProcessInstance, Project, ApiToken)
from app.models import IdempotencyKey  # noqa: E402,I001  (issue 13: safe retries)
MUTABLE = (IdempotencyKey, *MUTABLE)
from app.models import AuditHead, IssuedDocument  # noqa: E402,I001  (seal and trail, issue 10)
MUTABLE = (IssuedDocument, *MUTABLE)
from app.models import CalendarYear  # noqa: E402,I001  (issue 13: the holiday table in the database)
MUTABLE = (CalendarYear, *MUTABLE)


def _postgres_schema_url() -> str:
    """Create a fresh schema for this run and return a URL that uses it."""
    schema = f"hn_test_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection failure means "no server"
        message = f"PostgreSQL is not reachable at {PG_URL}: {exc.__class__.__name__}"
        if REQUIRE_PG:
            pytest.fail(message + " (REQUIRE_POSTGRES=1)")
        pytest.skip(message)
    separator = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{separator}options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


class FrozenClock:
    """An injectable clock: starts at a fixed instant, moves only when told."""

    def __init__(self, start: dt.datetime):
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta) -> None:
        """Move the clock forward."""
        self.now += dt.timedelta(**delta)


def _build(url: str, clock: FrozenClock | None = None):
    spgl = url.replace(".db", "-spgl.db") if url.startswith("sqlite") else url  # the SPGL front database
    files = Path(tempfile.mkdtemp(prefix="hn-test-"))  # keys, the file store, audit checkpoints
    settings = Settings.from_env(DATABASE_URL=url, TESTING=True, SECRET_KEY="test", SPGL_URL=spgl,
                                 SEAL_KEY_DIR=str(files / "keys"), DOCUMENT_DIR=str(files / "documents"),
                                 UPLOAD_DIR=str(files / "uploads"),
                                 AUDIT_KEY_FILE=str(files / "keys" / "audit.key.pem"),
                                 AUDIT_CHECKPOINT_DIR=str(files / "checkpoints"))
    upgrade(url)
    platform = build_platform(settings, clock=clock)
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
        reference.deploy_initial(session, platform)
        reference.seed_demo(session, platform)
    from app.services.seal import certs  # seal: the demo root and one seal per issuing unit
    with transaction(platform.sessions, write=False) as session:
        certs.init_demo(session, platform.settings)
    return platform


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def backend_platform(request, tmp_path_factory):
    """A migrated, seeded platform per backend, shared by the session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        platform = _build(url)
        yield platform
        platform.sessions.kw["bind"].dispose()
    else:
        url, schema = _postgres_schema_url()
        platform = _build(url)
        yield platform
        platform.sessions.kw["bind"].dispose()
        _drop_schema(schema)


@pytest.fixture
def platform(backend_platform):
    """The backend's platform, with every project-related row removed after the test."""
    yield backend_platform
    with transaction(backend_platform.sessions) as session:
        wipe_project_rows(session)


def wipe_project_rows(session) -> None:
    """Delete every project-related row; the audit chain starts again (PostgreSQL: as its superuser)."""
    if session.get_bind().dialect.name == "postgresql":  # the audit table refuses DELETE but to a superuser
        session.execute(text("SET LOCAL session_replication_role = replica"))  # (which also skips cascades:
        session.execute(delete(AuditEvent))                                    # so for this table only)
        session.execute(text("SET LOCAL session_replication_role = origin"))
    for model in MUTABLE:
        session.execute(delete(model))
    session.execute(update(AuditHead).values(seq=0, hash="0" * 64))


@pytest.fixture
def app(platform):
    """The Flask app on the test platform."""
    return create_app(platform.settings, platform=platform)


@pytest.fixture
def client(app):
    """A test client."""
    return app.test_client()


class Api:
    """A small API client: logs in as a user and calls JSON endpoints."""

    def __init__(self, client, username: str, password: str = reference.DEMO_PASSWORD):
        self.client = client
        response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        self.headers = {"Authorization": f"Bearer {response.get_json()['token']}"}

    @property
    def platform(self):
        """The platform behind the client's app."""
        return self.client.application.extensions["platform"]

    def get(self, path, **kw):
        return self.client.get(f"/api/v1{path}", headers=self.headers, **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(f"/api/v1{path}", headers=self.headers, json=json, **kw)


@pytest.fixture
def login(client):
    """``login('window1')`` returns an API client for that demo account."""
    return lambda username, password=reference.DEMO_PASSWORD: Api(client, username, password)
from app.models import ForecastModel  # noqa: E402,I001  (issue 14: forecast models learnt from history)
MUTABLE = (ForecastModel, *MUTABLE)


def supply_materials(platform, code: str, stage_key: str, data: dict, username: str | None = None) -> list[str]:
    """Upload a small PDF as every material a stage application with ``data`` still lacks.

    A stage application missing a required material is refused (422), so every test that files
    one supplies them first, as the applicant would; returns the names uploaded.
    """
    from sqlalchemy import select as _select

    from app.models import User as _User
    from app.services.people import projects as _projects
    from app.services.provisioning import demo as _demo
    from app.stages import BY_KEY as _BY_KEY

    with transaction(platform.sessions) as session:
        project = _projects.find_project(session, code)
        query = _select(_User).where(_User.username == username) if username else \
            _select(_User).where(_User.enterprise_id == project.enterprise_id, _User.role == "applicant") \
            .order_by(_User.id)
        actor = session.scalars(query).first()
        return _demo.supply_materials(session, platform, actor, project, _BY_KEY[stage_key], data)

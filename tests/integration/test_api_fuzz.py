"""Issue 9: schemathesis against the served OpenAPI document — no server error, answers as documented.

Every operation of ``/api/v1/openapi.json`` gets a few generated requests (a fixed seed, so each
run asks the same), sent as an applicant, a department officer and an administrator.  Two checks
hold for every answer: ``not_a_server_error`` (no 5xx) and ``response_schema_conformance`` (the
body matches what the document says for that status).  The platform runs on its own database
and a copy of the catalogue, on SQLite and on PostgreSQL (which refuses NUL and lone surrogates
that SQLite would store): whatever the generated requests change stays there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app import create_app
from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.services.provisioning import reference
from app.wiring import build_platform
from tests.conftest import ROOT, _drop_schema, _postgres_schema_url

USERS = ("applicant1", "planning_haikou", "admin")
EXAMPLES = 4  # per operation (a bounded run: make test)
#: No 5xx; every status, content type and body as the document says.
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_app(request, tmp_path_factory):
    """An app on a database of its own, with demo data, one declared project and a catalogue copy."""
    directory = tmp_path_factory.mktemp("fuzz")
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{directory / 'fuzz.db'}"
    else:
        url, schema = _postgres_schema_url()
    catalog = directory / "catalog"
    shutil.copytree(Path(ROOT) / "catalog", catalog)
    config = Settings.from_env(DATABASE_URL=url, TESTING=True, SECRET_KEY="fuzz", CATALOG_DIR=str(catalog),
                               UPLOAD_DIR=str(directory / "uploads"), PASSWORD_HASH_FAST=True,
                               LOGIN_MAX_FAILURES=10 ** 6, LOGIN_ACCOUNT_MAX_FAILURES=10 ** 6,
                               REGISTER_PER_HOUR=10 ** 6)
    upgrade(url)
    platform = build_platform(config)
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
        reference.deploy_initial(session, platform)
        reference.seed_demo(session, platform)
    app = create_app(config, platform=platform)
    client = app.test_client()
    tokens = {}
    for username in USERS:
        response = client.post("/api/v1/auth/token", json={"username": username, "password": reference.DEMO_PASSWORD})
        tokens[username] = {"Authorization": f"Bearer {response.get_json()['token']}"}
    declared = client.post("/api/v1/projects", headers=tokens["applicant1"],
                           json={"name": "接口测试项目", "division": "460100", "investment_type": "ratification"})
    assert declared.status_code == 201
    app.fuzz_tokens = tokens
    yield app
    platform.sessions.kw["bind"].dispose()
    if schema:
        _drop_schema(schema)


def _operations(app):
    document = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in document.get_all_operations()]


def test_no_server_error_and_answers_as_documented(fuzz_app):
    """Every operation, positive and negative examples, each as the three callers."""
    failures = []
    for operation in _operations(fuzz_app):
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE))

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def run(case):
            for username in USERS:
                case.call_and_validate(headers=fuzz_app.fuzz_tokens[username],
                                       checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all operations' failures together
            failures.append(f"{operation.method.upper()} {operation.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)

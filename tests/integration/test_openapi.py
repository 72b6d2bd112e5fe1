"""The OpenAPI document validates and matches the routes of /api/v1 both ways."""

import re

from openapi_spec_validator import validate


def _documented(document: dict) -> set[tuple[str, str]]:
    return {(path, method.upper()) for path, ops in document["paths"].items() for method in ops}


def _routed(app) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
        found |= {(path, m) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return found


def test_openapi_document_is_valid_and_complete(client, app):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    documented, routed = _documented(document), _routed(app)
    assert not documented - routed, f"documented but not routed: {sorted(documented - routed)}"
    assert not routed - documented, f"routed but not documented: {sorted(routed - documented)}"

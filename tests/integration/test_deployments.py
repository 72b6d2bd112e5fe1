"""Deploying new versions of the flows through the API: validation, hostile files, versions, export."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from app.db import transaction
from app.models import AuditEvent, Deployment
from engine.specs import MAX_FILE_BYTES, read_directory
from tests.fixtures.bpmn_variants import (
    CONSTRUCTION,
    NEW_REVIEW,
    NS,
    add_parallel_review,
    edit,
    shipped,
    split_and_join_ids,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def analyst(login, platform):
    """analyst1's API client; the active version is put back after the test."""
    with transaction(platform.sessions, write=False) as session:
        before = session.scalar(select(Deployment.version).where(Deployment.active.is_(True)))
    yield login("analyst1")
    with transaction(platform.sessions) as session:
        session.execute(update(Deployment).values(active=Deployment.version == before))


def upload(api, files: dict, comment: str = ""):
    """POST /api/v1/processes with multipart files (encoded in memory: no temporary files left open)."""
    values = MultiDict([("comment", comment)] + [
        ("files", FileStorage(io.BytesIO(content), filename=name)) for name, content in files.items()])
    boundary, body = encode_multipart(values)
    return api.client.post("/api/v1/processes", headers=api.headers, data=body,
                           content_type=f"multipart/form-data; boundary={boundary}")


def activate(api, version: int) -> None:
    """Activate a version the way an analyst does: read the preview, then confirm against the active one."""
    preview = api.get(f"/processes/{version}/activation").get_json()
    if preview["active"] != version:
        response = api.post(f"/processes/{version}/activate", {"confirm": True, "replacing": preview["active"]})
        assert response.status_code == 200, response.get_json()


def deploy_live(api, files: dict, comment: str = "") -> int:
    """Save a file set as a version (or find the identical one) and activate it; its version."""
    response = upload(api, files, comment)
    assert response.status_code in (200, 201), response.get_json()
    version = response.get_json()["version"]
    activate(api, version)
    return version


def versions(api) -> list[dict]:
    return api.get("/processes").get_json()["deployments"]


def test_a_deploy_is_a_draft_and_the_same_set_again_is_unchanged(analyst):
    before = versions(analyst)
    active = [d["version"] for d in before if d["active"]]
    created = upload(analyst, {CONSTRUCTION: add_parallel_review(shipped(), task_id="review_draft")},
                     "增加排水许可并联审查")
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["version"] == before[-1]["version"] + 1 and not body["unchanged"] and body["active"] is False
    latest = versions(analyst)[-1]
    assert not latest["active"] and latest["author"] == "analyst1" and latest["comment"] == "增加排水许可并联审查"
    assert latest["content_hash"] == body["content_hash"] and latest["created_at"]
    assert [d["version"] for d in versions(analyst) if d["active"]] == active  # saving changed nothing live
    again = upload(analyst, {CONSTRUCTION: add_parallel_review(shipped(), task_id="review_draft")})
    assert again.status_code == 200 and again.get_json() == {**body, "unchanged": True}
    assert len(versions(analyst)) == len(before) + 1


def test_a_draft_goes_live_only_by_a_confirmed_activation(analyst, login, platform):
    [active] = [d["version"] for d in versions(analyst) if d["active"]]
    draft = upload(analyst, {CONSTRUCTION: add_parallel_review(shipped(), task_id="review_confirm")}).get_json()
    version = draft["version"]
    preview = analyst.get(f"/processes/{version}/activation").get_json()
    assert preview["version"] == version and preview["active"] == active
    assert preview["changed_processes"] == ["stage_construction"]
    assert [p["id"] for p in preview["diff"]["processes"] if p["status"] == "changed"] == ["stage_construction"]
    assert [a["stage"] for a in preview["awaiting"]] == ["construction"]
    assert all({"process_id", "version", "count"} <= set(r) for r in preview["running"])
    unconfirmed = analyst.post(f"/processes/{version}/activate", {})
    assert unconfirmed.status_code == 422 and "confirm" in unconfirmed.get_json()["error"]["fields"]
    stale = analyst.post(f"/processes/{version}/activate", {"confirm": True, "replacing": active + 100})
    assert stale.status_code == 409
    assert [d["version"] for d in versions(analyst) if d["active"]] == [active]
    done = analyst.post(f"/processes/{version}/activate", {"confirm": True, "replacing": active})
    assert done.status_code == 200, done.get_json()
    assert [d["version"] for d in versions(analyst) if d["active"]] == [version]
    assert login("window1").get(f"/processes/{version}/activation").status_code == 403


def test_a_deploy_that_breaks_a_rule_is_refused_with_the_elements(analyst):
    before = versions(analyst)
    root = etree.fromstring(shipped())
    lane = root.xpath("//bpmn:lane[@name='fire']", namespaces=NS)[0].get("id")
    call = root.xpath("//bpmn:callActivity", namespaces=NS)[0].get("id")
    broken = edit(shipped(), f"//bpmn:lane[@id='{lane}']", name="fier")
    broken = edit(broken, f"//bpmn:callActivity[@id='{call}']", calledElement="nope")
    response = upload(analyst, {CONSTRUCTION: broken})
    assert response.status_code == 422
    problems = response.get_json()["error"]["problems"]
    assert {(p["rule"], p["element"], p["file"]) for p in problems} == {
        ("lane_role", lane, CONSTRUCTION), ("call_activity", call, CONSTRUCTION)}
    assert all(p["message"] and p["line"] for p in problems)
    assert versions(analyst) == before


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
<bpmn:process id="p" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>"""
BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">&lol4;</bpmn:definitions>"""
HUGE = b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">' + \
    b"<!-- padding -->" * (MAX_FILE_BYTES // 16) + b"</bpmn:definitions>"


@pytest.mark.parametrize("name,content,status,fragment", [
    (CONSTRUCTION, XXE, 422, "DOCTYPE"),
    (CONSTRUCTION, BOMB, 422, "DOCTYPE"),
    (CONSTRUCTION, HUGE, 422, "larger than"),
    (CONSTRUCTION, b"<?xml version='1.0'?><html><body>hello</body></html>", 422, "not a BPMN"),
    (CONSTRUCTION, shipped()[:2000], 422, "well-formed"),
    ("../../etc/construction.bpmn", shipped(), 422, "file name"),
    ("stages/construction.exe", shipped(), 422, "file name"),
], ids=["xxe", "entity-bomb", "oversized", "not-bpmn", "broken", "path-traversal", "not-bpmn-name"])
def test_hostile_files_are_refused_and_nothing_is_stored(analyst, platform, name, content, status, fragment):
    with transaction(platform.sessions, write=False) as session:
        count = session.scalar(select(func.count(Deployment.version)))
    response = upload(analyst, {name: content})
    assert response.status_code == status
    error = response.get_json()["error"]
    text = json.dumps(error, ensure_ascii=False)
    assert fragment in text and "root:x:0:0" not in text
    if name == CONSTRUCTION:
        assert error["problems"][0]["file"] == CONSTRUCTION
    with transaction(platform.sessions, write=False) as session:
        assert session.scalar(select(func.count(Deployment.version))) == count


def test_only_analysts_and_administrators_manage_versions(login, analyst):
    window = login("window1")
    assert upload(window, {CONSTRUCTION: shipped()}).status_code == 403
    assert window.get("/processes/1/diff/1").status_code == 403
    assert window.post("/processes/1/activate").status_code == 403
    assert window.post("/migrations/1/undo").status_code == 403


def test_compare_two_versions(analyst):
    version = upload(analyst, {CONSTRUCTION: add_parallel_review(shipped())}).get_json()["version"]
    diff = analyst.get(f"/processes/1/diff/{version}").get_json()
    assert diff["from"] == 1 and diff["to"] == version
    assert diff["files"] == {"added": [], "removed": [], "changed": [CONSTRUCTION]}
    changed = {p["id"]: p for p in diff["processes"] if p["status"] != "unchanged"}
    assert set(changed) == {"stage_construction"}
    stage = changed["stage_construction"]
    task = NEW_REVIEW["task_id"]
    assert {e["id"] for e in stage["added"]} == {task, "Lane_meteorology", f"Flow_split__{task}", f"Flow_{task}__join"}
    assert stage["removed"] == []
    split, join = split_and_join_ids()
    assert {e["id"]: e["fields"] for e in stage["changed"]} == {split: ["outgoing"], join: ["incoming"]}
    back = analyst.get(f"/processes/{version}/diff/1").get_json()["processes"]
    assert {e["id"] for p in back for e in p["removed"]} >= {task, "Lane_meteorology"}
    assert analyst.get("/processes/1/diff/9999").status_code == 404


def test_reactivating_an_older_version_is_audited(analyst, platform):
    version = upload(analyst, {CONSTRUCTION: add_parallel_review(shipped())}).get_json()["version"]
    analyst.post(f"/processes/{version}/activate", {"confirm": True})
    assert analyst.post("/processes/1/activate", {}).status_code == 422  # an older version asks too
    response = analyst.post("/processes/1/activate", {"confirm": True, "replacing": version})
    assert response.status_code == 200, response.get_json()
    assert [d["version"] for d in versions(analyst) if d["active"]] == [1]
    assert analyst.post("/processes/1/activate", {"confirm": True}).status_code == 409
    assert analyst.post("/processes/9999/activate", {"confirm": True}).status_code == 404
    with transaction(platform.sessions, write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.kind == "deployment_activated")
                                .order_by(AuditEvent.id.desc())).first()
    assert json.loads(event.detail) == {"version": 1, "previous": version}


def test_export_a_version_as_zip_and_with_the_cli(analyst, app, tmp_path):
    response = analyst.get("/processes/1/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert {n: archive.read(n) for n in archive.namelist()} == read_directory(ROOT / "processes")
    result = app.test_cli_runner().invoke(args=["export-processes", "--version", "1", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert read_directory(tmp_path / "out") == read_directory(ROOT / "processes")
    missing = app.test_cli_runner().invoke(args=["export-processes", "--version", "9999", str(tmp_path)])
    assert missing.exit_code != 0 and "9999" in missing.output

"""Event-log export: XES and OCEL 2.0 JSON validate against their published schemas and keep every event."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from sqlalchemy import func, select

from app.db import transaction
from app.models import HumanTask, Project, User
from app.services.provisioning import demo
from app.stages import BY_KEY

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"
XES_SCHEMA = etree.XMLSchema(etree.parse(str(SCHEMAS / "xes-ieee1849-2016.xsd")))
OCEL_SCHEMA = json.loads((SCHEMAS / "ocel20-schema-json.json").read_text(encoding="utf-8"))


@pytest.fixture
def history(platform):
    """One project in 海口 through every stage, one in 三亚 through stage 1."""
    with transaction(platform.sessions, write=False) as session:
        applicant_id = session.scalar(select(User.id).where(User.username == "applicant1"))
    scope = lambda: transaction(platform.sessions)  # noqa: E731
    haikou = demo.run_all_stages(scope, platform, applicant_id, say=lambda _: None)
    with scope() as session:
        from app.services.people import projects
        applicant = session.get(User, applicant_id)
        sanya = projects.create_project(session, platform, applicant, {
            "name": "三亚湾酒店项目", "division": "460200", "investment_type": "filing", "flow_type": 3}).code
    demo.drive_stage(scope, platform, sanya, BY_KEY["initiation"], applicant_id, say=lambda _: None)
    return haikou, sanya


def _expected(platform, items_only: bool, division: str | None = None) -> int:
    """Independent count: a start per task, a completion per completed task."""
    with transaction(platform.sessions, write=False) as session:
        query = select(HumanTask).join(Project, Project.id == HumanTask.project_id)
        if items_only:
            query = query.where(HumanTask.handling_id.is_not(None))
        if division:
            query = query.where(Project.division_code == division)
        starts = session.scalar(select(func.count()).select_from(query.subquery()))
        completions = session.scalar(select(func.count()).select_from(
            query.where(HumanTask.status == "completed").subquery()))
    return starts + completions


def test_the_schemas_refuse_what_breaks_them():
    """The validators are live: a date that is no xs:dateTime and an OCEL time that is no date-time fail."""
    broken = etree.fromstring(b'<log xes.version="2.0"><trace><event><date key="time:timestamp" value="soon"/>'
                              b'</event></trace></log>')
    assert not XES_SCHEMA.validate(broken)
    checker = jsonschema.Draft7Validator(OCEL_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    bad = {"eventTypes": [], "objectTypes": [], "objects": [], "events": [{"id": "e", "type": "t", "time": "soon"}]}
    assert not checker.is_valid(bad)
    assert not checker.is_valid({"eventTypes": [], "objectTypes": [], "objects": []})


def _get(login, user, path):
    response = login(user).get(path)
    return response


def test_xes_validates_against_the_ieee_schema_and_keeps_every_event(platform, login, history):
    haikou, sanya = history
    response = _get(login, "analyst1", "/exports/events.xes")
    assert response.status_code == 200 and response.is_streamed
    assert response.headers["Content-Disposition"].endswith('"events.xes"')
    document = etree.parse(io.BytesIO(response.data))
    XES_SCHEMA.assertValid(document)
    events = document.findall("trace/event")
    assert len(events) == _expected(platform, items_only=True)
    lifecycles = {e.find("string[@key='lifecycle:transition']").get("value") for e in events}
    assert lifecycles == {"start", "complete"}
    complete = [e for e in events if e.find("string[@key='lifecycle:transition']").get("value") == "complete"]
    assert all(e.find("string[@key='org:resource']") is not None and e.find("string[@key='org:group']") is not None
               for e in complete)
    projects = {t.find("string[@key='hn:project']").get("value") for t in document.findall("trace")}
    assert projects == {haikou, sanya}
    for trace in document.findall("trace"):  # ordered in time inside each case
        times = [dt.datetime.fromisoformat(e.find("date").get("value")) for e in trace.findall("event")]
        assert times == sorted(times)


def test_ocel_validates_against_the_ocel2_schema_and_keeps_every_event(platform, login, history):
    haikou, _ = history
    response = _get(login, "analyst1", "/exports/events.ocel.json")
    assert response.status_code == 200 and response.is_streamed
    log = json.loads(response.data)
    jsonschema.Draft7Validator(OCEL_SCHEMA, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(log)
    assert len(log["events"]) == _expected(platform, items_only=False)
    objects = {o["id"]: o["type"] for o in log["objects"]}
    assert set(objects.values()) == {"project", "stage_instance", "item_handling", "department"}
    assert f"project:{haikou}" in objects
    for event in log["events"]:
        qualifiers = {r["qualifier"] for r in event["relationships"]}
        assert {"project", "stage"} <= qualifiers
        assert all(r["objectId"] in objects for r in event["relationships"])
    for obj in log["objects"]:
        assert all(r["objectId"] in objects for r in obj.get("relationships", []))
    declared = {t["name"] for t in log["eventTypes"]}
    assert {e["type"] for e in log["events"]} == declared


def test_period_and_scope(platform, login, history):
    haikou, sanya = history
    log = json.loads(_get(login, "analyst1", "/exports/events.ocel.json?division=460100").data)
    assert len(log["events"]) == _expected(platform, items_only=False, division="460100")
    assert f"project:{sanya}" not in {o["id"] for o in log["objects"]}
    own = _get(login, "supervisor1", "/exports/events.xes")  # a 海口 supervisor: their city by default
    XES_SCHEMA.assertValid(etree.parse(io.BytesIO(own.data)))
    assert {t.find("string[@key='hn:project']").get("value")
            for t in etree.parse(io.BytesIO(own.data)).findall("trace")} == {haikou}
    assert _get(login, "supervisor1", "/exports/events.xes?division=460200").status_code == 403
    assert _get(login, "applicant1", "/exports/events.xes").status_code == 403
    assert _get(login, "window1", "/exports/events.ocel.json").status_code == 403
    bad = _get(login, "analyst1", "/exports/events.xes?from=yesterday")
    assert bad.status_code in (400, 422) and bad.get_json()["error"]["fields"]["from"]
    assert _get(login, "analyst1", "/exports/events.xes?division=999999").status_code in (400, 422)
    before = (platform.now() - dt.timedelta(days=3650)).isoformat()
    empty = _get(login, "analyst1", f"/exports/events.xes?to={before.replace('+', '%2B')}")
    XES_SCHEMA.assertValid(etree.parse(io.BytesIO(empty.data)))
    assert etree.parse(io.BytesIO(empty.data)).findall("trace") == []
    empty_ocel = json.loads(_get(login, "analyst1", f"/exports/events.ocel.json?to={before.replace('+', '%2B')}").data)
    jsonschema.validate(empty_ocel, OCEL_SCHEMA)
    assert empty_ocel["events"] == [] and empty_ocel["objects"] == []

"""The event log as OCEL 2.0 JSON, streamed.

Objects: the project, the stage instance, the item handling and the department
(unit); events: every task start and completion, each related to the objects it
concerns with a qualifier.  The OCEL 2.0 JSON schema types every attribute value
as a string, so values are written as strings; object attributes carry the
specification's initial time (1970-01-01T00:00:00Z).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import ItemHandling, ProcessInstance, Project
from ...stages import BY_KEY
from . import eventlog
from .extract import item_instance_code

INITIAL = "1970-01-01T00:00:00Z"
EVENT_ATTRIBUTES = ("lifecycle", "resource", "role", "outcome")
OBJECT_TYPES = {"project": ("code", "name", "division", "flow_type"),
                "stage_instance": ("stage", "stage_name", "status", "process"),
                "item_handling": ("code", "item", "item_name", "state"),
                "department": ("code", "name", "division")}


def _dump(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _object(oid: str, otype: str, attributes: dict, relationships: list[tuple[str, str]] = ()) -> str:
    return _dump({"id": oid, "type": otype,
                  "attributes": [{"name": k, "value": str(v), "time": INITIAL}
                                 for k, v in attributes.items() if v is not None],
                  "relationships": [{"objectId": o, "qualifier": q} for o, q in relationships]})


def _ids(session: Session, scope: eventlog.Scope):
    query = eventlog._tasks(scope, items_only=False).order_by(None)
    sub = query.with_only_columns(eventlog.HumanTask.instance_id, eventlog.HumanTask.handling_id,
                                  eventlog.HumanTask.unit_id, eventlog.HumanTask.project_id).subquery()
    rows = session.execute(select(sub.c.instance_id, sub.c.handling_id, sub.c.unit_id,
                                  sub.c.project_id).distinct()).all()
    return ({r[3] for r in rows}, {r[0] for r in rows}, {r[1] for r in rows if r[1] is not None},
            {r[2] for r in rows if r[2] is not None})


def _chunked(session, model, ids):
    ids = sorted(ids)
    for start in range(0, len(ids), eventlog.BATCH):
        yield from session.scalars(select(model).where(model.id.in_(ids[start:start + eventlog.BATCH]))
                                   .order_by(model.id))


def stream(session: Session, platform, scope: eventlog.Scope) -> Iterator[bytes]:
    """The OCEL 2.0 JSON document in chunks of about 64 KB: types, objects, then events."""
    pending, size = [], 0
    for piece in _pieces(session, platform, scope):
        pending.append(piece)
        size += len(piece)
        if size >= 64 * 1024:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def _pieces(session: Session, platform, scope: eventlog.Scope) -> Iterator[bytes]:
    look = eventlog.Lookups(session)
    project_ids, instance_ids, handling_ids, unit_ids = _ids(session, scope)
    activities = sorted(set(session.scalars(
        eventlog._tasks(scope, items_only=False).order_by(None).with_only_columns(
            eventlog.HumanTask.title).distinct())))
    head = {"objectTypes": [{"name": n, "attributes": [{"name": a, "type": "string"} for a in attrs]}
                            for n, attrs in OBJECT_TYPES.items()],
            "eventTypes": [{"name": a, "attributes": [{"name": x, "type": "string"} for x in EVENT_ATTRIBUTES]}
                           for a in activities]}
    yield ('{"objectTypes":' + _dump(head["objectTypes"]) + ',"eventTypes":' + _dump(head["eventTypes"])
           + ',"objects":[').encode()
    first = True

    def sep():
        nonlocal first
        if first:
            first = False
            return ""
        return ","
    codes = {}
    for project in _chunked(session, Project, project_ids):
        codes[project.id] = project.code
        yield (sep() + _object(f"project:{project.code}", "project", {
            "code": project.code, "name": project.name, "division": project.division_code,
            "flow_type": project.flow_type})).encode()
    for instance in _chunked(session, ProcessInstance, instance_ids):
        stage = BY_KEY.get(instance.stage_key)
        yield (sep() + _object(f"stage:{instance.id}", "stage_instance", {
            "stage": instance.stage_key, "stage_name": stage.name if stage else instance.stage_key,
            "status": instance.status, "process": instance.spec_key},
            [(f"project:{codes[instance.project_id]}", "part of")] if instance.project_id in codes else [])).encode()
    for handling in _chunked(session, ItemHandling, handling_ids):
        unit = look.units.get(handling.unit_id)
        relations = [(f"stage:{handling.instance_id}", "part of")] if handling.instance_id in instance_ids else []
        if unit is not None and unit.id in unit_ids:
            relations.append((f"department:{unit.code}", "handled by"))
        yield (sep() + _object(f"item:{handling.id}", "item_handling", {
            "code": item_instance_code(handling), "item": handling.item_code, "state": handling.state,
            "item_name": _name(platform, handling.item_code)}, relations)).encode()
    for unit_id in sorted(unit_ids):
        unit = look.units[unit_id]
        yield (sep() + _object(f"department:{unit.code}", "department", {
            "code": unit.code, "name": unit.name, "division": unit.division_code})).encode()
    yield b'],"events":['
    first = True
    for task in eventlog.tasks(session, scope, items_only=False):
        for event in eventlog.events_of(task, scope, look):
            relations = [(f"project:{codes[task.project_id]}", "project"), (f"stage:{task.instance_id}", "stage")]
            if task.handling_id is not None:
                relations.append((f"item:{task.handling_id}", "item handling"))
            if event.department_code is not None:
                relations.append((f"department:{event.department_code}", "department"))
            attributes = {"lifecycle": event.lifecycle, "resource": event.resource, "role": event.role,
                          "outcome": task.outcome if event.lifecycle == "complete" else None}
            yield (sep() + _dump({"id": event.id, "type": event.activity, "time": event.time.isoformat(),
                                  "attributes": [{"name": k, "value": str(v)} for k, v in attributes.items()
                                                 if v is not None],
                                  "relationships": [{"objectId": o, "qualifier": q} for o, q in relations]})).encode()
    yield b"]}"


def _name(platform, code: str) -> str | None:
    try:
        return platform.catalog.item(code).name
    except Exception:  # noqa: BLE001 - an item that left the catalogue keeps its code only
        return None

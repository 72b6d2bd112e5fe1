"""The event log as XES (IEEE 1849-2016 XML serialization), streamed.

One trace per item handling (``concept:name`` its item instance code), one
event per task start and completion with ``concept:name`` (activity),
``lifecycle:transition``, ``time:timestamp``, ``org:resource``, ``org:group``
(the department's unit) and ``org:role`` (the lane).  Written with lxml's
incremental writer, so every value is escaped and the file is produced in chunks.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import groupby

from lxml import etree
from sqlalchemy.orm import Session

from ...models import ItemHandling
from . import eventlog
from .extract import item_instance_code

EXTENSIONS = (("Concept", "concept", "http://www.xes-standard.org/concept.xesext"),
              ("Time", "time", "http://www.xes-standard.org/time.xesext"),
              ("Lifecycle", "lifecycle", "http://www.xes-standard.org/lifecycle.xesext"),
              ("Organizational", "org", "http://www.xes-standard.org/org.xesext"))
CHUNK = 64 * 1024


def _string(xf, key: str, value) -> None:
    if value is not None:
        xf.write(etree.Element("string", key=key, value=str(value)))


def _event(xf, event: eventlog.Event) -> None:
    with xf.element("event"):
        _string(xf, "concept:name", event.activity)
        _string(xf, "lifecycle:transition", event.lifecycle)
        xf.write(etree.Element("date", key="time:timestamp", value=event.time.isoformat()))
        _string(xf, "org:resource", event.resource)
        _string(xf, "org:group", event.department)
        _string(xf, "org:role", event.role)
        _string(xf, "hn:task", event.task.spec_name)
        if event.task.outcome:
            _string(xf, "hn:outcome", event.task.outcome)


def stream(session: Session, platform, scope: eventlog.Scope) -> Iterator[bytes]:
    """The XES document in chunks of about 64 KB."""
    buffer = io.BytesIO()
    look = eventlog.Lookups(session)

    def drain(force: bool = False):
        if force or buffer.tell() >= CHUNK:
            data = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return data
        return None

    with etree.xmlfile(buffer, encoding="utf-8") as xf:
        xf.write_declaration()
        with xf.element("log", {"xes.version": "2.0", "xes.features": "nested-attributes"}):
            for name, prefix, uri in EXTENSIONS:
                xf.write(etree.Element("extension", name=name, prefix=prefix, uri=uri))
            with xf.element("global", scope="trace"):
                _string(xf, "concept:name", "UNKNOWN")
            with xf.element("global", scope="event"):
                _string(xf, "concept:name", "UNKNOWN")
                _string(xf, "lifecycle:transition", "complete")
                xf.write(etree.Element("date", key="time:timestamp", value="1970-01-01T00:00:00+00:00"))
            xf.write(etree.Element("classifier", name="Activity", keys="concept:name"))
            xf.write(etree.Element("classifier", name="ActivityLifecycle", keys="concept:name lifecycle:transition"))
            _string(xf, "concept:name", "海南省工程建设项目审批事项办理")
            _string(xf, "hn:scope", scope.describe())
            for handling_id, group in groupby(eventlog.tasks(session, scope, items_only=True),
                                              key=lambda task: task.handling_id):
                events = sorted((e for task in group for e in eventlog.events_of(task, scope, look)),
                                key=lambda e: (e.time, e.id))
                if not events:
                    continue
                handling = session.get(ItemHandling, handling_id)
                with xf.element("trace"):
                    _string(xf, "concept:name", item_instance_code(handling) if handling else f"H{handling_id}")
                    if handling is not None:
                        _string(xf, "hn:project", handling.project_code)
                        _string(xf, "hn:item", handling.item_code)
                        _string(xf, "hn:item_name", _item_name(platform, handling.item_code))
                        unit = look.units.get(handling.unit_id)
                        _string(xf, "hn:department", unit.name if unit else None)
                    for event in events:
                        _event(xf, event)
                xf.flush()
                chunk = drain()
                if chunk:
                    yield chunk
    chunk = drain(force=True)
    if chunk:
        yield chunk


def _item_name(platform, code: str) -> str | None:
    try:
        return platform.catalog.item(code).name
    except Exception:  # noqa: BLE001 - an item that left the catalogue keeps its code only
        return None

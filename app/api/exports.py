"""Event-log exports (XES, OCEL 2.0 JSON) for analysts and supervisors, and the SPGL exchange (administrators)."""

from __future__ import annotations

from flask import Response, g, jsonify, request, stream_with_context

from ..db import transaction
from ..services.exchange import codes, eventlog, ocel, push, service, xes
from ..web import json_body, platform, unit_of_work
from . import bp, require_role


def _export(writer, mimetype: str, filename: str) -> Response:
    """Check the scope first (a bad one is a 4xx before any byte), then stream the document."""
    plat = platform()
    scope = eventlog.scope_for(plat, g.user, request.args)

    def generate():
        with transaction(plat.sessions, write=False) as session:
            yield from writer(session, plat, scope)
    return Response(stream_with_context(generate()), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.get("/exports/events.xes")
def export_xes():
    """The trail as XES (IEEE 1849): one trace per item handling (``?from=&to=&division=&item=&stage=``)."""
    return _export(xes.stream, "application/xml", "events.xes")


@bp.get("/exports/events.ocel.json")
def export_ocel():
    """The trail as OCEL 2.0 JSON: projects, stage instances, item handlings, departments and their events."""
    return _export(ocel.stream, "application/json", "events.ocel.json")


@bp.get("/exchange")
def exchange_overview():
    """Rows per SPGL table and state, the queue and the failures with their reasons (administrators)."""
    require_role("admin")
    with unit_of_work(write=False) as session:
        view = service.overview(session)
        return jsonify({"tables": view["tables"], "totals": view["totals"],
                        "queue": [service.row_view(r) for r in view["queue"]],
                        "failures": [service.row_view(r) for r in view["failures"]]})


@bp.post("/exchange/runs")
def exchange_run():
    """One exchange run now: read back, push new and changed rows (administrators; audited)."""
    require_role("admin")
    plat = platform()
    with unit_of_work() as session:
        report = push.run(session, plat, service.front_database(plat.settings.SPGL_URL))
        service.record_run(session, plat, g.user, report)
        return jsonify({"run": report.summary(), "skipped": report.skipped})


@bp.post("/exchange/rows/<int:row_id>/corrections")
def exchange_correct(row_id: int):
    """Correct one field of a row ``{field, value}`` (an empty value removes it); pushed on the next run."""
    require_role("admin")
    body = json_body()
    with unit_of_work() as session:
        service.set_override(session, platform(), g.user, row_id, str(body.get("field", "")),
                             str(body.get("value", "") or ""))
        return jsonify({"corrected": True})


@bp.get("/exchange/codes")
def exchange_codes():
    """Every SPGL code table with its entries (administrators)."""
    require_role("admin")
    with unit_of_work(write=False) as session:
        return jsonify({table: [{"code": e.code, "name": e.name, "active": e.active, "default": e.is_default,
                                 "verified": e.verified} for e in entries]
                        for table, entries in codes.tables(session).items()})


@bp.put("/exchange/codes/<table>/<code>")
def exchange_save_code(table: str, code: str):
    """Add or change an entry ``{name, active?, default?}`` of a code table (administrators; audited)."""
    require_role("admin")
    body = json_body()
    with unit_of_work() as session:
        entry = codes.save_code(session, platform(), g.user, table, {
            "code": code, "name": body.get("name", ""), "active": body.get("active", True),
            "is_default": body.get("default", False)})
        return jsonify({"code": entry.code, "name": entry.name, "active": entry.active, "default": entry.is_default})

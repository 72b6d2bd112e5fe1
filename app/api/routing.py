"""双集中 routing administration: the table, changing a route, re-routing open tasks (administrators)."""

from __future__ import annotations

from flask import g, jsonify, request

from ..services.organisation import routing_admin
from ..web import json_body, platform, unit_of_work
from . import bp, require_role


@bp.get("/routing")
def routing_table():
    """The routing table, filtered by ``?role=`` and ``?division=``."""
    require_role("admin")
    with unit_of_work(write=False) as session:
        rows = routing_admin.routing_table(session, request.args.get("role"), request.args.get("division"))
        return jsonify({"routes": rows, "total": len(rows)})


@bp.put("/routing/<role>/<division>")
def set_route(role: str, division: str):
    """Route a lane role in a division to ``{unit_code}``; audited."""
    require_role("admin")
    body = json_body()
    with unit_of_work() as session:
        return jsonify(routing_admin.set_route(session, platform(), g.user, role, division, body))


@bp.post("/routing/reroute")
def reroute():
    """Move open tasks to the units their routes now name (``{role?, division?}``); audited per task."""
    require_role("admin")
    body = json_body() if request.data else {}
    with unit_of_work() as session:
        return jsonify(routing_admin.reroute(session, platform(), g.user, body))

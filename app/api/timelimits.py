"""Time limits: the working-day calendar, item handlings and their clock, special procedures, supervision."""

from __future__ import annotations

import datetime as dt

from flask import g, jsonify, request

from engine.calendar import CalendarError

from ..models import ItemHandling, SpecialProcedure
from ..services.timelimits import calendars, handlings, lights, special_procedures, supervision
from ..web import json_body, platform, unit_of_work
from . import bp, require_role
from .tasks import task_view


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def procedure_view(procedure: SpecialProcedure) -> dict:
    """A special procedure as the API shows it."""
    try:
        expected_end = platform().calendar.add_working_days(procedure.started_at, procedure.expected_days)
    except CalendarError:
        expected_end = None
    return {"id": procedure.id, "kind": procedure.kind,
            "kind_name": special_procedures.KINDS.get(procedure.kind, procedure.kind),
            "reason": procedure.reason, "expected_days": procedure.expected_days,
            "expected_end": _iso(expected_end), "started_at": _iso(procedure.started_at),
            "ended_at": _iso(procedure.ended_at), "paused_days": procedure.paused_days,
            "result": procedure.result}


def handling_view(session, handling: ItemHandling) -> dict:
    """An item handling with its clock, light, state history and special procedures."""
    now = platform().now()
    try:
        item_name = platform().catalog.item(handling.item_code).name
    except Exception:  # noqa: BLE001
        item_name = handling.item_code
    return {"id": handling.id, "project_code": handling.project_code, "item_code": handling.item_code,
            "item_name": item_name, "unit_id": handling.unit_id, "state": handling.state,
            "state_name": handlings.STATE_NAMES.get(handling.state), "light": lights.light(handling, now),
            "limit": {"value": handling.limit_value, "unit": handling.limit_unit},
            "accepted_at": _iso(handling.accepted_at), "clock_started_at": _iso(handling.clock_started_at),
            "warn_at": _iso(handling.warn_at), "due_at": _iso(handling.due_at),
            "paused_at": _iso(handling.paused_at), "pause_kind": handling.pause_kind,
            "paused_working_days": handling.paused_working_days, "paused_seconds": handling.paused_seconds,
            "finished_at": _iso(handling.finished_at),
            "events": [{"state": e.state, "state_name": handlings.STATE_NAMES.get(e.state), "at": _iso(e.at),
                        "opinion": e.opinion} for e in handling.events],
            "special_procedures": [procedure_view(p) for p in special_procedures.procedures_of(
                session, handling.id)]}


@bp.get("/calendar/years")
def calendar_years():
    """The years the working-day calendar covers and the administrator's override table."""
    return jsonify(calendars.years_view(platform()))


@bp.get("/calendar/years/<int:year>")
def calendar_year(year: int):
    """One year: covered or not, its table entry, its rest weekdays and working weekend days."""
    return jsonify(calendars.year_view(platform(), year))


@bp.put("/calendar/years/<int:year>")
def put_calendar_year(year: int):
    """Declare a year (or correct one) in the override table: administrators only."""
    require_role("admin")
    body = json_body()
    with unit_of_work() as session:
        return jsonify(calendars.put_year(session, platform(), g.user, year, body))


@bp.get("/calendar/due")
def calendar_due():
    """The due instant of a limit (``?start=&value=&unit=``); 422 naming a year the calendar lacks."""
    args = request.args
    return jsonify(calendars.due_view(platform(), args.get("start"), args.get("value"), args.get("unit")))


@bp.get("/handlings/<int:handling_id>")
def get_handling(handling_id: int):
    """An item handling (办件) with its clock, light, BLZT history and special procedures."""
    with unit_of_work(write=False) as session:
        handling = special_procedures.visible_handling(session, g.user, handling_id)
        return jsonify(handling_view(session, handling))


@bp.post("/handlings/<int:handling_id>/special-procedures")
def start_special_procedure(handling_id: int):
    """Start a special procedure (特别程序) `{kind, reason, expected_days}`: the clock stops."""
    body = json_body()
    with unit_of_work() as session:
        procedure = special_procedures.start(session, platform(), g.user, handling_id, body)
        return jsonify(procedure_view(procedure)), 201


@bp.post("/handlings/<int:handling_id>/special-procedures/<int:procedure_id>/end")
def end_special_procedure(handling_id: int, procedure_id: int):
    """End a special procedure `{result?}`: the due date moves by the paused working days."""
    body = request.get_json(silent=True) or {}
    with unit_of_work() as session:
        procedure = special_procedures.end(session, platform(), g.user, handling_id, procedure_id, body)
        return jsonify(procedure_view(procedure))


@bp.get("/supervision")
def supervision_inbox():
    """A supervisor's inbox: time-limit notices and supervision tasks (督办)."""
    everything = request.args.get("all") in ("1", "true")
    with unit_of_work(write=False) as session:
        notices, tasks = supervision.inbox(session, g.user, include_acknowledged=everything)
        now = platform().now()
        return jsonify({"notices": [supervision.notice_view(n, now) for n in notices],
                        "tasks": [task_view(t) for t in tasks]})


@bp.post("/supervision/notices/<int:notice_id>/acknowledge")
def acknowledge_notice(notice_id: int):
    """Mark a notice as read."""
    with unit_of_work() as session:
        notice = supervision.acknowledge(session, platform(), g.user, notice_id)
        return jsonify(supervision.notice_view(notice, platform().now()))

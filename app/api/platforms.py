"""The twins of the two other platforms' pages: 项目策划生成 proposals and 中介服务 contracts.

The departments' opinions, the firm's acceptance and delivery and the applicant's
rating are tasks like any other: they are listed by ``GET /tasks`` and answered
by ``POST /tasks/<id>/complete``; what is here is what the pages add around them.
"""

from __future__ import annotations

import json

from flask import g, jsonify, request

from ..errors import InvalidInput, NotFound
from ..services.intermediary import contracts, registry
from ..services.people import projects
from ..services.planning import generation
from ..services.workflow import tasks
from ..web import json_body, platform, unit_of_work
from . import bp, require_role


def _iso(value):
    return value.isoformat() if value else None


# -- 项目策划生成 ------------------------------------------------------------------------------


def _proposal_view(session, row, detail: bool = False) -> dict:
    view = {"id": row.id, "project_code": row.project.code, "name": row.project.name, "lead_role": row.lead_role,
            "status": row.status, "rounds": row.rounds, "area_m2": row.area_m2,
            "measured_area_m2": round(row.measured_area_m2, 1), "proposed_at": _iso(row.proposed_at),
            "generated_at": _iso(row.generated_at)}
    if detail:
        result = generation.result(row)
        view.update(site=json.loads(row.site), findings=generation.findings(row),
                    reviews=[{"task_id": t.id, "role": t.lane_role, "task": t.spec_name, "status": t.status,
                              "due_at": _iso(t.due_at), "light": generation.review_light(platform(), t)}
                             for t in generation.review_tasks(session, row)],
                    result={**result, "generated_at": _iso(result["generated_at"])})
    return view


def _visible_proposal(session, proposal_id: int):
    found = generation.get_proposal(session, proposal_id)
    if not generation.may_see(session, g.user, found):
        raise NotFound(f"planning proposal {proposal_id} does not exist")
    return found


@bp.get("/planning/proposals")
def planning_proposals():
    """The planning proposals the caller leads, reviews or oversees, newest first."""
    with unit_of_work(write=False) as session:
        proposals = generation.visible_proposals(session, g.user)
        return jsonify({"proposals": [_proposal_view(session, p) for p in proposals]})


@bp.post("/planning/proposals")
def propose_project():
    """Propose a project for planning generation (the lead department: 发展改革 or 资规)."""
    body = json_body()
    with unit_of_work() as session:
        row = generation.propose(session, platform(), g.user, body)
        return jsonify(_proposal_view(session, row, detail=True)), 201


@bp.get("/planning/proposals/<int:proposal_id>")
def planning_proposal(proposal_id: int):
    """One proposal: its site, the findings against the plan zones, each department's review, the result."""
    with unit_of_work(write=False) as session:
        return jsonify(_proposal_view(session, _visible_proposal(session, proposal_id), detail=True))


# -- 中介服务 ----------------------------------------------------------------------------------


def _service_view(session, row) -> dict:
    kind = registry.service_kinds(platform()).get(row.service)
    task = contracts.open_task(session, row)
    view = {"id": row.id, "project_code": row.project.code, "service": row.service,
            "service_name": kind.name if kind else row.service,
            "firm": {"id": row.firm.id, "name": row.firm.enterprise.name,
                     "credit_code": row.firm.enterprise.credit_code},
            "method": row.method, "candidates": json.loads(row.candidates or "[]"), "draw_seed": row.draw_seed,
            "committed_days": row.committed_days, "status": row.status,
            "status_name": contracts.STATUS_NAMES.get(row.status, row.status),
            "light": contracts.service_light(platform(), row), "selected_at": _iso(row.selected_at),
            "accepted_at": _iso(row.accepted_at), "due_at": _iso(row.due_at), "delivered_at": _iso(row.delivered_at),
            "finished_at": _iso(row.finished_at), "refusal": row.refusal, "conclusion": row.conclusion,
            "report_material_id": row.report_material_id, "rating": row.rating, "rating_comment": row.rating_comment,
            "open_task": None}
    if task is not None and tasks.may_see(g.user, task):
        view["open_task"] = {"id": task.id, "task": task.spec_name, "lane": task.lane_role, "due_at": _iso(task.due_at)}
    return view


@bp.get("/intermediaries")
def intermediaries():
    """The public directory (中介超市): listed firms, valid qualifications, ratings, late and refused services."""
    service = request.args.get("service", "").strip()[:30]
    kinds = registry.service_kinds(platform())
    if service and service not in kinds:
        raise InvalidInput(f"unknown service {service!r}", {"service": "unknown"})
    with unit_of_work(write=False) as session:
        rows = registry.directory(session, platform(), service or None)
        return jsonify({"services": {code: k.name for code, k in kinds.items()}, "firms": [{
            "id": r["firm"].id, "name": r["name"], "credit_code": r["credit_code"], "rating": r["rating"],
            "ratings": r["ratings"], "services": r["services"], "late": r["late"], "refused": r["refused"],
            "qualifications": [{"service": q["row"].service, "grade": q["row"].grade,
                                "certificate_no": q["row"].certificate_no, "valid_until": _iso(q["row"].valid_until),
                                "item_codes": q["item_codes"]}
                               for q in r["qualifications"]],
            "comments": [{"score": c["score"], "comment": c["comment"], "at": _iso(c["at"]), "service": c["service"]}
                         for c in r["comments"]]} for r in rows]})


@bp.get("/projects/<code>/services")
def project_services(code: str):
    """A project's intermediary services (its applicant)."""
    require_role("applicant")
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        return jsonify({"services": [_service_view(session, s) for s in contracts.services_of_project(session, found)]})


@bp.post("/projects/<code>/services")
def commission_service(code: str):
    """Select a firm (``direct`` with ``firm_id``, or a recorded ``random`` draw) and commission the service."""
    body = json_body()
    with unit_of_work() as session:
        row = contracts.commission(session, platform(), g.user, code, body)
        return jsonify(_service_view(session, row)), 201


@bp.get("/services/<int:service_id>")
def intermediary_service(service_id: int):
    """One service: the selection record, the contract's state and light, the open task if it is the caller's."""
    with unit_of_work(write=False) as session:
        return jsonify(_service_view(session, contracts.visible_service(session, g.user, service_id)))


@bp.get("/intermediary/commissions")
def firm_commissions():
    """The caller's firm's commissions (intermediaries)."""
    require_role("intermediary")
    with unit_of_work(write=False) as session:
        return jsonify({"services": [_service_view(session, s) for s in contracts.commissions(session, g.user)]})


@bp.post("/services/<int:service_id>/report")
def upload_service_report(service_id: int):
    """Upload the firm's report (multipart ``file``: PDF, OFD or image); it becomes a material of the project."""
    upload = request.files.get("file")
    if upload is None:
        raise InvalidInput("send the file as multipart field 'file'", {"file": "required"})
    with unit_of_work() as session:
        contracts.upload_report(session, platform(), g.user, service_id, upload.filename or "", upload.stream)
        return jsonify(_service_view(session, contracts.visible_service(session, g.user, service_id))), 201


@bp.get("/services/oversight")
def services_oversight():
    """Late (red) and refused intermediary services in the supervisor's scope."""
    require_role("supervisor", "admin")
    with unit_of_work(write=False) as session:
        return jsonify({"services": [{**_service_view(session, r["service"]), "state": r["state"]}
                                     for r in contracts.oversight(session, platform(), g.user)]})

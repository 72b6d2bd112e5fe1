"""项目策划生成 pages: the proposals a department leads or reviews, proposing one, a proposal with its map."""

from __future__ import annotations

import json

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import Forbidden, InvalidInput, NotFound
from ..models import Division
from ..services.planning import generation, zones
from ..services.provisioning.portal_platforms import DEMO_SITE
from ..web import platform, unit_of_work
from . import maps, planning_bp

INVESTMENT_NAMES = {"government": "政府投资项目（审批制）", "ratification": "企业投资项目（核准制）",
                    "filing": "企业投资项目（备案制）"}
FORM_KEYS = ("name", "division", "investment_type", "enterprise_credit_code", "area_m2", "site", "description")


def _may_lead() -> bool:
    user = g.user
    return user.role in ("officer", "window") and (not user.lanes or bool(set(user.lanes) & set(generation.LEAD_ROLES)))


@planning_bp.get("/")
def index():
    """The proposals the department leads or reviews, newest first."""
    with unit_of_work(write=False) as session:
        rows = generation.visible_proposals(session, g.user)
        return render_template("platforms/planning_list.html", rows=rows, may_lead=_may_lead())


def _form_page(session, form, errors, status=200):
    divisions = list(session.scalars(select(Division).order_by(Division.code)))
    division = form.get("division") or "460100"
    layer = maps.layers(zones.zones_of(session, division) if session.get(Division, division) else [], None)
    return render_template("platforms/planning_new.html", form=form, errors=errors, divisions=divisions,
                           investment_names=INVESTMENT_NAMES, layers=layer), status


@planning_bp.route("/new", methods=["GET", "POST"])
def propose():
    """Propose a project for planning generation with its site (GeoJSON polygon, or a point and an area)."""
    if not _may_lead():
        abort(403)
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            form = {"division": "460100", "investment_type": "government", "site": json.dumps(DEMO_SITE)}
            return _form_page(session, form, {})
    form = {k: request.form.get(k, "").strip() for k in FORM_KEYS}
    body = {k: v for k, v in form.items() if v != ""}
    try:
        body["area_m2"] = float(form["area_m2"]) if form["area_m2"] else None
    except ValueError:
        body["area_m2"] = form["area_m2"]
    try:
        with unit_of_work() as session:
            proposal = generation.propose(session, platform(), g.user, body)
            proposal_id, code = proposal.id, proposal.project.code
    except InvalidInput as exc:
        with unit_of_work(write=False) as session:
            return _form_page(session, form, exc.fields or {"(form)": exc.message}, 422)
    except Forbidden as exc:
        flash(_("未能提交：%(reason)s", reason=exc.message), "error")
        with unit_of_work(write=False) as session:
            return _form_page(session, form, {"(form)": exc.message}, 403)
    flash(_("已提交策划生成，项目代码 %(code)s，已分送各部门并联提出意见", code=code), "success")
    return redirect(url_for("planning.proposal", proposal_id=proposal_id))


@planning_bp.get("/<int:proposal_id>")
def proposal(proposal_id: int):
    """A proposal: the site on the map with the plan layers, each department's findings and opinion, the result."""
    with unit_of_work(write=False) as session:
        found = generation.get_proposal(session, proposal_id)
        if not generation.may_see(session, g.user, found):
            raise NotFound(f"planning proposal {proposal_id} does not exist")
        findings = generation.findings(found)
        task_rows = [(t, generation.review_light(platform(), t)) for t in generation.review_tasks(session, found)]
        return render_template("platforms/planning_proposal.html", proposal=found, findings=findings,
                               tasks=task_rows, result=generation.result(found), roles=platform().catalog.roles,
                               kinds=zones.KINDS, investment_names=INVESTMENT_NAMES,
                               layers=maps.layers(zones.zones_of(session, found.project.division_code),
                                                  found.site, findings))

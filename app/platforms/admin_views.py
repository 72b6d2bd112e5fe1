"""Administrators: the plan layers (zones per division, GeoJSON) and the intermediaries' registry."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from ..errors import AppError, InvalidInput, NotFound
from ..models import Division, IntermediaryFirm, IntermediaryQualification, PlanZone
from ..services.intermediary import registry
from ..services.planning import zones
from ..web import platform, unit_of_work
from . import admin_bp, maps


@admin_bp.get("/")
def index():
    """Both registries at a glance: the plan zones and the intermediaries."""
    with unit_of_work(write=False) as session:
        rows = zones.all_zones(session)
        firms = list(session.scalars(select(IntermediaryFirm).order_by(IntermediaryFirm.id)))
        return render_template("platforms/admin_index.html", zones=rows, firms=firms, kinds=zones.KINDS,
                               services=registry.service_kinds(platform()),
                               layers=maps.layers([z for z in rows if z.active]))


def _zone_page(session, zone_id, form, errors, status=200):
    divisions = list(session.scalars(select(Division).order_by(Division.code)))
    preview = maps.layers(zones.zones_of(session, form.get("division_code") or "460100"))
    return render_template("platforms/admin_zone.html", zone_id=zone_id, form=form, errors=errors,
                           divisions=divisions, kinds=zones.KINDS, layers=preview), status


@admin_bp.route("/zones/new", methods=["GET", "POST"], defaults={"zone_id": None})
@admin_bp.route("/zones/<int:zone_id>", methods=["GET", "POST"])
def zone(zone_id: int | None):
    """Add or change a plan zone: division, kind, name and its GeoJSON polygon (drawn on the map)."""
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            form = {"division_code": "460100", "kind": "ecological_red_line", "active": "1", "name": "", "geometry": ""}
            if zone_id is not None:
                row = session.get(PlanZone, zone_id)
                if row is None:
                    raise NotFound(f"plan zone {zone_id} does not exist")
                form = {"division_code": row.division_code, "kind": row.kind, "name": row.name,
                        "geometry": row.geometry, "active": "1" if row.active else ""}
            return _zone_page(session, zone_id, form, {})
    form = {k: request.form.get(k, "").strip() for k in ("division_code", "kind", "name", "geometry", "active")}
    try:
        with unit_of_work() as session:
            zones.save_zone(session, platform(), g.user, {**form, "active": form["active"] == "1"}, zone_id)
    except InvalidInput as exc:
        with unit_of_work(write=False) as session:
            return _zone_page(session, zone_id, form, exc.fields or {"(form)": exc.message}, 422)
    flash(_("已保存规划图层“%(name)s”", name=form["name"]), "success")
    return redirect(url_for("platforms_admin.index"))


@admin_bp.post("/zones/<int:zone_id>/delete")
def delete_zone(zone_id: int):
    """Remove a plan zone."""
    with unit_of_work() as session:
        zones.delete_zone(session, platform(), g.user, zone_id)
    flash(_("已删除规划图层"), "success")
    return redirect(url_for("platforms_admin.index"))


@admin_bp.post("/firms")
def register_firm():
    """Register an intermediary by its unified social credit code."""
    form = {k: request.form.get(k, "").strip() for k in ("name", "credit_code", "division_code", "contact",
                                                          "introduction")}
    try:
        with unit_of_work() as session:
            firm = registry.register_firm(session, platform(), g.user, form)
            firm_id = firm.id
    except AppError as exc:
        if exc.status == 404:
            raise
        flash(_("未能登记：%(reason)s", reason="；".join((exc.fields or {}).values()) or exc.message), "error")
        return redirect(url_for("platforms_admin.index"))
    flash(_("已登记中介机构“%(name)s”", name=form["name"]), "success")
    return redirect(url_for("platforms_admin.firm", firm_id=firm_id))


@admin_bp.get("/firms/<int:firm_id>")
def firm(firm_id: int):
    """A firm with its qualifications; add or withdraw one, list or delist the firm."""
    with unit_of_work(write=False) as session:
        found = registry.get_firm(session, firm_id)
        return render_template("platforms/admin_firm.html", firm=found, services=registry.service_kinds(platform()),
                               items_of=registry.qualification_items, today=platform().now().date())


@admin_bp.post("/firms/<int:firm_id>/qualifications")
def add_qualification(firm_id: int):
    """Record a qualification: service, grade, certificate, validity, the items it supports."""
    form = {k: request.form.get(k, "").strip() for k in ("service", "grade", "certificate_no", "valid_from",
                                                          "valid_until", "items")}
    try:
        with unit_of_work() as session:
            registry.add_qualification(session, platform(), g.user, firm_id, form)
    except InvalidInput as exc:
        flash(_("未能登记资质：%(reason)s", reason="；".join((exc.fields or {}).values()) or exc.message), "error")
    else:
        flash(_("已登记资质"), "success")
    return redirect(url_for("platforms_admin.firm", firm_id=firm_id))


@admin_bp.post("/qualifications/<int:qualification_id>/delete")
def remove_qualification(qualification_id: int):
    """Withdraw a qualification."""
    with unit_of_work() as session:
        row = session.get(IntermediaryQualification, qualification_id)
        firm_id = row.firm_id if row else None
        registry.remove_qualification(session, platform(), g.user, qualification_id)
    flash(_("已撤销资质"), "success")
    return redirect(url_for("platforms_admin.firm", firm_id=firm_id))


@admin_bp.post("/firms/<int:firm_id>/listing")
def listing(firm_id: int):
    """List or delist a firm in the directory."""
    active = request.form.get("active") == "1"
    with unit_of_work() as session:
        registry.set_active(session, platform(), g.user, firm_id, active)
    flash(_("已在中介超市公开") if active else _("已从中介超市下架"), "success")
    return redirect(url_for("platforms_admin.firm", firm_id=firm_id))

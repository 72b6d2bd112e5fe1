"""The public directory of intermediaries (中介超市): no login."""

from __future__ import annotations

from flask import render_template, request

from ..services.intermediary import registry
from ..web import platform, unit_of_work
from . import market_bp


@market_bp.get("/")
def directory():
    """Listed firms with their valid qualifications, ratings (好差评) and late or refused services."""
    service = request.args.get("service", "").strip()[:30]
    kinds = registry.service_kinds(platform())
    if service not in kinds:
        service = ""
    with unit_of_work(write=False) as session:
        rows = registry.directory(session, platform(), service or None)
        return render_template("platforms/market.html", rows=rows, kinds=kinds, service=service)

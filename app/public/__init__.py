"""Public pages (no login): item list and service guides, progress by project code with its QR image."""

from __future__ import annotations

import io

import segno
from flask import Blueprint, Response, abort, render_template, request

from ..errors import NotFound
from ..i18n import is_english
from ..services.people import progress, projects
from ..stages import STAGES
from ..web import canonical_url, platform, unit_of_work

bp = Blueprint("public", __name__)

from . import verify as _verify  # noqa: E402,F401  (seal: /v/<certificate id>)
from .guide import LIMIT_UNITS, guide_elements  # noqa: E402


@bp.get("/")
def home():
    """The item list by stage and department, with search by name."""
    catalog = platform().catalog
    q = request.args.get("q", "").strip()[:50]
    groups = []
    for stage in STAGES:
        found = [i for i in catalog.items if i.stage == stage.key and (not q or q in i.name or q in i.code)]
        by_role: dict[str, list] = {}
        for item in found:
            by_role.setdefault(item.role, []).append(item)
        if found:
            groups.append((stage, [(catalog.roles[r].name if r in catalog.roles else r, its)
                                   for r, its in by_role.items()]))
    return render_template("public/home.html", groups=groups, q=q,
                           total=sum(len(its) for _, roles in groups for _, its in roles), limit_units=LIMIT_UNITS)


@bp.get("/public/items/<code>")
def guide(code: str):
    """An item's service guide (办事指南) with all its elements."""
    try:
        item = platform().catalog.item(code)
    except Exception:  # noqa: BLE001 - any unknown code is a 404
        raise NotFound(f"no catalogue item {code!r}") from None
    role = platform().catalog.roles.get(item.role)
    role_name = ((role.name_en or role.name) if is_english() else role.name) if role else item.role
    stage = next((s for s in STAGES if s.key == item.stage), None)
    return render_template("public/guide.html", item=item, elements=guide_elements(item, role_name, stage))


@bp.get("/public/query")
def query():
    """Progress by project code (码上查): public fields only."""
    code = request.args.get("code", "").strip()[:60]
    if not code:
        return render_template("public/query.html", code="", project=None, stages=None, items=None)
    with unit_of_work(write=False) as session:
        try:
            found = projects.find_project(session, code)
        except NotFound:
            return render_template("public/query.html", code=code, project=None, stages=None, items=None,
                                   missing=True), 404
        from ..services.forecast.eta import project_etas  # the ETA of each running stage (forecast)
        return render_template("public/query.html", code=code, project=found, stages=progress.stage_bar(found),
                               etas=project_etas(session, platform(), found),
                               items=progress.item_rows(session, platform(), found),
                               division=_division_name(found.division_code))


@bp.get("/public/qr/<code>.svg")
def qr(code: str):
    """A QR image leading to the project's public progress page."""
    if not 10 <= len(code) <= 60 or not all(c.isalnum() or c == "-" for c in code):
        abort(404)
    target = canonical_url("public.query", code=code)  # HN_BASE_URL, never the request's Host
    out = io.BytesIO()
    segno.make(target, error="m").save(out, kind="svg", scale=4, border=2, dark="#1f5fa8")
    return Response(out.getvalue(), mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


def _division_name(code: str) -> str:
    """The division's name for its code (empty when the catalogue does not know it)."""
    try:
        return platform().catalog.division(code).name
    except Exception:  # noqa: BLE001 - an unknown code shows alone
        return ""

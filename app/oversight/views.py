"""Dashboard views: the figures with their charts, a project's drill-down, the exports."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, g, render_template, request
from flask_babel import gettext as _

from ..i18n import is_english
from ..pagekit import diagram_marks_response, diagram_response, progress_context
from ..services.oversight import exports, figures, scope
from ..stages import STAGES
from ..web import platform, unit_of_work
from . import bp


def _scope_and_filters():
    viewer = scope.scope_of(platform(), g.user)
    return viewer, scope.parse_filters(platform(), viewer, request.args)


def _divisions(viewer: scope.Scope) -> list:
    divisions = [d for d in platform().catalog.divisions if d.level != "province"]
    if viewer.level == scope.CITY:
        divisions = [d for d in divisions if d.code in viewer.divisions]
    return divisions


@bp.get("/")
def dashboard():
    """The figures of the viewer's scope for the chosen period, division, flow type and stage."""
    viewer, filters = _scope_and_filters()
    with unit_of_work(write=False) as session:
        data = figures.dashboard(session, platform(), viewer, filters)
    return render_template("oversight/dashboard.html", data=data, viewer=viewer, filters=filters,
                           query=filters.query(), divisions=_divisions(viewer), stages=STAGES,
                           flow_types=platform().catalog.flow_types, tables=exports.TABLES, charts=_charts(data))


def _charts(data: dict) -> dict:
    """What the page's charts draw (ECharts reads it as JSON)."""
    english = is_english()
    return {"trend": data["trend"],
            "lights": [{"name": _(label), "value": data["summary"]["open_by_light"][key], "key": key}
                       for key, label in (("green", "正常"), ("yellow", "临近到期"), ("red", "已超期"),
                                          ("none", "无时限"))],
            "stages": [{"name": (next((s.name_en for s in STAGES if s.key == d["key"]), d["name"]) if english
                                 else d["name"]), "median": d["median"], "p90": d["p90"]}
                       for d in data["durations"]["stage"]],
            "cities": [{"name": d["name"], "median": d["median"], "p90": d["p90"], "count": d["count"]}
                       for d in data["durations"]["city"]],
            "labels": {"accepted": _("受理"), "finished": _("办结"), "late": _("超期办结"),
                       "median": _("中位数"), "p90": _("90分位"), "days": _("工作日")}}


@bp.get("/export/<name>.<fmt>")
def export(name: str, fmt: str):
    """One table of the dashboard as an .xlsx workbook or a CSV file, with the page's filters."""
    viewer, filters = _scope_and_filters()
    if fmt not in exports.FORMATS:
        return Response(_("不支持的导出格式"), status=404)
    english = is_english()
    with unit_of_work(write=False) as session:
        head, rows = exports.table(session, platform(), viewer, filters, name, english)
    title = exports.TABLES.get(name, (name, name))[1 if english else 0]
    note = f"{viewer.name} · " + " ".join(f"{k}={v}" for k, v in filters.query().items())
    if fmt == "csv":
        body, mimetype = exports.to_csv(head, rows), "text/csv"
    else:
        body = exports.to_xlsx(title, head, rows, note)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"{title}.{fmt}"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=\"{name}.{fmt}\"; filename*=UTF-8''{quote(filename)}"})


@bp.get("/projects/<code>")
def project(code: str):
    """Drill-down: one project of the viewer's scope, its stages, items, diagram and history (read-only)."""
    viewer = scope.scope_of(platform(), g.user)
    with unit_of_work(write=False) as session:
        found = scope.project_in_scope(session, platform(), viewer, code)
        context = progress_context(session, found, request.args.get("instance"), "oversight.diagram")
        return render_template("oversight/project.html", project=found, **context)


@bp.get("/projects/<code>/diagram/<int:instance_id>", endpoint="diagram")
def diagram(code: str, instance_id: int):
    """The BPMN file of one of the project's applications."""
    viewer = scope.scope_of(platform(), g.user)
    with unit_of_work(write=False) as session:
        return diagram_response(session, scope.project_in_scope(session, platform(), viewer, code), instance_id)


@bp.get("/projects/<code>/diagram/<int:instance_id>/marks", endpoint="diagram_marks")
def diagram_marks(code: str, instance_id: int):
    """Which elements of the application's diagram are done and which are active."""
    viewer = scope.scope_of(platform(), g.user)
    with unit_of_work(write=False) as session:
        found = scope.project_in_scope(session, platform(), viewer, code)
        return diagram_marks_response(session, found, instance_id)

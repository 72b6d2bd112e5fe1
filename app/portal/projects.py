"""Portal views: dashboard, declaring a project, its page, stage applications, progress."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from engine.errors import FormValidationError

from ..errors import Conflict, InvalidInput, NotFound
from ..models import Division
from ..pagekit import add_diagram_routes, form_errors, form_fields, page_number, read_form
from ..services.people import listings, materials, progress, projects, results
from ..services.people.projects import INVESTMENT_TYPES
from ..services.workflow import tasks
from ..stages import STAGES
from ..stages import stage as stage_by_key
from ..web import platform, unit_of_work, whole_number
from . import bp

INVESTMENT_NAMES = {"government": "政府投资项目（审批制）", "ratification": "企业投资项目（核准制）",
                    "filing": "企业投资项目（备案制）"}
FLOW_TYPES = {1: "政府投资房屋建筑类", 2: "政府投资城市基础设施线性工程类", 3: "一般社会投资项目",
              4: "小型社会投资项目", 5: "带方案出让用地项目", 6: "工业项目", 7: "交通项目", 8: "水利项目",
              9: "能源项目", 10: "其他"}

DECLARE_MESSAGES = {"name": "请填写2至200字的项目名称", "division": "请选择建设地点所在的行政区划",
                    "investment_type": "请选择项目管理类型", "flow_type": "请选择审批流程类型"}


@bp.get("/")
def dashboard():
    """My enterprise's projects and the tasks waiting for me."""
    with unit_of_work(write=False) as session:
        page = listings.enterprise_projects(session, g.user, page_number())
        waiting = tasks.inbox(session, g.user, 1, 50)
        rows = [(p, [s for s in STAGES if projects.stage_status(p, s) in ("running",)]) for p in page.rows]
        todo = [(t, t.instance.project) for t in waiting.rows]
        return render_template("portal/dashboard.html", page=page, rows=rows, todo=todo)


def _divisions(session) -> list[Division]:
    return list(session.scalars(select(Division).order_by(Division.code)))


@bp.route("/projects/new", methods=["GET", "POST"])
def declare():
    """Declare a project; it gets its code (一项一码)."""
    form = {k: request.form.get(k, "") for k in ("name", "division", "investment_type", "flow_type")}
    errors: dict[str, str] = {}
    if request.method == "POST":
        body = {"name": form["name"], "division": form["division"], "investment_type": form["investment_type"],
                "flow_type": _flow_type(form["flow_type"])}
        try:
            with unit_of_work() as session:
                project = projects.create_project(session, platform(), g.user, body)
                code = project.code
        except InvalidInput as exc:
            errors = {k: DECLARE_MESSAGES.get(k, v) for k, v in (exc.fields or {"name": exc.message}).items()}
        else:
            flash(f"项目已赋码：{code}", "success")
            return redirect(url_for("portal.project", code=code))
    with unit_of_work(write=False) as session:
        return render_template("portal/declare.html", form=form, errors=errors, divisions=_divisions(session),
                               investment_types=[(k, INVESTMENT_NAMES[k]) for k in INVESTMENT_TYPES],
                               flow_types=FLOW_TYPES), 422 if errors else 200


@bp.get("/projects/<code>")
def project(code: str):
    """One project: its stages with what can be done now, materials and results."""
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        waiting = [t for t in tasks.inbox(session, g.user, 1, 100, project=found.code).rows]
        view = progress.project_progress(session, platform(), found, with_history=False)
        from ..services.forecast.eta import project_etas  # the ETA of each running stage (forecast)
        from ..services.planning.generation import proposal_of  # 项目策划生成, 中介服务 (app.platforms)
        return render_template("portal/project.html", project=found, waiting=waiting, progress=view,
                               etas=project_etas(session, platform(), found),
                               planning=proposal_of(session, found),
                               intermediary_link=url_for("services.project", code=found.code),
                               uploads=materials.project_materials(session, found),
                               issued=results.issued_list(session, found),
                               investment_names=INVESTMENT_NAMES)


add_diagram_routes(bp)


def _stage_page(session, found, stage, values, errors, status=200):
    checklist = materials.checklist(session, platform(), found, stage, values)
    enterprise = projects.registered_enterprise(session, found)
    fields = form_fields(stage.form, values, errors)
    for f in fields:  # the applicant fields come from the filing enterprise's record, read-only
        if f.name in projects.ENTERPRISE_FIELDS:
            f.readonly, f.value = True, getattr(enterprise, projects.ENTERPRISE_FIELDS[f.name])
    return render_template("portal/apply.html", project=found, stage=stage, checklist=checklist,
                           fields=fields,
                           schema=platform().forms.schema(stage.form),
                           status=projects.stage_status(found, stage), errors=errors), status


@bp.route("/projects/<code>/stages/<key>", methods=["GET", "POST"])
def apply(code: str, key: str):
    """Fill and submit the stage's one form (一张表单), beside its materials checklist."""
    stage = stage_by_key(key)
    if stage is None:
        raise NotFound(f"no stage {key!r}")
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            found = projects.visible_project(session, g.user, code)
            values = _prefill(found, stage)
            return _stage_page(session, found, stage, values, {})
    data, errors = read_form(stage.form)
    if not errors:
        try:
            with unit_of_work() as session:
                projects.apply_for_stage(session, platform(), g.user, code, key, data)
        except FormValidationError as exc:
            errors = form_errors(stage.form, exc)
        except InvalidInput as exc:  # a rule beyond the schema (e.g. the decision's checks)
            errors = {k: v for k, v in (exc.fields or {}).items()} or {"(form)": exc.message}
        except Conflict as exc:  # the stage is not open (locked, already running or approved)
            flash(f"未能提交：{exc.message}", "error")
            return redirect(url_for("portal.project", code=code))
        else:
            flash(f"{stage.name}阶段申请已提交，等待综合窗口受理", "success")
            return redirect(url_for("portal.project", code=code))
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        return _stage_page(session, found, stage, {**request.form.to_dict(), **data}, errors, 422)


def _flow_type(raw: str):
    """The posted flow type as a number when it is one (the service says what is wrong otherwise)."""
    number = whole_number(raw, 0, 100)
    return number if number is not None else raw or 3


def _prefill(found, stage) -> dict:
    """Sensible first values: the project's own facts and the enterprise's name."""
    if stage.key != "initiation":
        return {}
    enterprise = found.enterprise
    return {"project_name": found.name, "investment_type": found.investment_type,
            "applicant_name": enterprise.name if enterprise else "",
            "applicant_credit_code": enterprise.credit_code if enterprise else ""}

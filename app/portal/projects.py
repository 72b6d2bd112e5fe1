"""Portal views: dashboard, declaring a project, its page, stage applications, progress."""

from __future__ import annotations

from flask import flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from engine.errors import FormValidationError

from ..errors import Conflict, InvalidInput, NotFound
from ..models import Division
from ..pagekit import add_diagram_routes, form_errors, form_fields, page_number, read_form
from ..services.people import carryover, drafts, listings, materials, progress, projects, results
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


def _stage_view(session, found, stage, values, errors):
    """What the stage page shows beside the form: the materials and the signable items for ``values``."""
    typed = _typed(stage, values)
    codes = materials.stage_item_codes(session, platform(), stage, found, typed)
    checklist = materials.checklist(session, platform(), found, stage, typed, item_codes=codes)
    enterprise = projects.registered_enterprise(session, found)
    fields = form_fields(stage.form, values, errors)
    signable = materials.eligible_commitments(platform(), codes)
    for f in fields:  # the applicant fields come from the filing enterprise's record, read-only
        if f.name in projects.ENTERPRISE_FIELDS:
            f.readonly, f.value = True, getattr(enterprise, projects.ENTERPRISE_FIELDS[f.name])
        if f.name == "commitments":  # 告知承诺: ticked from the signable items, with their text
            f.widget = "commitments"
            ticked = values.get("commitments") or []
            f.value = ticked.split() if isinstance(ticked, str) else [str(v) for v in ticked]
            f.choices = [(c["code"], c["name"], c["text"]) for c in signable]
    return checklist, fields, signable


def _typed(stage, values) -> dict:
    """The values as the application would hold them (strings typed where they can be)."""
    from werkzeug.datastructures import MultiDict

    from ..formrender import parse
    form = MultiDict()
    for key, value in (values or {}).items():
        for v in (value if isinstance(value, list) else [value]):
            form.add(key, "on" if v is True else ("" if v is False or v is None else
                                                  ("\n".join(map(str, v)) if isinstance(v, list) else str(v))))
    data, _errors = parse(platform().forms.schema(stage.form), form)
    return data


def _stage_page(session, found, stage, values, errors, status=200, draft=None):
    checklist, fields, _signable = _stage_view(session, found, stage, values, errors)
    titles = {f.name: f.title for f in fields}
    summary = [(name, titles.get(name) or (_("申请材料") if name == "materials" else _("申请表")), message)
               for name, message in errors.items()]
    return render_template("portal/apply.html", project=found, stage=stage, checklist=checklist,
                           fields=fields, summary=summary, draft=draft,
                           schema=platform().forms.schema(stage.form),
                           status=projects.stage_status(found, stage), errors=errors), status


def _field_names(stage) -> set[str]:
    return set(platform().forms.schema(stage.form).get("properties", {}))


def _posted_values(stage) -> dict:
    """The posted strings of the stage's fields (lists for the multi-valued ones)."""
    out: dict = {}
    for name, prop in platform().forms.schema(stage.form).get("properties", {}).items():
        got = request.form.getlist(name)
        if got:
            out[name] = got if prop.get("type") == "array" else got[0]
    return out


def _stage_or_404(key: str):
    stage = stage_by_key(key)
    if stage is None:
        raise NotFound(f"no stage {key!r}")
    return stage


@bp.route("/projects/<code>/stages/<key>", methods=["GET", "POST"])
def apply(code: str, key: str):
    """Fill and submit the stage's one form (一张表单), beside its materials checklist.

    The form starts filled from the project and earlier stages, then from the draft saved
    for the stage; ``action=draft`` keeps what was typed as the draft instead of submitting.
    """
    stage = _stage_or_404(key)
    if request.method == "GET":
        with unit_of_work(write=False) as session:
            found = projects.visible_project(session, g.user, code)
            draft = drafts.get_draft(session, found, stage.key)
            values = {**carryover.stage_prefill(session, platform(), found, stage), **drafts.draft_values(draft)}
            return _stage_page(session, found, stage, values, {}, draft=draft)
    if request.form.get("action") == "draft":
        with unit_of_work() as session:
            found = projects.visible_project(session, g.user, code)
            drafts.save_draft(session, platform(), g.user, found, stage.key, _posted_values(stage),
                              _field_names(stage))
        flash(_("草稿已保存，下次打开本阶段申请表时自动恢复"), "success")
        return redirect(url_for("portal.apply", code=code, key=key))
    data, errors = read_form(stage.form)
    if not errors:
        try:
            with unit_of_work() as session:
                projects.apply_for_stage(session, platform(), g.user, code, key, data)  # and drops the draft
        except FormValidationError as exc:
            errors = form_errors(stage.form, exc)
        except projects.MissingMaterials as exc:  # refused with the list of what is missing
            errors = {"materials": _("缺少必交材料：%(names)s", names="、".join(exc.missing))}
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
        return _stage_page(session, found, stage, {**_posted_values(stage), **data}, errors, 422)


@bp.post("/projects/<code>/stages/<key>/checklist")
def checklist(code: str, key: str):
    """The materials and signable items for the answers typed so far (JSON; the page asks as one types)."""
    stage = _stage_or_404(key)
    with unit_of_work(write=False) as session:
        found = projects.visible_project(session, g.user, code)
        values = _posted_values(stage)
        checklist, fields, signable = _stage_view(session, found, stage, values, {})
        commitments_field = next((f for f in fields if f.name == "commitments"), None)
        return jsonify({
            "materials": [m.as_json() for m in checklist], "commitments": signable,
            "html": {"materials": render_template("portal/_upload.html", project=found, checklist=checklist,
                                                  back=url_for("portal.apply", code=code, key=key),
                                                  only_rows=True),
                     "commitments": render_template("_form.html", field=commitments_field, only_commitments=True)
                     if commitments_field else ""}})


@bp.post("/projects/<code>/stages/<key>/draft")
def save_draft(code: str, key: str):
    """Keep what was typed as the stage's draft (JSON; the page saves as one types)."""
    stage = _stage_or_404(key)
    with unit_of_work() as session:
        found = projects.visible_project(session, g.user, code)
        row = drafts.save_draft(session, platform(), g.user, found, stage.key, _posted_values(stage),
                                _field_names(stage))
        return jsonify({"saved_at": row.updated_at.isoformat()})


def _flow_type(raw: str):
    """The posted flow type as a number when it is one (the service says what is wrong otherwise)."""
    number = whole_number(raw, 0, 100)
    return number if number is not None else raw or 3

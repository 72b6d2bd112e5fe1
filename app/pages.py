"""The people's pages: applicant portal, officer workbench, public pages, language switch."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, g

from . import i18n
from .config import Settings
from .stages import STAGES

ROLE_NAMES = {"applicant": "申报单位", "window": "综合窗口", "officer": "审批部门", "supervisor": "督办",
              "analyst": "流程分析", "admin": "管理员", "intermediary": "中介机构"}

EVENT_NAMES = {"project_declared": "项目申报赋码", "stage_started": "提交阶段申请", "task_completed": "办理",
               "stage_finished": "阶段办结", "stage_withdrawn": "申请人撤回", "material_uploaded": "上传材料",
               "timers_fired": "时限提醒", "enterprise_registered": "企业注册"}
OUTCOME_NAMES = {"accept": "受理", "reject": "不予受理", "correct": "需补正", "approve": "同意", "refuse": "不同意",
                 "complete": "补正齐全", "insufficient": "补正不齐全"}
STAGE_NAMES = {s.key: s.name for s in STAGES}
VIEWER = Path(__file__).resolve().parent / "static" / "vendor" / "bpmn-js" / "bpmn-navigated-viewer.production.min.js"


def bpmn_viewer_available() -> bool:
    """Whether ``make install`` has put bpmn-js into static/vendor."""
    return VIEWER.is_file()


def nav_links() -> list[tuple[str, str]]:
    """(path, label) of the areas the logged-in user may open."""
    user = g.get("user")
    if user is None:
        return []
    links = {"applicant": [("/portal/", "我的项目")],
             "window": [("/officer/", "待办任务"), ("/officer/done", "已办任务")],
             "officer": [("/officer/", "待办任务"), ("/officer/done", "已办任务")],
             "supervisor": [("/officer/", "待办任务"), ("/officer/done", "已办任务"), ("/oversight/", "监管看板")],
             "analyst": [("/admin/", "流程管理")],
             "admin": [("/officer/", "待办任务"), ("/admin/", "系统管理"), ("/admin/exchange", "数据共享交换"),
                       ("/oversight/", "监管看板")]}
    # the portal's other two platforms: 项目策划生成 and 中介服务 (app.platforms)
    extra = {"applicant": [("/market/", "中介超市")], "officer": [("/planning/", "项目策划")],
             "window": [("/planning/", "项目策划")], "supervisor": [("/services/oversight", "中介服务督办")],
             "intermediary": [("/intermediary/", "我的委托"), ("/market/", "中介超市")],
             "admin": [("/admin/platforms/", "规划图层与中介机构")]}
    return links.get(user.role, []) + extra.get(user.role, [])


def register_pages(app: Flask, settings: Settings) -> None:
    """Register the page blueprints and their template helpers."""
    from .messages import bp as messages_bp
    from .messages import unread_count
    from .officer import bp as officer_bp
    from .portal import bp as portal_bp
    from .public import bp as public_bp

    app.config["MAX_CONTENT_LENGTH"] = max(app.config.get("MAX_CONTENT_LENGTH") or 0,
                                           settings.MAX_UPLOAD_BYTES + 1024 * 1024)
    i18n.init_app(app)
    app.jinja_env.globals.update(nav_links=nav_links, ROLE_NAMES=ROLE_NAMES, EVENT_NAMES=EVENT_NAMES,
                                OUTCOME_NAMES=OUTCOME_NAMES, STAGE_NAMES=STAGE_NAMES,
                                bpmn_viewer_available=bpmn_viewer_available, unread_count=unread_count)
    app.register_blueprint(public_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(officer_bp)
    from .platforms import register as register_platforms
    register_platforms(app)  # 项目策划生成 and 中介服务
    from .oversight import bp as oversight_bp
    app.register_blueprint(oversight_bp)  # oversight: the supervision dashboard
    app.register_blueprint(messages_bp)  # every user's message centre

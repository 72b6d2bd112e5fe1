"""The portal's other two platforms: 项目策划生成 (planning generation) and 中介服务 (intermediary services).

One blueprint per audience, each guarded once: ``planning`` (the lead and
reviewing departments' officers), ``services`` (applicants commissioning and
rating a service; supervisors seeing late and refused ones), ``intermediary``
(the firms' own commissions), ``market`` (the public directory, 中介超市) and
``platforms_admin`` (administrators: plan layers and the intermediaries' registry).
:func:`register` adds them to the app; :mod:`.panels` gives the officer's task
page what it shows of either platform.
"""

from __future__ import annotations

from flask import Blueprint, Flask

from ..auth import guard_blueprint

planning_bp = Blueprint("planning", __name__, url_prefix="/planning")
guard_blueprint(planning_bp, "officer", "window", "supervisor", "analyst", "admin")
services_bp = Blueprint("services", __name__, url_prefix="/services")
guard_blueprint(services_bp, "applicant", "supervisor", "admin")
intermediary_bp = Blueprint("intermediary", __name__, url_prefix="/intermediary")
guard_blueprint(intermediary_bp, "intermediary")
market_bp = Blueprint("market", __name__, url_prefix="/market")
admin_bp = Blueprint("platforms_admin", __name__, url_prefix="/admin/platforms")
guard_blueprint(admin_bp, "admin")

from . import admin_views, intermediary_views, market, planning_views, services_views  # noqa: E402,F401

PLANNING_STATUS = {"reviewing": "各部门审查中", "generated": "已策划生成", "withdrawn": "已撤回"}


def register(app: Flask) -> None:
    """Register the blueprints of both platforms and their template helpers."""
    import json

    from ..services.planning.zones import KINDS
    app.jinja_env.globals.update(PLANNING_STATUS=PLANNING_STATUS, KIND_NAMES={k: v.name for k, v in KINDS.items()})
    app.jinja_env.filters["fromjson"] = json.loads
    for bp in (planning_bp, services_bp, intermediary_bp, market_bp, admin_bp):
        app.register_blueprint(bp)

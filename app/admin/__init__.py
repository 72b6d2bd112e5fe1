"""The analysts' and administrators' pages: deployments, the BPMN modeler, versions, migrations."""

from __future__ import annotations

from flask import Blueprint

from ..auth import guard_blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
guard_blueprint(bp, "analyst", "admin")


@bp.context_processor
def _script_text():
    from .ui_text import ui_text
    return {"ui_text": ui_text}


from . import exchange, views  # noqa: E402,F401  (routes register on bp)

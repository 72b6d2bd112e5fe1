"""The supervision dashboard (/oversight/): figures, charts, drill-down and exports, read-only."""

from __future__ import annotations

from flask import Blueprint

from ..auth import guard_blueprint

bp = Blueprint("oversight", __name__, url_prefix="/oversight")
guard_blueprint(bp, "supervisor", "admin")

from . import views  # noqa: E402,F401  (views register on bp)

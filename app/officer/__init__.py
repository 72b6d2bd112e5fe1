"""The officer workbench (/officer/): the unit's inbox, claims, task pages, project progress."""

from __future__ import annotations

from flask import Blueprint

from ..auth import guard_blueprint

bp = Blueprint("officer", __name__, url_prefix="/officer")
guard_blueprint(bp, "window", "officer", "supervisor", "admin")

from . import special, views  # noqa: E402,F401  (views register on bp)

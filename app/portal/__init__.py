"""The applicant portal (/portal/): projects, stage forms, materials, corrections, progress."""

from __future__ import annotations

from flask import Blueprint

from ..auth import guard_blueprint

bp = Blueprint("portal", __name__, url_prefix="/portal")
guard_blueprint(bp, "applicant")

from . import projects, tasks  # noqa: E402,F401  (views register on bp)

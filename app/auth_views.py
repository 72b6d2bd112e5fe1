"""Login and logout pages."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from .auth import login_user, logout_user
from .errors import Unauthorized
from .services import accounts
from .web import unit_of_work

bp = Blueprint("auth", __name__)

HOME = {"applicant": "/portal/", "window": "/officer/", "officer": "/officer/", "supervisor": "/officer/",
        "analyst": "/admin/", "admin": "/admin/"}


def _safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log in on POST."""
    if request.method == "GET":
        return render_template("login.html")
    try:
        with unit_of_work(write=False) as session:
            user = accounts.authenticate(session, request.form.get("username", ""),
                                         request.form.get("password", ""))
    except Unauthorized:
        return render_template("login.html", error="用户名或密码错误"), 401
    login_user(user)
    return redirect(_safe_next(request.args.get("next")) or HOME.get(user.role, "/"))


@bp.post("/logout")
def logout():
    """End the session."""
    logout_user()
    return redirect(url_for("auth.login"))

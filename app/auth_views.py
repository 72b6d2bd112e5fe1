"""Login and logout pages."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from .auth import login_user, logout_user
from .errors import InvalidInput
from .services.people import enterprises, logins
from .web import platform, unit_of_work

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
    username = request.form.get("username", "")[:80]
    try:
        with unit_of_work() as session:  # a failure is recorded and committed
            user = logins.login(session, platform().settings, username, request.form.get("password", ""),
                                request.remote_addr or "?", platform().now())
    except logins.TooManyAttempts as exc:
        return render_template("login.html", error=exc.message, username=username), 429
    if user is None:
        return render_template("login.html", error="用户名或密码错误", username=username), 401
    login_user(user)
    return redirect(_safe_next(request.args.get("next")) or HOME.get(user.role, "/"))


@bp.post("/logout")
def logout():
    """End the session."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Register an enterprise (统一社会信用代码 checked) and its first applicant account."""
    if request.method == "GET":
        return render_template("register.html", form={}, errors={})
    form = {k: request.form.get(k, "") for k in enterprises.FIELDS}
    try:
        with unit_of_work() as session:
            user = enterprises.register(session, platform(), form)
    except InvalidInput as exc:
        form.pop("password"), form.pop("password_confirm")
        return render_template("register.html", form=form, errors=exc.fields or {}), 422
    login_user(user)
    flash("注册成功，欢迎使用。现在可以申报项目。", "success")
    return redirect(url_for("portal.dashboard"))

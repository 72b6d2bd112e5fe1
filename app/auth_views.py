"""Login, logout, registration and the account page (password change, sessions)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from .auth import login_user, logout_user
from .errors import InvalidInput
from .services.people import enterprises
from .services.security import passwords, sessions, throttle
from .services.security.redirects import safe_next
from .web import platform, unit_of_work

bp = Blueprint("auth", __name__)

HOME = {"applicant": "/portal/", "window": "/officer/", "officer": "/officer/", "supervisor": "/officer/",
        "analyst": "/admin/", "admin": "/admin/"}


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Show the login form; log in on POST."""
    if request.method == "GET":
        return render_template("login.html")
    username = request.form.get("username", "")[:80]
    try:
        with unit_of_work() as session:  # a failure is recorded and committed
            user = throttle.login(session, platform().settings, username, request.form.get("password", ""),
                                  request.remote_addr or "?", platform().now())
    except throttle.TooManyAttempts as exc:
        return (render_template("login.html", error=exc.message, username=username), 429,
                {"Retry-After": str(exc.retry_after)})
    if user is None:
        return render_template("login.html", error="用户名或密码错误", username=username), 401
    login_user(user)
    return redirect(safe_next(request.args.get("next")) or HOME.get(user.role, "/"))


@bp.post("/logout")
def logout():
    """End the session, on the server too."""
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/register", methods=["GET", "POST"])
def register():
    """Register an enterprise (统一社会信用代码 checked) and its first applicant account."""
    if request.method == "GET":
        return render_template("register.html", form={}, errors={})
    form = {k: request.form.get(k, "") for k in enterprises.FIELDS}
    try:
        with unit_of_work() as session:  # every attempt counts, kept even when the form is refused
            throttle.count_attempt(session, "register", request.remote_addr or "?", platform().now(),
                                   platform().settings.REGISTER_PER_HOUR, dt.timedelta(hours=1))
    except throttle.TooManyAttempts as exc:
        form.pop("password"), form.pop("password_confirm")
        return (render_template("register.html", form=form, errors={"(form)": exc.message}), 429,
                {"Retry-After": str(exc.retry_after)})
    try:
        with unit_of_work() as session:
            user = enterprises.register(session, platform(), form)
    except InvalidInput as exc:
        form.pop("password"), form.pop("password_confirm")
        return render_template("register.html", form=form, errors=exc.fields or {}), 422
    login_user(user)
    flash("注册成功，欢迎使用。现在可以申报项目。", "success")
    return redirect(url_for("portal.dashboard"))


@bp.route("/account", methods=["GET", "POST"])
def account():
    """My account: change the password (which ends every session and token), see my sessions."""
    if g.get("user") is None:
        return redirect(url_for("auth.login", next=request.path))
    errors = {}
    if request.method == "POST":
        try:
            with unit_of_work() as session:
                user = session.merge(g.user)
                passwords.change_password(session, platform(), user, request.form.get("current", ""),
                                          request.form.get("new", ""), request.form.get("confirm", ""),
                                          platform().now())
        except InvalidInput as exc:
            errors = exc.fields or {"(form)": exc.message}
        else:
            login_user(user)  # this browser goes on with a fresh session; every other one has ended
            flash("密码已修改，其他登录会话和接口令牌均已失效", "success")
            return redirect(url_for("auth.account"))
    with unit_of_work(write=False) as session:
        live = sessions.sessions_of(session, g.user, platform().settings, platform().now())
        return render_template("account.html", sessions=live, errors=errors), 422 if errors else 200


@bp.post("/account/sessions/<int:session_id>/end")
def end_session(session_id: int):
    """End one of my other sessions (e.g. a browser left logged in elsewhere)."""
    if g.get("user") is None:
        abort(401)
    with unit_of_work() as session:
        if not sessions.end_own(session, g.user, session_id, platform().now()):
            abort(404)
    flash("该登录会话已结束", "success")
    return redirect(url_for("auth.account"))

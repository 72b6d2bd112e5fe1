"""Tokens and accounts."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from ..errors import InvalidInput, Unauthorized
from ..models import User
from ..services.people import accounts, logins
from ..web import json_body, platform, unit_of_work
from . import bp, require_role


@bp.post("/auth/token")
def issue_token():
    """Exchange a username and password for a bearer token."""
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInput("username and password are required",
                           {k: "required" for k in ("username", "password") if not isinstance(body.get(k), str)})
    with unit_of_work() as session:  # failures are recorded: the same throttle as the login page
        user = logins.login(session, platform().settings, username, password, request.remote_addr or "?",
                            platform().now())
        token = accounts.issue_token(session, user, platform().now(),
                                     platform().settings.TOKEN_TTL_HOURS) if user else None
    if user is None:
        raise Unauthorized("wrong username or password")
    return jsonify({"token": token, "user": accounts.user_view(user)})


@bp.get("/users")
def list_users():
    """Every account with its role, unit and division (administrators)."""
    require_role("admin")
    with unit_of_work(write=False) as session:
        users = session.scalars(select(User).order_by(User.id)).all()
        return jsonify({"users": [accounts.user_view(u) for u in users]})


@bp.get("/me")
def me():
    """The caller's own account."""
    return jsonify(accounts.user_view(g.user))

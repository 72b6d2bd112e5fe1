"""Tokens and accounts: issue, list and revoke one's tokens, change one's password."""

from __future__ import annotations

from flask import g, jsonify, request
from sqlalchemy import select

from ..errors import InvalidInput, Unauthorized
from ..models import User
from ..services.people import accounts
from ..services.security import passwords, throttle, tokens
from ..web import json_body, platform, unit_of_work
from . import bp, forget_cached_tokens, require_role


@bp.post("/auth/token")
def issue_token():
    """Exchange a username and password for a bearer token."""
    body = json_body()
    username, password = body.get("username"), body.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise InvalidInput("username and password are required",
                           {k: "required" for k in ("username", "password") if not isinstance(body.get(k), str)})
    with unit_of_work() as session:  # failures are recorded: the same throttle as the login page
        user = throttle.login(session, platform().settings, username[:200], password, request.remote_addr or "?",
                              platform().now())
        token = accounts.issue_token(session, user, platform().now(),
                                     platform().settings.TOKEN_TTL_HOURS) if user else None
    if user is None:
        raise Unauthorized("wrong username or password")
    return jsonify({"token": token, "user": accounts.user_view(user)})


@bp.get("/auth/tokens")
def list_tokens():
    """The caller's own tokens that still work (never the tokens themselves)."""
    with unit_of_work(write=False) as session:
        rows = tokens.tokens_of(session, g.user, platform().now())
        return jsonify({"tokens": [tokens.token_view(r, g.token_id) for r in rows]})


@bp.delete("/auth/tokens/<int:token_id>")
def revoke_token(token_id: int):
    """Revoke one of the caller's own tokens (404 for anyone else's)."""
    with unit_of_work() as session:
        tokens.revoke(session, g.user, token_id, platform().now())
    forget_cached_tokens()
    return "", 204


@bp.post("/auth/password")
def change_password():
    """Change the caller's password `{current, new, confirm}`: every session and token of the account ends."""
    body = json_body()
    with unit_of_work() as session:
        user = session.get(User, g.user.id)
        passwords.change_password(session, platform(), user, body.get("current"), body.get("new"),
                                  body.get("confirm"), platform().now())
    forget_cached_tokens()
    return "", 204


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

"""Browser sessions: who is logged in, and one guard per blueprint.

The signed, HTTP-only cookie holds only a random session token (``sid``); the session itself
(user, created, last seen, revoked) lives on the server (``services.security.sessions``), so a
cookie says nothing about the account and ends when the server ends it.  The API uses bearer
tokens instead (``app.api``).  ``guard_blueprint`` installs the access rule of a whole blueprint
in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, abort, g, redirect, request, session, url_for

from .db import transaction
from .models import User
from .services.security import sessions


def load_user() -> None:
    """Put the logged-in user (or None) on ``g.user`` for page requests."""
    if request.blueprint == "api" or request.endpoint == "static":
        return
    g.user = None
    token = session.get("sid")
    if token is None:
        if "user_id" in session or "pw" in session:  # a cookie of the old kind: never honoured
            session.clear()
        return
    from .web import platform
    now = platform().now()
    with transaction(platform().sessions, write=False) as s:
        row = sessions.find(s, platform().settings, token, now)
        user, row_id, stale = (row.user, row.id, sessions.needs_touch(row, now)) if row else (None, None, False)
    if user is None:
        session.clear()
        return
    if stale:
        with transaction(platform().sessions) as s:
            sessions.touch(s, row_id, now)
    g.user = user


def login_user(user: User) -> None:
    """Start a fresh server-side session for ``user`` (a new token: no fixation)."""
    from .web import platform
    with transaction(platform().sessions) as s:
        token = sessions.open_session(s, user, platform().now(), request.remote_addr or "",
                                      request.headers.get("User-Agent", ""))
    session.clear()
    session["sid"] = token
    session.permanent = True


def logout_user() -> None:
    """End the session on the server and forget the cookie."""
    from .web import platform
    token = session.get("sid")
    if token:
        with transaction(platform().sessions) as s:
            sessions.revoke(s, token, platform().now())
    session.clear()


def guard_blueprint(bp: Blueprint, *roles: str) -> None:
    """Require a logged-in user with one of ``roles`` (any role if none given) for every view."""

    @bp.before_request
    def _guard():
        if g.get("user") is None:
            return redirect(url_for("auth.login", next=request.full_path))
        if roles and g.user.role not in roles:
            abort(403)
        return None


def roles_required(*roles: str) -> Callable:
    """Restrict one view further than its blueprint's guard."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.get("user") is None or g.user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def init_app(app: Flask) -> None:
    """Load the user before every page request."""
    app.before_request(load_user)

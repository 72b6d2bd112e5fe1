"""Browser sessions: who is logged in, and one guard per blueprint.

Pages use a signed, HTTP-only session cookie holding the user's id; the API
uses bearer tokens instead (``app.api``).  ``guard_blueprint`` installs the
access rule of a whole blueprint in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, abort, g, redirect, request, session, url_for

from .db import transaction
from .models import User


def load_user() -> None:
    """Put the logged-in user (or None) on ``g.user`` for page requests."""
    if request.blueprint == "api":
        return
    g.user = None
    user_id = session.get("user_id")
    if user_id is None:
        return
    from .web import platform
    with transaction(platform().sessions, write=False) as s:
        user = s.get(User, user_id)
    if user is None or not user.active or session.get("pw") != user.password_hash[-16:]:
        session.clear()
        return
    g.user = user


def login_user(user: User) -> None:
    """Start a fresh session for ``user`` (the session id changes on login)."""
    session.clear()
    session["user_id"] = user.id
    session["pw"] = user.password_hash[-16:]  # a password change ends other sessions
    session.permanent = True


def logout_user() -> None:
    """End the session."""
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

"""The message centre through the API: my notifications, unread count, marking them read."""

from __future__ import annotations

from flask import g, jsonify, request

from ..services.notify import messages
from ..web import platform, unit_of_work
from . import bp


def _view(shown) -> dict:
    return {"id": shown.id, "kind": shown.kind, "title": shown.title, "body": shown.body, "link": shown.link,
            "created_at": shown.created_at.isoformat(), "read": shown.read}


@bp.get("/notifications")
def notifications():
    """My notifications, newest first (``?unread=1`` for the unread ones, ``?lang=en`` in English)."""
    english = request.args.get("lang") == "en"
    with unit_of_work(write=False) as session:
        rows = messages.inbox(session, g.user, english, unread_only=request.args.get("unread") == "1")
        return jsonify({"unread": messages.unread_count(session, g.user), "notifications": [_view(r) for r in rows]})


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int):
    """Mark one of my notifications read."""
    with unit_of_work() as session:
        messages.mark_read(session, platform(), g.user, notification_id)
        return jsonify({"unread": messages.unread_count(session, g.user)})

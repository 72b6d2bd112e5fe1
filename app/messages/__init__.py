"""The message centre (/messages/): every user's notifications, unread first, and delivery addresses."""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from ..auth import guard_blueprint
from ..errors import InvalidInput
from ..i18n import is_english
from ..services.notify import messages
from ..web import platform, unit_of_work

bp = Blueprint("messages", __name__, url_prefix="/messages")
guard_blueprint(bp)


@bp.get("/")
def index():
    """My notifications, newest first, with my delivery addresses."""
    unread_only = request.args.get("unread") == "1"
    with unit_of_work(write=False) as session:
        rows = messages.inbox(session, g.user, is_english(), unread_only=unread_only)
        contact = messages.contact_of(session, g.user)
        return render_template("messages/index.html", rows=rows, contact=contact, unread_only=unread_only,
                               errors={}, channels=_channels())


def _channels() -> dict[str, bool]:
    settings = platform().settings
    return {"email": bool(settings.SMTP_HOST), "sms": bool(settings.SMS_GATEWAY)}


@bp.get("/<int:notification_id>")
def open_one(notification_id: int):
    """Open a notification: it is marked read and leads to its task or project."""
    with unit_of_work() as session:
        link = messages.one(session, g.user, notification_id).link
        messages.mark_read(session, platform(), g.user, notification_id)
    return redirect(link)


@bp.post("/read")
def read_all():
    """Mark every notification of mine read."""
    with unit_of_work() as session:
        count = messages.mark_read(session, platform(), g.user)
    flash(_t("已全部标为已读（%(n)s 条）", n=count), "success")
    return redirect(url_for("messages.index"))


@bp.post("/contact")
def contact():
    """Save where my notifications are delivered besides this page."""
    form = request.form
    try:
        with unit_of_work() as session:
            messages.set_contact(session, g.user, form.get("email", ""), form.get("phone", ""),
                                 form.get("email_on") == "on", form.get("sms_on") == "on")
    except InvalidInput as exc:
        with unit_of_work(write=False) as session:
            rows = messages.inbox(session, g.user, is_english())
            typed = messages.contact_of(session, g.user)
            typed.email, typed.phone = form.get("email", ""), form.get("phone", "")
            return render_template("messages/index.html", rows=rows, contact=typed, unread_only=False,
                                   errors=exc.fields or {}, channels=_channels()), 422
    flash(_t("通知方式已保存"), "success")
    return redirect(url_for("messages.index"))


def _t(text: str, **kw) -> str:
    from flask_babel import gettext
    return gettext(text, **kw)


def unread_count() -> int:
    """The logged-in user's unread notifications (for the top bar)."""
    user = g.get("user")
    if user is None:
        return 0
    with unit_of_work(write=False) as session:
        return messages.unread_count(session, user)

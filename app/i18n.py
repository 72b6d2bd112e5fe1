"""Language: zh-CN by default, English on request (kept in the session); dates as people expect."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Flask, redirect, request, session
from flask_babel import Babel, get_locale
from flask_babel import format_decimal as _format_decimal

LANGUAGES = {"zh": "中文", "en": "English"}
CHINA = dt.timezone(dt.timedelta(hours=8))
bp = Blueprint("i18n", __name__)


def select_locale() -> str:
    """The session's language, else zh."""
    lang = session.get("lang")
    return lang if lang in LANGUAGES else "zh"


def is_english() -> bool:
    """Whether the page is being rendered in English."""
    return str(get_locale() or "zh").startswith("en")


def local_date(value) -> str:
    """A date as 2026年3月2日 (Chinese) or 2 Mar 2026 (English), in China time."""
    if value in (None, ""):
        return ""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        value = value.astimezone(CHINA).date() if value.tzinfo else value.date()
    return value.strftime("%-d %b %Y") if is_english() else f"{value.year}年{value.month}月{value.day}日"


def local_datetime(value) -> str:
    """A moment as 2026年3月2日 14:05 in China time."""
    if not isinstance(value, dt.datetime):
        return local_date(value)
    moment = value.astimezone(CHINA) if value.tzinfo else value
    return f"{local_date(moment)} {moment:%H:%M}"


def number(value, digits: int = 2) -> str:
    """A number with grouping as the reader's locale writes it."""
    if value in (None, ""):
        return ""
    try:
        return _format_decimal(value, format=f"#,##0.{'#' * digits}" if digits else "#,##0")
    except (TypeError, ValueError):
        return str(value)


def filesize(value) -> str:
    """A file size in B, KB or MB."""
    size = int(value or 0)
    if size < 1024:
        return f"{size} B"
    return f"{size / 1024:.1f} KB" if size < 1024 * 1024 else f"{size / 1024 / 1024:.1f} MB"


@bp.get("/lang/<code>")
def switch(code: str):
    """Remember the chosen language and go back."""
    if code in LANGUAGES:
        session["lang"] = code
    from .services.security.redirects import safe_next
    return redirect(safe_next(request.args.get("next")) or "/")


def init_app(app: Flask) -> None:
    """Wire Flask-Babel and the template helpers."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh")
    # Two catalogues in one directory: ``messages`` (the people's pages) and ``workbench`` (the
    # analysts' and officers' desks), so that each area's strings live in a file of their own.
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations;translations")
    app.config.setdefault("BABEL_DOMAIN", "messages;workbench")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(cn_date=local_date, cn_datetime=local_datetime, number=number, filesize=filesize)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, is_english=is_english)
    app.register_blueprint(bp)

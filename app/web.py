"""Helpers shared by blueprints: the platform, units of work, error mapping."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, jsonify, request
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

from engine.errors import EngineError, FormValidationError, ProcessDefinitionError, SpecNotFound, TaskStateError

from . import idempotency
from .db import WRITE, transaction
from .errors import AppError, InvalidInput
from .platform import Platform
from .storage import StorageError

log = logging.getLogger(__name__)

ENGINE_STATUS = {FormValidationError: 422, ProcessDefinitionError: 422, TaskStateError: 409,
                 SpecNotFound: 404}


def platform() -> Platform:
    """The platform of the running application."""
    return current_app.extensions["platform"]


@contextmanager
def unit_of_work(write: bool = True) -> Iterator[Session]:
    """One transaction for one request: committed on success, rolled back on error.

    The first write transaction of an API request with an ``Idempotency-Key`` claims the key
    and is held open until the answer is recorded beside the change (``app.idempotency``);
    a later unit in that request runs inside it, under a savepoint.
    """
    held = idempotency.held()
    if held is not None:
        with held.begin_nested():
            yield held
        return
    if not (write and idempotency.claims()):
        with transaction(platform().sessions, write=write) as session:
            yield session
        return
    session = platform().sessions()
    try:
        session.connection(execution_options=WRITE)
        idempotency.claim(session, platform())
        yield session
        session.flush()
    except BaseException:
        session.rollback()
        session.close()
        idempotency.unclaim()
        raise
    idempotency.hold(session)


def error_body(status: int, code: str, message: str, fields: dict | None = None,
               problems: list | None = None, framework: bool = False, extra: dict | None = None):
    """The JSON error envelope ``{error: {code, message, fields?, problems?}}``."""
    if wants_html():
        return error_page(status, message, fields, framework)
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    if problems:
        error["problems"] = problems
    if extra:  # e.g. the names of the missing materials of a refused application
        error.update(extra)
    return jsonify({"error": error}), status


def wants_html() -> bool:
    """Pages get HTML error pages; the API (and anything outside a request) gets JSON."""
    from flask import has_request_context
    return has_request_context() and not request.path.startswith("/api/")


ERROR_TITLES = {400: "请求有误", 401: "请先登录", 403: "无权访问", 404: "页面不存在", 405: "请求方式不允许",
                409: "操作冲突", 413: "文件过大", 422: "填写有误", 429: "操作过于频繁", 503: "系统繁忙"}


#: What a page says for the framework's own errors (an unknown address, a wrong method), in the reader's language.
HTTP_MESSAGES = {404: "您要找的页面不存在，可能地址有误或已被移走", 405: "该页面不接受这种请求方式",
                 400: "请求无法处理，请检查后重试", 413: "上传的内容超过大小限制"}


def error_page(status: int, message: str, fields: dict | None = None, framework: bool = False):
    """An HTML error page in the site's frame (falls back to plain text if rendering fails)."""
    from flask import render_template
    from flask_babel import gettext
    title = ERROR_TITLES.get(status, "系统错误" if status >= 500 else "请求有误")
    if status >= 500:
        message = gettext("系统发生错误，已记录日志，请稍后再试")
    detail = None
    if framework and status in HTTP_MESSAGES:
        message = gettext(HTTP_MESSAGES[status])
    elif status == 404:  # the service's own words stay, below the reader's language
        message, detail = gettext(HTTP_MESSAGES[404]), message
    try:
        return render_template("error.html", status=status, title=title, message=message, detail=detail,
                               fields=fields or {}), status
    except Exception:  # noqa: BLE001 - an error page must never fail
        log.exception("error page could not be rendered")
        return f"{status} {title}", status, {"Content-Type": "text/plain; charset=utf-8"}


def json_body() -> dict:
    """The request's JSON object, or a 400 naming the problem."""
    if not request.is_json:
        raise AppError("the body must be a JSON object (Content-Type: application/json)")
    try:
        data = current_app.json.loads(request.get_data(cache=True))
    except ValueError as exc:  # malformed, too deep, a lone surrogate (app.hardening)
        raise AppError(f"the body is not acceptable JSON: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise AppError("the body must be a JSON object (Content-Type: application/json)")
    return data


ID_MAX = 2 ** 31 - 1  # ids are 32-bit integer columns on PostgreSQL


def whole_number(raw, minimum: int = 0, maximum: int = ID_MAX) -> int | None:
    """``raw`` (text or a JSON number) as an int within bounds, else None (``"²"`` and ``True`` are not numbers)."""
    if isinstance(raw, str):
        raw = raw.strip()
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
            return None
        raw = int(raw)
    if not isinstance(raw, int) or isinstance(raw, bool) or not minimum <= raw <= maximum:
        return None
    return raw


def int_arg(name: str, default: int | None = None, minimum: int = 0, maximum: int = ID_MAX) -> int | None:
    """A whole-number query parameter (``default`` when absent); 422 naming it when it is not one."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    value = whole_number(raw, minimum, maximum)
    if value is None:
        raise InvalidInput(f"{name} must be a whole number from {minimum} to {maximum}", {name: "invalid"})
    return value


def canonical_url(endpoint: str, **values) -> str:
    """An absolute link on the configured canonical address (``HN_BASE_URL``), never the request's Host."""
    from flask import url_for
    return platform().settings.BASE_URL.rstrip("/") + url_for(endpoint, **values)


def register_errors(app: Flask) -> None:
    """Map domain errors to statuses; JSON everywhere."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        response = error_body(exc.status, exc.code, exc.message, exc.fields, extra=getattr(exc, "extra", None))
        retry_after = getattr(exc, "retry_after", None)
        return (*response, {"Retry-After": str(retry_after)}) if retry_after else response

    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError):
        status = next((s for cls, s in ENGINE_STATUS.items() if isinstance(exc, cls)), 422)
        fields = getattr(exc, "fields", None)
        if isinstance(exc, ProcessDefinitionError):
            fields = {str(i): p for i, p in enumerate(exc.problems)} or None
        return error_body(status, exc.code, exc.message, fields, getattr(exc, "problems", None))

    @app.errorhandler(idempotency.Replay)
    def _replay(exc: idempotency.Replay):
        return exc.response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_body(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name,
                          framework=True)

    @app.errorhandler(OperationalError)
    def _db_busy(exc: OperationalError):
        log.warning("database busy: %s", exc)
        return error_body(503, "busy", "the database is busy; try again")

    @app.errorhandler(StorageError)
    def _storage_down(exc: StorageError):
        log.warning("file storage unavailable: %s", exc)
        return error_body(503, "storage_unavailable", "the file store is not reachable; try again")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_body(500, "internal", "an unexpected error occurred; it has been logged")

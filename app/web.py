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

from .db import transaction
from .errors import AppError
from .platform import Platform

log = logging.getLogger(__name__)

ENGINE_STATUS = {FormValidationError: 422, ProcessDefinitionError: 422, TaskStateError: 409,
                 SpecNotFound: 404}


def platform() -> Platform:
    """The platform of the running application."""
    return current_app.extensions["platform"]


@contextmanager
def unit_of_work(write: bool = True) -> Iterator[Session]:
    """One transaction for one request: committed on success, rolled back on error."""
    with transaction(platform().sessions, write=write) as session:
        yield session


def error_body(status: int, code: str, message: str, fields: dict | None = None):
    """The JSON error envelope ``{error: {code, message, fields?}}``."""
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    return jsonify({"error": error}), status


def json_body() -> dict:
    """The request's JSON object, or a 400 naming the problem."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise AppError("the body must be a JSON object (Content-Type: application/json)")
    return data


def register_errors(app: Flask) -> None:
    """Map domain errors to statuses; JSON everywhere."""

    @app.errorhandler(AppError)
    def _app_error(exc: AppError):
        return error_body(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError):
        status = next((s for cls, s in ENGINE_STATUS.items() if isinstance(exc, cls)), 422)
        fields = getattr(exc, "fields", None)
        if isinstance(exc, ProcessDefinitionError):
            fields = {str(i): p for i, p in enumerate(exc.problems)} or None
        return error_body(status, exc.code, exc.message, fields)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return error_body(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)

    @app.errorhandler(OperationalError)
    def _db_busy(exc: OperationalError):
        log.warning("database busy: %s", exc)
        return error_body(503, "busy", "the database is busy; try again")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unexpected error")
        return error_body(500, "internal", "an unexpected error occurred; it has been logged")

"""Application errors; the web layer maps each to a status code and JSON body."""

from __future__ import annotations


class AppError(Exception):
    """Base class of domain errors raised by services."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields


class NotFound(AppError):
    """The thing asked for does not exist (or is not visible to the caller)."""

    status = 404
    code = "not_found"


class Forbidden(AppError):
    """The caller may not do this."""

    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    """No valid credentials."""

    status = 401
    code = "unauthorized"


class Conflict(AppError):
    """The action collides with the present state (already done, held by someone else)."""

    status = 409
    code = "conflict"


class InvalidInput(AppError):
    """The request's data is malformed or breaks a rule; ``fields`` names the culprits."""

    status = 422
    code = "invalid"

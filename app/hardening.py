"""Web-side protections (issue 9): response headers, safe integer paths, bounded JSON, proxies.

- Every response carries a Content-Security-Policy that allows only this site's own scripts
  (the bundled bpmn-js and dmn-js included), ``frame-ancestors 'none'``, ``nosniff`` and a
  Referrer-Policy; a route that sets its own framing rules (the officers' in-page material
  preview, ``frame-ancestors 'self'``) keeps them.  Pages and API answers for a logged-in
  caller are ``Cache-Control: no-store``.
- ``<int:...>`` path parameters stop at 2**31-1 (ids are 32-bit columns on PostgreSQL): a larger
  number is a 404, not a database error.
- JSON bodies are refused (400) when nested deeper than ``MAX_JSON_DEPTH``, when a string holds a
  lone surrogate (``"\\ud800"``: no database can store it) or a NUL character.
- Form fields and query parameters holding NUL are refused the same way.
- ``HN_TRUSTED_PROXIES=N`` trusts N reverse proxies' ``X-Forwarded-For``/``-Proto`` (``ProxyFix``);
  without it the client address is the socket's, so nobody can pick their own address for the
  login throttle by sending a header.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask, g, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.routing import IntegerConverter

from .errors import AppError

MAX_JSON_DEPTH = 64
ID_MAX = 2 ** 31 - 1  # ids are 32-bit integer columns on PostgreSQL

CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; "
       "font-src 'self' data:; connect-src 'self'; frame-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


class IdConverter(IntegerConverter):
    """``<int:...>`` limited to what an id column holds (32 bits on PostgreSQL)."""

    def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=ID_MAX if max is None else max,
                         signed=signed)


def json_problem(value: Any) -> str | None:
    """Why a decoded JSON document is refused (too deep, lone surrogate, NUL), or None."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels"
        if isinstance(item, str):
            problem = text_problem(item)
            if problem:
                return problem
        elif isinstance(item, dict):
            for key, child in item.items():
                problem = text_problem(key)
                if problem:
                    return problem
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
    return None


def text_problem(text: str) -> str | None:
    """Why a string cannot be stored (a lone surrogate or a NUL), or None."""
    if "\x00" in text:
        return "text must not contain NUL characters"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text must be valid Unicode (a lone surrogate such as \\ud800 was sent)"
    return None


class SafeJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents that would break a service or the database."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Decode, then refuse what ``json_problem`` names (as ``ValueError``: Flask answers 400)."""
        try:
            value = json.loads(s, **kwargs)
        except RecursionError:
            raise ValueError(f"the JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
        problem = json_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class RefusedInput(AppError):
    """A request parameter that no service could store."""

    status = 400
    code = "bad_request"


def _refuse_nul() -> None:
    for source in (request.args, request.form) if request.method != "GET" else (request.args,):
        for key, value in source.items(multi=True):
            key, value = str(key or ""), str(value or "")
            if "\x00" in key or "\x00" in value:
                raise RefusedInput(f"parameter {key[:40]!r} must not contain NUL characters", {key[:40]: "invalid"})


def _headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if g.get("user") is not None and request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response


def install_converters(app: Flask) -> None:
    """Before any route is added: bounded ``int`` paths and the careful JSON provider."""
    app.url_map.converters["int"] = IdConverter
    app.json_provider_class = SafeJSONProvider
    app.json = SafeJSONProvider(app)


def init_app(app: Flask, settings) -> None:
    """Headers on every response, NUL refused in parameters, ProxyFix when proxies are trusted."""
    app.before_request(_refuse_nul)
    app.after_request(_headers)
    if settings.TRUSTED_PROXIES > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)

"""The JSON API, version 1: bearer tokens, JSON errors, one guard for the blueprint."""

from __future__ import annotations

import hashlib
import time

from flask import Blueprint, g, request

from .. import idempotency
from ..errors import Forbidden, Unauthorized
from ..services.cluster import epochs
from ..services.people import accounts
from ..web import platform, unit_of_work

bp = Blueprint("api", __name__, url_prefix="/api/v1")
PUBLIC_ENDPOINTS = {"api.issue_token", "api.openapi", "api.public_project", "api.catalog_items",
                    "api.catalog_item", "api.register_enterprise", "api.intermediaries"}


@bp.before_request
def _authenticate():
    """Every endpoint but the public ones needs ``Authorization: Bearer <token>``."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (POST /api/v1/auth/token)")
    g.user, g.token_id = _user_for(token.strip())
    if request.method == "POST":  # a retry with the same Idempotency-Key gets the first answer
        return idempotency.begin(platform(), g.user)
    return None


@bp.after_request
def _record_answer(response):
    """Keep the answer of a request that claimed an ``Idempotency-Key``."""
    return idempotency.finish(platform(), response)


@bp.teardown_request
def _release_claim(_exc):
    """A claiming transaction left open by an error before the answer rolls back."""
    idempotency.release()


#: Verified tokens are remembered per process: one query less per request.  The cache is
#: dropped when the ``tokens`` cache epoch moves (a revocation or password change on any node
#: bumps it), read at most every HN_CACHE_CHECK_SECONDS; an entry also expires after
#: TOKEN_CACHE_SECONDS, so a token that merely expired is refused within that time.
TOKEN_CACHE_SECONDS = 10.0
_TOKENS: dict[str, tuple[float, object]] = {}
_TOKENS_EPOCH: list[int | None] = [None]


def _user_for(token: str):
    key = hashlib.sha256(token.encode()).hexdigest()
    settings = platform().settings
    epoch = epochs.current_of(platform().sessions, epochs.TOKENS, settings.CACHE_CHECK_SECONDS)
    if epoch != _TOKENS_EPOCH[0]:
        _TOKENS.clear()
        _TOKENS_EPOCH[0] = epoch
    cached = _TOKENS.get(key)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with unit_of_work(write=False) as session:
        row = accounts.token_for(session, token, platform().now())
        found = (row.user, row.id)
    if len(_TOKENS) > 10000:
        _TOKENS.clear()
    _TOKENS[key] = (time.monotonic() + TOKEN_CACHE_SECONDS, found)
    return found


def forget_cached_tokens() -> None:
    """Drop this process's verified-token cache (after a revocation: it takes effect at once here)."""
    _TOKENS.clear()


def require_role(*roles: str) -> None:
    """403 unless the caller has one of ``roles``."""
    if g.user.role not in roles:
        raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")


from . import (  # noqa: E402,F401  (routes register on bp)
    auth,
    codes,  # 三级工程码: sub-projects, units and sections
    exports,  # event logs (XES, OCEL 2.0) and the SPGL exchange
    forecast,  # forecasts of a candidate version (issue 14)
    notifications,  # the message centre
    openapi,  # the OpenAPI document
    platforms,  # 项目策划生成 and 中介服务
    portal,  # the portal's and workbench's twins
    projects,
    reference,
    routing,  # 双集中 routing administration
    seal,  # signed result documents, public verification (issue 10)
    tasks,
    timelimits,  # calendar, item clocks, supervision
    versions,  # flow versions and migrations
)

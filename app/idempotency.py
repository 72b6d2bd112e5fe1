"""Safe retries: ``Idempotency-Key`` on the API's state-changing POSTs.

A client that lost the answer to a POST (a dropped connection, a web server
killed mid-request) sends it again with the same ``Idempotency-Key`` header and
gets the first answer back; the request is never applied twice.

How: the key row is inserted as the first statement of the request's first
write transaction (``app.web.unit_of_work``), so it commits together with the
change or not at all.  Right after, the answer is recorded in the row.

- a retry after the answer was recorded gets it back (``Idempotent-Replayed: true``);
- a retry while the first request is still running waits for it on the key row's
  lock (PostgreSQL: the unique index; SQLite: the write lock), then gets its answer;
- a retry of a request that failed (4xx, 5xx, killed before the commit) runs
  again: nothing of the first attempt was kept;
- the same key with another method, path or body is refused (422);
- keys are per user and expire after ``IDEMPOTENCY_TTL_HOURS`` (24 h); the
  scheduler deletes expired rows.

In the rare case that the first request committed but its process died before
recording the answer, a retry is told so (409 ``already_applied``): the change
was applied once, and the client reads the resource to see it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass

from flask import Response, g, has_request_context, request
from sqlalchemy import delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .db import transaction
from .errors import AppError, InvalidInput
from .models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
MAX_KEY = 200
#: How long a retry waits for the answer of a concurrent first request that has committed.
ANSWER_WAIT_SECONDS = 3.0


class AlreadyApplied(AppError):
    """The key's first request was applied but its answer was not recorded."""

    status = 409
    code = "already_applied"


@dataclass
class Pending:
    """The key of the request being served, until its row is claimed and answered."""

    user_id: int
    key: str
    fingerprint: str
    claimed: bool = False
    replay: Response | None = None


class Replay(Exception):  # noqa: N818 - not an error: the answer is the first request's
    """Raised inside the transaction when the key was already taken; carries the first answer."""

    def __init__(self, response: Response):
        super().__init__("replayed")
        self.response = response


def fingerprint() -> str:
    """What makes two requests "the same": method, path and query, and the body's content.

    A multipart body is read by its fields and files' digests, not its bytes, so a
    client that encodes the same upload with another boundary still matches.
    """
    digest = hashlib.sha256(f"{request.method} {request.full_path}\0".encode())
    if request.mimetype == "multipart/form-data":
        for name, value in sorted(request.form.items(multi=True)):
            digest.update(f"{name}={value}\0".encode())
        for name, upload in sorted(request.files.items(multi=True), key=lambda item: item[0]):
            content = upload.stream.read()
            upload.stream.seek(0)
            digest.update(f"{name}:{upload.filename}:".encode() + hashlib.sha256(content).digest())
    else:
        digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def _ttl(platform) -> dt.timedelta:
    return dt.timedelta(hours=platform.settings.IDEMPOTENCY_TTL_HOURS)


def _stored(row: IdempotencyKey) -> Response:
    response = Response(row.body or b"", status=row.status_code, content_type=row.content_type)
    response.headers[REPLAYED] = "true"
    return response


def begin(platform, user) -> Response | None:
    """Before a POST with the header: the stored answer of an earlier request with the key, or None.

    Sets ``g.idempotency`` so that the request's first write transaction claims the key.
    """
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise InvalidInput(f"{HEADER} must be 1 to {MAX_KEY} printable characters", {HEADER: "invalid"})
    pending = Pending(user.id, key, fingerprint())
    with transaction(platform.sessions, write=False) as session:
        row = session.get(IdempotencyKey, (user.id, key))
        if row is not None and row.created_at <= platform.now() - _ttl(platform):
            row = None  # expired: the claim replaces it
    if row is not None:
        if row.fingerprint != pending.fingerprint:
            raise InvalidInput(f"this {HEADER} was used for another request", {HEADER: "reused"})
        if row.status_code is None:
            raise AlreadyApplied(f"the first request with this {HEADER} was applied; read the resource to see it")
        return _stored(row)
    g.idempotency = pending
    return None


def claim(session: Session, platform) -> None:
    """In the request's first write transaction: take the key, or raise ``Replay`` with the first answer."""
    if not has_request_context():
        return
    pending: Pending | None = g.get("idempotency")
    if pending is None or pending.claimed:
        return
    pending.claimed = True
    now = platform.now()
    session.execute(delete(IdempotencyKey).where(  # an expired row gives way
        IdempotencyKey.user_id == pending.user_id, IdempotencyKey.key == pending.key,
        IdempotencyKey.created_at <= now - _ttl(platform)))
    values = {"user_id": pending.user_id, "key": pending.key, "fingerprint": pending.fingerprint,
              "created_at": now}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    inserted = session.execute(dialect.insert(IdempotencyKey).values(**values).on_conflict_do_nothing()
                               .returning(IdempotencyKey.user_id)).first()
    if inserted is None:  # a concurrent request with the key committed first
        raise Replay(_first_answer(platform, pending))


def _first_answer(platform, pending: Pending) -> Response:
    deadline = time.monotonic() + ANSWER_WAIT_SECONDS
    while True:
        with transaction(platform.sessions, write=False) as session:
            row = session.get(IdempotencyKey, (pending.user_id, pending.key))
        if row is not None and row.fingerprint != pending.fingerprint:
            return _error(422, "invalid", f"this {HEADER} was used for another request")
        if row is not None and row.status_code is not None:
            return _stored(row)
        if time.monotonic() > deadline:
            return _error(409, AlreadyApplied.code,
                          f"the first request with this {HEADER} was applied; read the resource to see it")
        time.sleep(0.05)


def _error(status: int, code: str, message: str) -> Response:
    from flask import jsonify
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def finish(platform, response: Response) -> Response:
    """After the request: record the answer in the claimed key's row (if its transaction committed)."""
    pending: Pending | None = g.get("idempotency")
    if pending is None or not pending.claimed or response.headers.get(REPLAYED) or response.status_code >= 500:
        return response
    if response.direct_passthrough or response.is_streamed:
        return response
    with transaction(platform.sessions) as session:
        session.execute(update(IdempotencyKey).where(
            IdempotencyKey.user_id == pending.user_id, IdempotencyKey.key == pending.key,
            IdempotencyKey.status_code.is_(None)).values(
            status_code=response.status_code, content_type=response.content_type, body=response.get_data()))
    return response


def purge(session: Session, platform) -> int:
    """Delete the keys older than the TTL; return how many."""
    result = session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.created_at <= platform.now() - _ttl(platform)))
    return result.rowcount or 0

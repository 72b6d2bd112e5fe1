"""Safe retries: ``Idempotency-Key`` on the API's state-changing POSTs.

A client that lost the answer to a POST (a dropped connection, a web server
killed mid-request) sends it again with the same ``Idempotency-Key`` header and
gets the first answer back; the request is never applied twice.

How: the key row is inserted as the first statement of the request's first
write transaction (``app.web.unit_of_work``).  That transaction is not committed
at the end of its block: it is held until the view has returned its answer, the
answer is written into the key row, and then both commit together
(``finish``).  So the change and its recorded answer are kept together or not at
all; a later unit of work in the same request runs inside the held transaction,
under a savepoint (what it rolls back is gone, the rest commits with the answer).

- a retry after the first request committed gets its answer (``Idempotent-Replayed: true``);
- a retry while the first request is still running waits for it on the key row's
  lock (PostgreSQL: the unique index; SQLite: the write lock), then gets its answer;
- a retry of a request that failed (4xx raised inside the claiming unit, any 5xx,
  killed before the commit) runs again: nothing of the first attempt was kept;
- the same key with another method, path or body is refused (422);
- keys are per user and expire after ``IDEMPOTENCY_TTL_HOURS`` (24 h); the
  scheduler deletes expired rows.

A streamed answer (a file download) is not recorded: its change commits alone,
and a retry is told that the first request was applied (409 ``already_applied``);
the client reads the resource to see it.
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


def claims() -> bool:
    """Whether the request's next write transaction is to claim a key."""
    if not has_request_context():
        return False
    pending: Pending | None = g.get("idempotency")
    return pending is not None and not pending.claimed


def unclaim() -> None:
    """The claiming transaction rolled back: the key is free again for the request's next one."""
    pending: Pending | None = g.get("idempotency") if has_request_context() else None
    if pending is not None:
        pending.claimed = False


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


def hold(session: Session) -> None:
    """Keep the claiming transaction open until ``finish`` has written the answer beside the change."""
    g.idempotency_session = session


def held() -> Session | None:
    """The request's held claiming transaction, if any (later units of work run inside it)."""
    return g.get("idempotency_session") if has_request_context() else None


def finish(platform, response: Response) -> Response:
    """After the view: write the answer into the claimed key's row, then commit it with the change.

    A 5xx answer rolls the held transaction back (a retry runs again); a failing commit
    turns the answer into a 5xx with nothing kept.
    """
    session: Session | None = g.pop("idempotency_session", None)
    if session is None:
        return response
    pending: Pending = g.idempotency
    try:
        if response.status_code >= 500:
            session.rollback()
            return response
        if not (response.direct_passthrough or response.is_streamed):
            session.execute(update(IdempotencyKey).where(
                IdempotencyKey.user_id == pending.user_id, IdempotencyKey.key == pending.key).values(
                status_code=response.status_code, content_type=response.content_type, body=response.get_data()))
        session.commit()
    except Exception:
        session.rollback()
        raise
    finally:
        session.close()
    return response


def release() -> None:
    """At the request's end: a claiming transaction nobody finished (an error before the answer) rolls back."""
    session: Session | None = g.pop("idempotency_session", None) if has_request_context() else None
    if session is not None:
        session.rollback()
        session.close()


def purge(session: Session, platform) -> int:
    """Delete the keys older than the TTL; return how many."""
    result = session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.created_at <= platform.now() - _ttl(platform)))
    return result.rowcount or 0

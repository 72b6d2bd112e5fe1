"""The audit trail (全程留痕), tamper-evident: every event joins one hash chain.

Each row keeps ``seq`` (gap-free), ``prev_hash`` (its predecessor's hash, unique: two rows can
never follow the same one), ``canonical`` (the exact JSON text that was hashed, never
re-serialised) and ``row_hash = SHA-256(prev_hash ‖ canonical)``.  A writer takes the chain head
(``audit_head``, one row) with ``SELECT … FOR UPDATE`` inside the business transaction; on SQLite
every writing transaction already holds the database's write lock (``BEGIN IMMEDIATE``).  So
concurrent writers queue on the head and the chain stays linear.  The head is taken at the
commit, as the transaction's last lock (``_chain``), so it is held for milliseconds and cannot
close a deadlock with the rows the transaction locked before.  A transaction's events wait in
the session until then and are inserted already chained, in one statement: a row is written
once and never updated.  On PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE of
``audit_event`` (migrations ``0008_seal_trail``, ``0023_audit_insert_only``).

``verify_chain`` streams the rows by ``seq`` and names the first break; a signed checkpoint
(``trail.checkpoints``) catches a recomputed chain or a cut tail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from ...models import AuditEvent, AuditHead, ProcessInstance, User

GENESIS = "0" * 64
HEAD_ID = 1


def _at(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, at: dt.datetime, actor_id: int | None, project_code: str | None,
              engineering_code: str | None, instance_id: int | None, kind: str, detail: str) -> str:
    """The text a row's hash covers: its columns as compact, key-sorted JSON (``detail`` as stored)."""
    return json.dumps({"seq": seq, "at": _at(at), "actor": actor_id, "project": project_code,
                       "code": engineering_code, "instance": instance_id, "kind": kind, "detail": detail},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def chain_hash(prev_hash: str, canonical_text: str) -> str:
    """SHA-256 over the predecessor's hash and the row's canonical bytes, hex."""
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_text.encode("utf-8")).hexdigest()


_UNCHAINED = "audit_unchained"


def record(session: Session, platform, kind: str, actor: User | None = None,
           instance: ProcessInstance | None = None, project_code: str | None = None,
           detail: dict[str, Any] | None = None, engineering_code: str | None = None) -> AuditEvent:
    """Append one audit event in the caller's transaction; it is stored, chained, when that commits.

    ``engineering_code`` is the level 1-3 code (三级工程码) the event concerns; by
    default the code the instance's application was filed under.  Until the commit the event
    waits in the session (``pending``: what the transaction's own readers consult); an event
    recorded inside a savepoint that rolls back is dropped with it.  The event returned is never
    added to the session: its row is written by one Core statement at the commit, so the object
    gets its ``seq`` and hashes there but no ``id``.
    """
    if instance is not None and project_code is None:
        project_code = instance.project.code
    if instance is not None and engineering_code is None:
        engineering_code = instance.engineering_code
    event = AuditEvent(at=platform.now(), actor_id=actor.id if actor else None, project_code=project_code,
                       engineering_code=engineering_code or project_code,
                       instance_id=instance.id if instance else None, kind=kind,
                       detail=json.dumps(detail or {}, ensure_ascii=False, default=str))
    _waiting(session).append((event, _savepoints(session)))
    return event


def pending(session: Session) -> list[AuditEvent]:
    """The events this transaction recorded that are not stored yet (they are at its commit)."""
    return [event for event, _ in session.info.get(_UNCHAINED, ())]


def _waiting(session: Session) -> list:
    return session.info.setdefault(_UNCHAINED, [])


def _savepoints(session: Session) -> frozenset:
    """The savepoints open now (the event goes if any of them rolls back)."""
    nested, open_now = session.get_nested_transaction(), set()
    while nested is not None and nested.nested:
        open_now.add(nested)
        nested = nested.parent
    return frozenset(open_now)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction) -> None:
    waiting = session.info.get(_UNCHAINED)
    if waiting and previous_transaction.nested:
        waiting[:] = [(e, inside) for e, inside in waiting if previous_transaction not in inside]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_unstored(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: committed (stored) or rolled back
        session.info.pop(_UNCHAINED, None)


@sa_event.listens_for(Session, "before_commit")
def _chain(session: Session) -> None:
    """Give the transaction's events their places and store them: lock the head, hash, insert, move it.

    The head is the last lock a writing transaction takes and it is held only while the commit
    finishes, so writers queue on it briefly and never deadlock on it (every other lock is
    already theirs).  ``seq`` and ``prev_hash`` are unique: a fork cannot be stored even by a
    path that skipped the lock.
    """
    if session.in_nested_transaction():  # a savepoint's release: its events wait for the real commit
        return
    events = pending(session)
    session.info.pop(_UNCHAINED, None)
    if not events:
        return
    session.flush()  # the business rows first: their locks are taken before the head's
    stored = _append(session, [{name: getattr(e, name) for name in _COLUMNS} for e in events])
    for e, row in zip(events, stored, strict=True):
        e.seq, e.prev_hash, e.row_hash, e.canonical = row["seq"], row["prev_hash"], row["row_hash"], row["canonical"]


_COLUMNS = ("at", "actor_id", "project_code", "engineering_code", "instance_id", "kind", "detail")


def _append(session: Session, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lock the head, chain the rows (column dicts) after it, insert them and move the head past them.

    Core statements, not the unit of work: the rows are written once and never read back here.
    Returns the rows as stored (with ``seq``, ``prev_hash``, ``row_hash``, ``canonical``).
    """
    seq, prev = _locked_head_values(session)
    first, out = seq, []
    for row in rows:
        seq += 1
        body = canonical(seq, row["at"], row["actor_id"], row["project_code"], row["engineering_code"],
                         row["instance_id"], row["kind"], row["detail"])
        digest = chain_hash(prev, body)
        out.append({**row, "seq": seq, "prev_hash": prev, "row_hash": digest, "canonical": body})
        prev = digest
    session.execute(insert(AuditEvent.__table__), out)
    moved = session.execute(_MOVE_HEAD, {"first": first, "new_seq": seq, "new_hash": prev}).rowcount
    if moved != 1:  # the lock makes this impossible; a fork must never be stored
        raise RuntimeError("the audit head moved under its lock")
    return out


#: The head's statements, built once: every writing transaction runs them.
_LOCK_HEAD = select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == HEAD_ID).with_for_update()
_MOVE_HEAD = update(AuditHead.__table__).where(AuditHead.id == HEAD_ID, AuditHead.seq == bindparam("first")) \
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))


def _locked_head_values(session: Session) -> tuple[int, str]:
    """The chain head's ``(seq, hash)``, its row locked for this transaction (made if missing)."""
    row = session.execute(_LOCK_HEAD).one_or_none()
    if row is None:  # a database made without the migration's head row
        session.execute(insert(AuditHead.__table__).values(id=HEAD_ID, seq=0, hash=GENESIS))
        return 0, GENESIS
    return row.seq, row.hash


def append_many(session: Session, rows: Iterable[dict[str, Any]]) -> int:
    """Bulk path: insert events given as column dicts (``at``, ``kind``, ``detail`` as JSON text, …), chained.

    For generators and imports that write thousands of rows with SQLAlchemy Core: the rows take
    their places after the head, in the order given, under the head's lock, exactly as
    ``record``'s events would (``canonical``, ``chain_hash``); the head moves past them.  Events
    ``record``-ed in the same transaction take their places at the commit, after these.  Returns
    how many were written.
    """
    given = [{name: row.get(name) for name in _COLUMNS} for row in rows]
    for row in given:
        row["detail"] = row["detail"] if row["detail"] is not None else "{}"
    return len(_append(session, given)) if given else 0


# -- verification -----------------------------------------------------------------------------------

@dataclass
class ChainReport:
    """What ``verify_chain`` found: ``ok``, the rows checked, the head hash, or the first break."""

    ok: bool
    rows: int
    head: str
    problem: str = ""
    seq: int | None = None

    def line(self) -> str:
        """``OK <n> rows head=<hash>`` or ``BROKEN seq=<n>: <what>``."""
        if self.ok:
            return f"OK {self.rows} rows head={self.head}"
        where = f"seq={self.seq}: " if self.seq is not None else ""
        return f"BROKEN {where}{self.problem}"


_FIELDS = "seq, id, {at}, actor_id, project_code, engineering_code, instance_id, kind, detail, prev_hash, " \
          "row_hash, canonical"
#: ``at`` as the canonical text has it, formatted by the database (no per-row Python date handling)
_AT = {"postgresql": "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
       "sqlite": "at"}  # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's storage format)


def verify_chain(session: Session, checkpoint: dict | None = None, batch: int = 5000) -> ChainReport:
    """Stream the chain by ``seq``, recompute every hash and name the first break.

    A row is *changed* when its columns differ from its canonical text or its hash does not
    recompute; *missing* when ``seq`` jumps; *reordered* when it was hashed under another place
    or does not follow its predecessor.  With a (verified) ``checkpoint`` ``{seq, head}`` the row at
    ``seq`` must carry that hash and the chain must reach it (a cut tail is named).  The head row
    must match the last row.

    Rows are read with plain SQL through a streaming cursor, without ORM objects or type
    processing; the canonical text is parsed once (C JSON decoder) and compared field by field.
    """
    table = AuditEvent.__table__
    c = table.c
    loose = session.execute(select(c.id).where(c.seq.is_(None)).order_by(c.id).limit(1)).scalar()
    if loose is not None:
        return ChainReport(False, 0, "", f"row id={loose} is outside the chain (no seq)")
    dialect = session.get_bind().dialect.name
    sqlite = dialect == "sqlite"
    sql = f"SELECT {_FIELDS.format(at=_AT.get(dialect, 'at'))} FROM {table.name} ORDER BY seq"
    rows = session.connection().execution_options(stream_results=True, yield_per=batch).exec_driver_sql(sql)
    expected, prev, count = 1, GENESIS, 0
    want = (checkpoint or {}).get("seq")
    sha256, scan = hashlib.sha256, json.JSONDecoder().scan_once  # the C scanner, without json.loads' wrappers
    try:
        for seq, row_id, at, actor_id, project_code, engineering_code, instance_id, kind, detail, \
                prev_hash, row_hash, body in (row for chunk in rows.partitions(batch) for row in chunk):
            if seq != expected:
                if seq < expected:
                    return ChainReport(False, count, prev, f"seq repeats after {expected - 1} (row id={row_id})", seq)
                missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
                return ChainReport(False, count, prev, f"gap {expected - 1}→{seq}: row seq={missing} missing", seq)
            if sqlite and at is not None:
                at = f"{at[:10]}T{at[11:26]}Z"
            elif not isinstance(at, str) and at is not None:  # another database: format it here
                at = _at(at)
            try:
                hashed, end = scan(body, 0)
                same = end == len(body) and len(hashed) == 8 and (
                    hashed["seq"], hashed["at"], hashed["actor"], hashed["project"], hashed["code"],
                    hashed["instance"], hashed["kind"], hashed["detail"]) == (
                    seq, at, actor_id, project_code, engineering_code, instance_id, kind, detail)
            except (TypeError, ValueError, KeyError, StopIteration):
                hashed, same = {}, False
            if not same:
                hashed_as = hashed.get("seq") if isinstance(hashed, dict) else None
                if hashed_as is not None and hashed_as != seq:
                    return ChainReport(False, count, prev, f"row reordered: it was hashed as seq={hashed_as} "
                                                           f"(row id={row_id})", seq)
                return ChainReport(False, count, prev, f"row changed: its columns differ from the hashed text "
                                                       f"(row id={row_id})", seq)
            if prev_hash != prev:
                return ChainReport(False, count, prev, f"prev_hash mismatch: the row does not follow seq={seq - 1} "
                                                       f"(row id={row_id}; reordered or a row before it changed)", seq)
            digest = sha256(prev.encode("ascii") + body.encode("utf-8")).hexdigest()
            if digest != row_hash:
                return ChainReport(False, count, prev, f"row_hash mismatch (row id={row_id})", seq)
            if want is not None and seq == want and digest != checkpoint.get("head"):
                return ChainReport(False, count, prev, f"row_hash differs from the signed checkpoint "
                                                       f"(seq={want} head={checkpoint.get('head')})", seq)
            prev, expected, count = digest, expected + 1, count + 1
    finally:
        rows.close()
    if want is not None and count < want:
        return ChainReport(False, count, prev, f"chain cut: it ends at seq={count} but the signed checkpoint "
                                               f"has seq={want} head={checkpoint.get('head')}; rows "
                                               f"{count + 1}..{want} are missing", count + 1)
    head = session.get(AuditHead, HEAD_ID, populate_existing=True)
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(False, count, prev, f"chain head says seq={head.seq} head={head.hash} but the rows end "
                                               f"at seq={count}: rows cut or the head was changed", count + 1)
    return ChainReport(True, count, prev)


def head_state(session: Session) -> tuple[int, str]:
    """The chain head as the rows say it: (last seq, its hash)."""
    c = AuditEvent.__table__.c
    last = session.execute(select(c.seq, c.row_hash).order_by(c.seq.desc()).limit(1)).first()
    return (last[0], last[1]) if last else (0, GENESIS)


def verified_marks(session: Session, events: Iterable[AuditEvent]) -> dict[int, bool]:
    """Per event id: its hash recomputes over its canonical text and links to its predecessor.

    A cheap local check for pages (one query for the predecessors); the whole chain is
    ``verify_chain``'s (``flask audit verify``).
    """
    events = [e for e in events if e.seq is not None]
    if not events:
        return {}
    c = AuditEvent.__table__.c
    before = dict(session.execute(select(c.seq, c.row_hash).where(c.seq.in_([e.seq - 1 for e in events]))).all())
    out = {}
    for e in events:
        prev = GENESIS if e.seq == 1 else before.get(e.seq - 1)
        out[e.id] = (prev is not None and e.prev_hash == prev and e.canonical is not None
                     and e.canonical == canonical(e.seq, e.at, e.actor_id, e.project_code, e.engineering_code,
                                                  e.instance_id, e.kind, e.detail)
                     and chain_hash(prev, e.canonical) == e.row_hash)
    return out


def count_rows(session: Session) -> int:
    """How many audit rows there are."""
    return session.scalar(select(func.count()).select_from(AuditEvent)) or 0

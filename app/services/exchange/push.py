"""Push the SPGL rows to the front database: validate, load in order, invalidate, read back.

One run (the scheduler's job, or ``flask exchange-push``):

1. **read back** SJSCZT/SBYY of the rows pushed and not yet checked: 3 accepted,
   2 rejected with the national side's reason;
2. **derive** every row again and compare its content digest with the one in
   the front database: an unchanged row writes nothing;
3. a new or changed row is **checked** first (required fields, code tables,
   rules); a failing one is recorded with its reasons and not pushed;
4. a row whose parent is not accepted **waits**;
5. otherwise the superseded front row (if any) is **invalidated** (SJYXBS 0 and
   the reason in SJWXYY, never deleted) and the row is inserted with a new
   serial number (LSH), SCSJ now and SJSCZT 0.

The book (``exchange_row``/``exchange_push``) is flushed before the front
database commits, so a failing flush writes nothing there.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from ...models import ExchangeOverride, ExchangePush, ExchangeRow
from . import frontdb
from .codes import CodeBook
from .extract import Derived, Extractor
from .tables import BY_NAME, ORDER
from .values import BEIJING, BadValue, as_json, coerce, content_hash, problems, to_front

STATE_OF_STATUS = {0: "pushed", 2: "rejected", 3: "accepted"}
CORRECTED = "数据已更正，以新流水号重新上传"
WITHDRAWN = "本地数据已撤销"
READ_BATCH = 500


@dataclass
class RunReport:
    """What one run did, per table."""

    pushed: Counter = field(default_factory=Counter)
    invalidated: Counter = field(default_factory=Counter)
    accepted: Counter = field(default_factory=Counter)
    rejected: Counter = field(default_factory=Counter)
    invalid: Counter = field(default_factory=Counter)
    waiting: Counter = field(default_factory=Counter)
    skipped: bool = False  # another run holds the lock

    def writes(self) -> int:
        """Rows written to the front database (inserted or invalidated)."""
        return sum(self.pushed.values()) + sum(self.invalidated.values())

    def summary(self) -> dict[str, int]:
        """Totals of each kind."""
        return {name: sum(getattr(self, name).values())
                for name in ("pushed", "invalidated", "accepted", "rejected", "invalid", "waiting")}


def read_back(session: Session, front: frontdb.FrontDatabase, now: dt.datetime, report: RunReport) -> set[str]:
    """Take SJSCZT/SBYY of every pushed, unchecked row; return the projects of the rows answered."""
    waiting = list(session.scalars(select(ExchangeRow).where(ExchangeRow.state == "pushed")))
    pushes: dict[str, tuple[int, str]] = {}
    touched: set[str] = set()
    by_table: dict[str, list[ExchangeRow]] = {}
    for row in waiting:
        by_table.setdefault(row.table_name, []).append(row)
    with front.begin() as conn:
        for name, rows in by_table.items():
            table = frontdb.table(name)
            for start in range(0, len(rows), READ_BATCH):
                chunk = {r.lsh: r for r in rows[start:start + READ_BATCH]}
                answers = conn.execute(select(table.c.LSH, table.c.SJSCZT, table.c.SBYY)
                                       .where(table.c.LSH.in_(list(chunk))))
                for lsh, status, reason in answers:
                    if status not in (2, 3):
                        continue
                    row = chunk[lsh]
                    row.state, row.reason, row.checked_at = STATE_OF_STATUS[status], reason or "", now
                    pushes[lsh] = (status, reason or "")
                    if row.project_code:
                        touched.add(row.project_code)
                    (report.accepted if status == 3 else report.rejected)[name] += 1
    answered = list(pushes)
    for start in range(0, len(answered), READ_BATCH):
        for push in session.scalars(select(ExchangePush).where(
                ExchangePush.lsh.in_(answered[start:start + READ_BATCH]))):
            push.status, push.reason = pushes[push.lsh]
    return touched


def serial_number(division: str, now: dt.datetime, table_code: str, sequence: int) -> str:
    """LSH: division, yyyyMMddHHmmss (Beijing time), the table's 2-digit code, a 10-digit sequence."""
    return f"{division[:6]:0<6}{now.astimezone(BEIJING):%Y%m%d%H%M%S}{table_code}{sequence % 10**10:010d}"


def _overrides(session: Session) -> dict[tuple[str, str], dict[str, str]]:
    found: dict[tuple[str, str], dict[str, str]] = {}
    for o in session.scalars(select(ExchangeOverride)):
        found.setdefault((o.table_name, o.local_key), {})[o.field] = o.value
    return found


def _prepare(derived: Derived, overrides: dict[str, str]) -> tuple[dict, list[str]]:
    """The row's fields coerced to their kinds, the administrator's corrections applied."""
    spec, values, bad = BY_NAME[derived.table], {}, []
    for f in spec.fields:
        raw = overrides.get(f.name, derived.fields.get(f.name))
        try:
            values[f.name] = coerce(f, raw)
        except BadValue as exc:
            values[f.name] = None
            bad.append(str(exc))
    return values, bad


def _book(session: Session, projects: set[str] | None) -> dict[tuple[str, str], ExchangeRow]:
    """The exchange rows of the run: all of them, or the flow rows and those of the projects named."""
    if projects is None:
        rows = session.scalars(select(ExchangeRow))
    else:
        codes = sorted(projects)
        rows = list(session.scalars(select(ExchangeRow).where(ExchangeRow.project_code.is_(None))))
        for start in range(0, len(codes), READ_BATCH):
            rows += session.scalars(select(ExchangeRow).where(
                ExchangeRow.project_code.in_(codes[start:start + READ_BATCH])))
    return {(r.table_name, r.local_key): r for r in rows}


def run(session: Session, platform, front: frontdb.FrontDatabase, projects: set[str] | None = None) -> RunReport:
    """One exchange run; the caller commits the platform's transaction.

    ``projects`` limits it to those projects (and every project with a row that was
    waiting or has just been answered); None derives everything and also
    invalidates the front rows whose local data is gone.
    """
    now = platform.now()
    report = RunReport()
    if not _run_lock(session):
        report.skipped = True
        return report
    answered = read_back(session, front, now, report)
    if projects is not None:
        waiting = session.scalars(select(ExchangeRow.project_code).where(
            ExchangeRow.state == "waiting", ExchangeRow.project_code.is_not(None)).distinct())
        projects = set(projects) | answered | set(waiting)
    codes = CodeBook(session)
    overrides = _overrides(session)
    book = _book(session, projects)
    seen: set[tuple[str, str]] = set()
    sequence = session.scalar(select(func.count()).select_from(ExchangePush)) or 0
    pushes = {p.lsh: p for p in session.scalars(select(ExchangePush).join(
        ExchangeRow, ExchangeRow.lsh == ExchangePush.lsh))}  # the front rows valid now
    inserts: list[tuple[str, dict]] = []
    invalidations: list[tuple[str, str, str]] = []
    for derived in Extractor(session, platform, codes).rows(projects):
        key = (derived.table, derived.key)
        seen.add(key)
        fields, bad = _prepare(derived, overrides.get(key, {}))
        digest = content_hash(derived.division, fields)
        row = book.get(key)
        if row is None:
            row = ExchangeRow(table_name=derived.table, local_key=derived.key, state="new", reason="", pushes=0,
                              content_hash=digest)
            session.add(row)
            book[key] = row
        spec = BY_NAME[derived.table]
        row.project_code, row.parent_table, row.parent_key = derived.project_code, spec.parent, derived.parent_key
        if row.content_hash != digest or row.state == "new":
            row.content_hash, row.content, row.updated_at = digest, as_json(fields), now
        found = bad + problems(spec, fields, codes)
        if found:
            _set(row, "invalid", "；".join(found), now, report.invalid)
            continue
        if row.pushed_hash == digest:  # exactly this content is the valid front row
            if row.state in ("invalid", "waiting"):
                last = pushes.get(row.lsh)
                row.state, row.reason = STATE_OF_STATUS.get(last.status if last else 0, "pushed"), \
                    (last.reason if last else "")
            continue
        parent = book.get((spec.parent, derived.parent_key)) if spec.parent else None
        if spec.parent and (parent is None or parent.state != "accepted"):
            _set(row, "waiting", f"等待上级数据 {spec.parent} {derived.parent_key} 被接收", now, report.waiting)
            continue
        if row.lsh:
            invalidations.append((derived.table, row.lsh, CORRECTED))
            _mark_invalidated(pushes, row.lsh, CORRECTED, now)
            report.invalidated[derived.table] += 1
        sequence += 1
        push = ExchangePush(row=row, lsh=serial_number(derived.division, now, spec.code, sequence),
                            content_hash=digest, pushed_at=now, status=0, reason="", invalid_reason="")
        session.add(push)
        pushes[push.lsh] = push
        row.lsh, row.pushed_hash, row.pushes, row.pushed_at = push.lsh, digest, row.pushes + 1, now
        row.state, row.reason, row.checked_at = "pushed", "", None
        inserts.append((derived.table, {
            "LSH": push.lsh, "DFSJZJ": derived.key, "XZQHDM": derived.division[:12], "SJYXBS": 1, "SJWXYY": None,
            "SJSCZT": 0, "SBYY": None, "SCSJ": to_front(_TIME, now), "GXSJ": to_front(_TIME, now),
            **{f.name: to_front(f, fields[f.name]) for f in spec.fields}}))
        report.pushed[derived.table] += 1
    for key, row in book.items() if projects is None else ():
        if key not in seen and row.lsh and row.state != "withdrawn":
            invalidations.append((row.table_name, row.lsh, WITHDRAWN))
            _mark_invalidated(pushes, row.lsh, WITHDRAWN, now)
            _set(row, "withdrawn", WITHDRAWN, now, report.invalidated)
    session.flush()
    if inserts or invalidations:
        _write_front(front, inserts, invalidations, now)
    return report


RUN_LOCK = 1849_0012


def _run_lock(session: Session) -> bool:
    """One run at a time: a transaction-scoped advisory lock on PostgreSQL (SQLite's write lock suffices)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    return bool(session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": RUN_LOCK}).scalar())


class _Time:
    kind = "time"


_TIME = _Time()


def _set(row: ExchangeRow, state: str, reason: str, now: dt.datetime, counter: Counter) -> None:
    if row.state != state or row.reason != reason:
        row.state, row.reason, row.updated_at = state, reason, now
    counter[row.table_name] += 1


def _mark_invalidated(pushes: dict[str, ExchangePush], lsh: str, reason: str, now: dt.datetime) -> None:
    push = pushes.get(lsh)
    if push is not None:
        push.invalidated_at, push.invalid_reason = now, reason


def _write_front(front: frontdb.FrontDatabase, inserts, invalidations, now: dt.datetime) -> None:
    """Invalidate superseded rows, then insert the new ones parent-first, in one front transaction."""
    stamp = to_front(_TIME, now)
    with front.begin() as conn:
        for name, lsh, reason in invalidations:
            table = frontdb.table(name)
            conn.execute(update(table).where(table.c.LSH == lsh).values(SJYXBS=0, SJWXYY=reason, GXSJ=stamp))
        grouped: dict[str, list[dict]] = {}
        for name, values in inserts:
            grouped.setdefault(name, []).append(values)
        for name in sorted(grouped, key=ORDER.__getitem__):
            conn.execute(frontdb.table(name).insert(), grouped[name])

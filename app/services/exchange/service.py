"""What the job, the commands and the administrator's page do with the exchange."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ...errors import InvalidInput, NotFound
from ...models import AuditEvent, ExchangeOverride, ExchangeRow, User
from ..trail import audit
from .frontdb import FrontDatabase
from .tables import BY_NAME, TABLES
from .values import BadValue, coerce

_FRONTS: dict[str, FrontDatabase] = {}
STATES = ("waiting", "invalid", "pushed", "accepted", "rejected", "withdrawn")


def front_database(url: str) -> FrontDatabase:
    """The front database at ``url``, one engine per process."""
    if url not in _FRONTS:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        _FRONTS[url] = FrontDatabase(url)
    return _FRONTS[url]


def settle(session_scope, platform, front: FrontDatabase, say=print, rounds: int = 10) -> list:
    """Push and let the simulated national side answer until a run writes nothing (demo and tests)."""
    from . import push, simulator
    reports = []
    for number in range(1, rounds + 1):
        with session_scope() as session:
            report = push.run(session, platform, front)
        answered = simulator.check(front, platform.now())
        reports.append(report)
        totals = report.summary()
        say(f"  exchange round {number}: pushed {totals['pushed']}, invalidated {totals['invalidated']}, "
            f"accepted {totals['accepted']}, rejected {totals['rejected']}, waiting {totals['waiting']}, "
            f"invalid {totals['invalid']}; national side answered {sum(answered.values())}")
        if report.writes() == 0 and not answered:
            break
    return reports


def overview(session: Session) -> dict:
    """Counts per table and state, the queue (waiting, unchecked), and the failures with reasons."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for name, state, n in session.execute(select(ExchangeRow.table_name, ExchangeRow.state, func.count())
                                          .group_by(ExchangeRow.table_name, ExchangeRow.state)):
        counts[name][state] = n
    def rows(*states, limit=200):
        return list(session.scalars(select(ExchangeRow).where(ExchangeRow.state.in_(states))
                                    .order_by(ExchangeRow.updated_at.desc(), ExchangeRow.id).limit(limit)))
    return {"tables": [{"name": t.name, "label": t.label, "counts": {s: counts[t.name][s] for s in STATES}}
                       for t in TABLES],
            "queue": rows("waiting", "pushed"), "failures": rows("rejected", "invalid"),
            "totals": {s: sum(c[s] for c in counts.values()) for s in STATES}}


def row_view(row: ExchangeRow) -> dict:
    """An exchange row as the page and the API show it."""
    spec = BY_NAME.get(row.table_name)
    return {"id": row.id, "table": row.table_name, "table_label": spec.label if spec else row.table_name,
            "key": row.local_key, "project_code": row.project_code, "state": row.state, "reason": row.reason,
            "lsh": row.lsh, "pushes": row.pushes, "pushed_at": row.pushed_at.isoformat() if row.pushed_at else None,
            "parent": f"{row.parent_table} {row.parent_key}" if row.parent_table else None,
            "content": json.loads(row.content or "{}")}


def set_override(session: Session, platform, actor: User, row_id: int, field: str,
                 value: str) -> ExchangeOverride | None:
    """Correct one field of one row (an empty value removes the correction); audited."""
    row = session.get(ExchangeRow, row_id)
    if row is None:
        raise NotFound(f"no exchange row {row_id}")
    spec = BY_NAME[row.table_name]
    f = spec.field(field)
    if f is None:
        raise InvalidInput("unknown field", fields={"field": f"one of {', '.join(x.name for x in spec.fields)}"})
    value = (value or "").strip()
    existing = session.scalar(select(ExchangeOverride).where(
        ExchangeOverride.table_name == row.table_name, ExchangeOverride.local_key == row.local_key,
        ExchangeOverride.field == field))
    if not value:
        if existing is not None:
            session.execute(delete(ExchangeOverride).where(ExchangeOverride.id == existing.id))
        override = None
    else:
        try:
            coerce(f, value)
        except BadValue as exc:
            raise InvalidInput(str(exc), fields={"value": str(exc)}) from exc
        if len(value) > 500:
            raise InvalidInput("the value is too long", fields={"value": "at most 500 characters"})
        override = existing or ExchangeOverride(table_name=row.table_name, local_key=row.local_key, field=field)
        override.value, override.set_by, override.set_at = value, actor.id, platform.now()
        session.add(override)
    audit.record(session, platform, "exchange_corrected", actor=actor, project_code=row.project_code,
                 detail={"table": row.table_name, "key": row.local_key, "field": field, "value": value})
    return override


def record_run(session: Session, platform, actor: User, report) -> None:
    """Audit a run an administrator started by hand."""
    audit.record(session, platform, "exchange_run", actor=actor, detail=report.summary())


#: Audit events re-read on each incremental run: a transaction that took an id before the
#: last run but committed after it is still seen.
OVERLAP = 500
FULL_RUN_KINDS = {"exchange_code_saved", "deployment_activated", "process_deployed"}


def changes_since(session: Session, after_id: int | None) -> tuple[set[str] | None, int]:
    """The projects touched since audit event ``after_id`` (None: derive everything) and the new mark."""
    last = session.scalar(select(func.max(AuditEvent.id))) or 0
    if after_id is None:
        return None, last
    codes: set[str] = set()
    for code, kind in session.execute(select(AuditEvent.project_code, AuditEvent.kind).where(
            AuditEvent.id > max(after_id - OVERLAP, 0), AuditEvent.id <= last)):
        if kind in FULL_RUN_KINDS:
            return None, last
        if code:
            codes.add(code)
    return codes, last

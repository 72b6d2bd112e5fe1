"""The tamper-evident audit trail: one linear chain, every kind of tampering named by its row."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select, text

from app import create_app
from app.db import transaction
from app.models import AuditEvent
from app.services.trail import audit, checkpoints


def _record(platform, n: int, kind: str = "test_event") -> None:
    with transaction(platform.sessions) as session:
        for i in range(n):
            audit.record(session, platform, kind, project_code="P-CHAIN", detail={"n": i, "名": "审批"})


def _tamper(platform, sql: str, **params) -> None:
    """What an intruder with the database's superuser rights could do (PostgreSQL's guard disabled)."""
    with transaction(platform.sessions) as session:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SET LOCAL session_replication_role = replica"))
        session.execute(text(sql), params)


def _verify(platform, checkpoint=None) -> audit.ChainReport:
    with transaction(platform.sessions, write=False) as session:
        return audit.verify_chain(session, checkpoint)


def _cli(platform, *args):
    runner = create_app(platform.settings, platform=platform).test_cli_runner()
    return runner.invoke(args=["audit", "verify", *args])


def test_an_intact_chain_verifies_and_the_cli_prints_ok(platform):
    _record(platform, 5)
    _record(platform, 3, "other")
    report = _verify(platform)
    assert report.ok and report.rows == 8
    with transaction(platform.sessions, write=False) as session:
        rows = session.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.row_hash)
                               .order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 9))
    assert rows[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.row_hash for a, b in zip(rows, rows[1:], strict=False))
    result = _cli(platform)
    assert result.exit_code == 0 and result.output.strip() == f"OK 8 rows head={rows[-1].row_hash}"


def test_a_changed_row_is_named(platform):
    _record(platform, 6)
    _tamper(platform, "UPDATE audit_event SET detail = :d WHERE seq = 4", d='{"n": 99}')
    report = _verify(platform)
    assert not report.ok and report.seq == 4 and "changed" in report.problem
    result = _cli(platform)
    assert result.exit_code == 1 and result.output.startswith("BROKEN seq=4: row changed")


def test_a_recomputed_row_is_caught_by_its_successor(platform):
    """Changing a row and its own hash consistently still breaks the link from the next row."""
    _record(platform, 5)
    with transaction(platform.sessions, write=False) as session:
        row = session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
        body = json.loads(row.canonical)
        body["kind"] = "forged"
        forged = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        digest = audit.chain_hash(row.prev_hash, forged)
    _tamper(platform, "UPDATE audit_event SET kind = 'forged', canonical = :c, row_hash = :h WHERE seq = 2",
            c=forged, h=digest)
    report = _verify(platform)
    assert not report.ok and report.seq == 3 and "prev_hash mismatch" in report.problem


def test_a_deleted_row_is_named_as_missing(platform):
    _record(platform, 6)
    _tamper(platform, "DELETE FROM audit_event WHERE seq = 3")
    report = _verify(platform)
    assert not report.ok and report.seq == 4 and "seq=3 missing" in report.problem


def test_reordered_rows_are_named(platform):
    _record(platform, 6)
    _tamper(platform, "UPDATE audit_event SET seq = -1 WHERE seq = 2")
    _tamper(platform, "UPDATE audit_event SET seq = 2 WHERE seq = 5")
    _tamper(platform, "UPDATE audit_event SET seq = 5 WHERE seq = -1")
    report = _verify(platform)
    assert not report.ok and report.seq == 2 and "reordered" in report.problem and "seq=5" in report.problem


def test_a_cut_tail_is_caught_by_the_head_and_by_a_signed_checkpoint(platform, tmp_path):
    _record(platform, 7)
    with transaction(platform.sessions, write=False) as session:
        made = checkpoints.make(session, platform)
    path = checkpoints.write(platform, made)
    assert made["seq"] == 7
    assert _cli(platform, "--checkpoint", str(path)).exit_code == 0
    _tamper(platform, "DELETE FROM audit_event WHERE seq > 5")
    assert "rows cut" in _verify(platform).problem  # the head row still says 7
    with transaction(platform.sessions, write=False) as session:
        h5 = session.scalar(select(AuditEvent.row_hash).where(AuditEvent.seq == 5))
    _tamper(platform, "UPDATE audit_head SET seq = 5, hash = :h", h=h5)  # the intruder moves the head back
    assert _verify(platform).ok  # without the checkpoint a cut with a moved head looks whole
    result = _cli(platform, "--checkpoint", str(path))
    assert result.exit_code == 1
    assert result.output.startswith("BROKEN seq=6: chain cut") and "rows 6..7 are missing" in result.output


def test_a_forged_checkpoint_is_refused(platform, tmp_path):
    _record(platform, 2)
    with transaction(platform.sessions, write=False) as session:
        made = checkpoints.make(session, platform)
    made["seq"] = 1
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(made))
    result = _cli(platform, "--checkpoint", str(forged))
    assert result.exit_code == 1 and "signature does not verify" in result.output


def test_postgres_refuses_update_and_delete(platform):
    _record(platform, 2)
    with transaction(platform.sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the append-only trigger is PostgreSQL's")
    for sql in ("UPDATE audit_event SET kind = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event"):
        with pytest.raises(Exception, match="append-only"):
            with transaction(platform.sessions) as session:
                session.execute(text(sql))
    assert _verify(platform).ok


def test_events_are_inserted_once_already_chained_and_never_updated(platform):
    from sqlalchemy import event
    statements = []

    def seen(conn, cursor, statement, *rest):
        if "audit_event" in statement:
            statements.append(statement.split()[0].upper())
    engine = platform.sessions.kw["bind"]
    event.listen(engine, "before_cursor_execute", seen)
    try:
        with transaction(platform.sessions) as session:
            for i in range(3):
                audit.record(session, platform, "test_event", project_code="P-ONCE", detail={"n": i})
            waiting = audit.pending(session)
            assert [json.loads(e.detail)["n"] for e in waiting] == [0, 1, 2]  # the transaction's readers see them
            session.flush()
            assert statements == []  # nothing is written before the commit
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert set(statements) == {"INSERT"}  # inserted with their places, never updated
    if platform.settings.DATABASE_URL.startswith("postgresql"):
        assert len(statements) == 1  # the three in one statement (insertmanyvalues)
    assert _verify(platform).ok and _verify(platform).rows == 3


def test_an_event_of_a_rolled_back_savepoint_takes_no_place(platform):
    with transaction(platform.sessions) as session:
        audit.record(session, platform, "kept", project_code="P-SP", detail={"n": 1})
        try:
            with session.begin_nested():
                audit.record(session, platform, "dropped", project_code="P-SP", detail={"n": 2})
                with session.begin_nested():
                    audit.record(session, platform, "dropped", project_code="P-SP", detail={"n": 3})
                raise RuntimeError("refused")
        except RuntimeError:
            pass
        with session.begin_nested():
            audit.record(session, platform, "kept", project_code="P-SP", detail={"n": 4})
        assert [e.kind for e in audit.pending(session)] == ["kept", "kept"]
    with pytest.raises(RuntimeError):
        with transaction(platform.sessions) as session:
            audit.record(session, platform, "dropped", project_code="P-SP", detail={"n": 5})
            raise RuntimeError("the whole transaction rolls back")
    with transaction(platform.sessions) as session:
        assert audit.pending(session) == []  # nothing carried into the next transaction
    with transaction(platform.sessions, write=False) as session:
        kept = session.execute(select(AuditEvent.kind, AuditEvent.detail).order_by(AuditEvent.seq)).all()
    assert [(k, json.loads(d)["n"]) for k, d in kept] == [("kept", 1), ("kept", 4)]
    assert _verify(platform).ok


def test_postgres_refuses_even_placing_an_unchained_row(platform):
    with transaction(platform.sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("the append-only trigger is PostgreSQL's")
    _tamper(platform, "INSERT INTO audit_event (at, kind, detail) VALUES (now(), 'loose', '{}')")
    with pytest.raises(Exception, match="append-only"):  # the old at-commit UPDATE is refused too
        with transaction(platform.sessions) as session:
            session.execute(text("UPDATE audit_event SET seq = 1, prev_hash = :g, row_hash = :g, canonical = '{}' "
                                 "WHERE kind = 'loose'"), {"g": audit.GENESIS})


def test_eight_threads_leave_one_linear_chain(platform):
    with transaction(platform.sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("concurrent writers on PostgreSQL (SQLite serialises every writer)")
    errors = []
    barrier = threading.Barrier(8)

    def writer(no: int) -> None:
        try:
            barrier.wait()
            for round_ in range(10):
                with transaction(platform.sessions) as session:
                    audit.record(session, platform, "thread", project_code=f"T{no}", detail={"round": round_})
                    audit.record(session, platform, "thread", project_code=f"T{no}", detail={"round": round_, "b": 1})
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = _verify(platform)
    assert report.ok and report.rows == 160
    with transaction(platform.sessions, write=False) as session:
        seqs = session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq)).all()
    assert seqs == list(range(1, 161))


def test_the_project_history_marks_each_event_verified_or_not(platform):
    from app.models import Project, User
    from app.services.people import progress, projects
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        code = projects.create_project(session, platform, applicant, {
            "name": "留痕校验项目", "division": "460100", "investment_type": "ratification"}).code
        for i in range(3):
            audit.record(session, platform, "note", project_code=code, detail={"i": i})
    with transaction(platform.sessions, write=False) as session:
        events = progress.history(session, session.scalar(select(Project).where(Project.code == code)))
    assert len(events) == 4 and all(e["verified"] for e in events)
    target = events[1]["seq"]
    _tamper(platform, "UPDATE audit_event SET detail = '{\"i\": 9}' WHERE seq = :s", s=target)
    with transaction(platform.sessions, write=False) as session:
        events = progress.history(session, session.scalar(select(Project).where(Project.code == code)))
    assert [e["seq"] for e in events if not e["verified"]] == [target]


def test_the_head_is_taken_at_commit_so_writers_locking_rows_never_deadlock_on_it(platform):
    """T1 records, then waits for a row T2 holds while T2 records too: both commit, one chain."""
    from app.models import Unit
    with transaction(platform.sessions) as session:
        if session.get_bind().dialect.name != "postgresql":
            pytest.skip("row locks between concurrent writers: PostgreSQL")
        unit_id = session.scalar(select(Unit.id).order_by(Unit.id).limit(1))
    t2_holds, t2_recorded, errors = threading.Event(), threading.Event(), []

    def second() -> None:
        try:
            with transaction(platform.sessions) as session:
                session.execute(select(Unit).where(Unit.id == unit_id).with_for_update())
                t2_holds.set()
                audit.record(session, platform, "second", project_code="T2")
                session.flush()
                t2_recorded.set()
                threading.Event().wait(0.5)  # T1 is now waiting for the unit row
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    with transaction(platform.sessions) as session:
        audit.record(session, platform, "first", project_code="T1")
        session.flush()
        worker = threading.Thread(target=second)
        worker.start()
        assert t2_holds.wait(10) and t2_recorded.wait(10)
        session.execute(select(Unit).where(Unit.id == unit_id).with_for_update())  # waits for T2's commit
    worker.join(10)
    assert errors == []
    report = _verify(platform)
    assert report.ok and report.rows == 2


def test_the_bulk_path_chains_its_rows_beside_recorded_events(platform):
    import datetime as dt
    at = dt.datetime(2026, 3, 2, 8, 30, tzinfo=dt.UTC)
    _record(platform, 2)
    with transaction(platform.sessions) as session:
        audit.record(session, platform, "before_bulk", project_code="P-CHAIN")
        written = audit.append_many(session, [
            {"at": at + dt.timedelta(seconds=i), "project_code": "P-BULK", "kind": "bulk_event",
             "detail": json.dumps({"n": i})} for i in range(5)])
    assert written == 5
    report = _verify(platform)
    assert report.ok and report.rows == 8, report.line()
    with transaction(platform.sessions, write=False) as session:
        bulk = session.scalars(select(AuditEvent).where(AuditEvent.kind == "bulk_event").order_by(AuditEvent.seq)).all()
    assert [e.seq for e in bulk] == [3, 4, 5, 6, 7] and bulk[0].at == at  # the recorded one at the commit: 8

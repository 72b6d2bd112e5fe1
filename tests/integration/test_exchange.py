"""The national data exchange: a full loop with the national simulator, on SQLite and PostgreSQL.

The front database is a separate database (SQLite file) or PostgreSQL schema,
as ``HN_SPGL_URL`` names it in production.
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, func, select, text

from app.db import transaction
from app.models import ExchangeCode, ExchangeRow, ItemHandling, ItemHandlingEvent, Material, User
from app.services.exchange import codes, frontdb, push, service, simulator
from app.services.exchange import tables as t
from app.services.provisioning import demo
from tests.conftest import PG_URL


@pytest.fixture
def front(platform, tmp_path):
    """An empty front database beside the platform's: a SQLite file, or its own PostgreSQL schema."""
    if platform.sessions.kw["bind"].dialect.name == "sqlite":
        database = frontdb.FrontDatabase(f"sqlite:///{tmp_path / 'spgl.db'}")
        yield database
        database.dispose()
        return
    schema = f"hn_spgl_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    database = frontdb.FrontDatabase(f"{PG_URL}{separator}options=-csearch_path%3D{schema}")
    yield database
    database.dispose()
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    admin.dispose()


def _run(platform, front):
    with transaction(platform.sessions) as session:
        return push.run(session, platform, front)


def _loop(platform, front, rounds=8):
    """Push and let the national side answer until a run writes nothing; return the reports."""
    reports = []
    for _ in range(rounds):
        report = _run(platform, front)
        reports.append(report)
        simulator.check(front, platform.now())
        if report.writes() == 0:
            return reports
    raise AssertionError(f"the exchange did not settle in {rounds} rounds: {[r.summary() for r in reports]}")


def _front_rows(front, name, **where):
    table = frontdb.table(name)
    with front.begin() as conn:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return conn.execute(query).mappings().all()


def _front_total(front) -> int:
    with front.begin() as conn:
        return sum(conn.execute(select(func.count()).select_from(frontdb.table(s.name))).scalar_one()
                   for s in t.TABLES)


def _project(platform) -> str:
    with transaction(platform.sessions, write=False) as session:
        applicant_id = session.scalar(select(User.id).where(User.username == "applicant1"))
    scope = lambda: transaction(platform.sessions)  # noqa: E731
    return demo.run_all_stages(scope, platform, applicant_id, say=lambda _: None)


def _row(platform, table, key) -> ExchangeRow:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(ExchangeRow).where(ExchangeRow.table_name == table,
                                                        ExchangeRow.local_key == key))


def test_full_loop_accepts_every_approved_item_and_a_rerun_pushes_nothing(platform, front):
    code = _project(platform)
    first = _run(platform, front)
    # parents first: only the flow rows go out; everything else waits for an accepted parent
    assert first.pushed[t.FLOW.name] == 1 and set(first.pushed) == {t.FLOW.name}
    assert first.waiting[t.PROJECT.name] == 1 and first.waiting[t.ITEM.name] > 0
    assert _front_rows(front, t.PROJECT.name) == []
    simulator.check(front, platform.now())
    reports = [first] + _loop(platform, front)
    assert reports[-1].writes() == 0

    with transaction(platform.sessions, write=False) as session:
        approved = list(session.scalars(select(ItemHandling).where(ItemHandling.project_code == code,
                                                                    ItemHandling.state == 11)))
        events = session.scalar(select(func.count()).select_from(ItemHandlingEvent).join(
            ItemHandling, ItemHandling.id == ItemHandlingEvent.handling_id).where(ItemHandling.project_code == code))
        materials = session.scalar(select(func.count()).select_from(Material))
        states = dict(session.execute(select(ExchangeRow.state, func.count()).group_by(ExchangeRow.state)).all())
    assert approved, "the demo project has approved items"
    assert states == {"accepted": sum(states.values())}, states
    accepted_items = {r["SPSXBM"] for r in _front_rows(front, t.ITEM.name, SJSCZT=3, SJYXBS=1)}
    assert {h.item_code for h in approved} <= accepted_items
    documents = _front_rows(front, t.DOCUMENT.name, SJSCZT=3, SJYXBS=1)
    assert len(documents) == len(approved) and all(d["PFWH"] and d["PFWJBT"] for d in documents)
    assert len(_front_rows(front, t.DETAIL.name, SJSCZT=3, SJYXBS=1)) == events
    assert len(_front_rows(front, t.MATERIAL.name, SJSCZT=3)) == materials
    (project,) = _front_rows(front, t.PROJECT.name)
    assert project["XMDM"] == code and project["SJSCZT"] == 3 and project["XMSFWQBJ"] == 1
    assert len(project["LSH"]) == 6 + 14 + 2 + 10 and project["LSH"].startswith("460100")

    before = _front_total(front)
    again = _run(platform, front)
    assert again.writes() == 0 and again.summary()["accepted"] == 0
    assert _front_total(front) == before


def test_a_national_refusal_is_fixed_and_pushed_again_never_deleted(platform, front):
    code = _project(platform)
    _loop(platform, front)
    with transaction(platform.sessions) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        codes.save_code(session, platform, admin, "TDHQFS", {"code": "8", "name": "本地新增方式"})
        row = session.scalar(select(ExchangeRow).where(ExchangeRow.table_name == t.PROJECT.name))
        service.set_override(session, platform, admin, row.id, "TDHQFS", "8")
    try:
        changed = _run(platform, front)
        assert changed.pushed == {t.PROJECT.name: 1} and changed.invalidated == {t.PROJECT.name: 1}
        simulator.check(front, platform.now())
        _run(platform, front)  # reads the refusal back
        refused = _row(platform, t.PROJECT.name, code)
        assert refused.state == "rejected" and "TDHQFS" in refused.reason
        assert _run(platform, front).writes() == 0  # unchanged and refused: nothing is pushed again

        with transaction(platform.sessions) as session:
            admin = session.scalar(select(User).where(User.username == "admin"))
            service.set_override(session, platform, admin, refused.id, "TDHQFS", "2")
        fixed = _run(platform, front)
        assert fixed.pushed == {t.PROJECT.name: 1} and fixed.invalidated == {t.PROJECT.name: 1}
        simulator.check(front, platform.now())
        assert _run(platform, front).accepted == {t.PROJECT.name: 1}
        assert _row(platform, t.PROJECT.name, code).state == "accepted"
        rows = _front_rows(front, t.PROJECT.name)
        assert len(rows) == 3  # the first, the refused and the fixed row: none deleted
        valid = [r for r in rows if r["SJYXBS"] == 1]
        assert len(valid) == 1 and valid[0]["TDHQFS"] == 2 and valid[0]["SJSCZT"] == 3
        assert all(r["SJWXYY"] for r in rows if r["SJYXBS"] == 0)
        assert {r["SJSCZT"] for r in rows if r["SJYXBS"] == 0} == {2, 3}
    finally:
        with transaction(platform.sessions) as session:
            session.execute(ExchangeCode.__table__.delete().where(ExchangeCode.code_table == "TDHQFS",
                                                                  ExchangeCode.code == "8"))


def test_a_row_failing_the_local_checks_is_recorded_and_not_pushed(platform, front):
    code = _project(platform)
    _loop(platform, front)
    before = _front_total(front)
    with transaction(platform.sessions) as session:
        admin = session.scalar(select(User).where(User.username == "admin"))
        row = session.scalar(select(ExchangeRow).where(ExchangeRow.table_name == t.PROJECT.name))
        service.set_override(session, platform, admin, row.id, "NKGSJ", "2031-01-01")
        service.set_override(session, platform, admin, row.id, "NJCSJ", "2030-01-01")
    report = _run(platform, front)
    assert report.writes() == 0 and report.invalid == {t.PROJECT.name: 1}
    invalid = _row(platform, t.PROJECT.name, code)
    assert invalid.state == "invalid" and "NKGSJ" in invalid.reason
    assert _front_total(front) == before
    with transaction(platform.sessions, write=False) as session:
        failures = service.overview(session)["failures"]
    assert [f.local_key for f in failures] == [code]


def test_the_simulator_refuses_a_child_without_an_accepted_parent(platform, front):
    now = platform.now()
    row = {"LSH": "4600002026120200000005" + "0000000001", "DFSJZJ": "x", "XZQHDM": "460100", "SJYXBS": 1,
           "SJSCZT": 0, "SCSJ": now.replace(tzinfo=None), "XMDM": "2612-460100-04-01-000001", "GCDM": "G",
           "DWTYSHXYDM": "91460100MA5T00001L", "DWMC": "椰林建设", "DWLX": 1}
    with front.begin() as conn:
        conn.execute(frontdb.table(t.UNIT.name).insert().values(**row))
    assert simulator.check(front, now) == {"rejected": 1}
    (answer,) = _front_rows(front, t.UNIT.name)
    assert answer["SJSCZT"] == 2 and "上级数据" in answer["SBYY"]


def test_the_job_derives_only_touched_projects_between_full_runs(platform, front, monkeypatch):
    from app.scheduler import ExchangeWorker
    monkeypatch.setattr(service, "OVERLAP", 0)  # the first project's events are recent: do not re-read them
    from app.services.people import projects
    from app.stages import BY_KEY
    first = _project(platform)
    worker = ExchangeWorker(platform)
    worker.front = front
    for _ in range(8):
        totals = worker.tick()
        simulator.check(front, platform.now())
        if totals["pushed"] == 0 and totals["invalidated"] == 0:
            break
    assert _row(platform, t.PROJECT.name, first).state == "accepted"
    with transaction(platform.sessions) as session:  # a mark that only a derivation of this project clears
        row = session.scalar(select(ExchangeRow).where(ExchangeRow.local_key == first))
        row.content_hash = "untouched"
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        second = projects.create_project(session, platform, applicant, {
            "name": "椰林湾二期项目", "division": "460100", "investment_type": "filing", "flow_type": 3}).code
    demo.drive_stage(lambda: transaction(platform.sessions), platform, second, BY_KEY["initiation"],
                     applicant.id, say=lambda _: None)
    assert worker.tick()["pushed"] >= 1  # the new project's rows, its flow being accepted already
    assert _row(platform, t.PROJECT.name, second).state == "pushed"
    assert _row(platform, t.PROJECT.name, first).content_hash == "untouched"  # not derived: nothing touched it
    worker.last_full = platform.now() - worker.FULL_EVERY
    assert worker.tick()["pushed"] == 0  # the full run derives the first project again: unchanged, no write
    assert _row(platform, t.PROJECT.name, first).content_hash != "untouched"


def test_intermediary_services_reach_spgl_zjfwsxblxxb_and_follow_their_contract(platform, front):
    from app.models import IntermediaryFirm
    from app.services.intermediary import contracts
    from app.services.workflow import instances, tasks

    code = _project(platform)
    with transaction(platform.sessions) as session:
        firm_id = next(f.id for f in session.scalars(select(IntermediaryFirm))
                       if f.enterprise.name == "海南琼岛施工图审查中心有限公司")
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        service = contracts.commission(session, platform, applicant, code, {
            "service": "drawing_review", "method": "direct", "firm_id": firm_id, "committed_days": 8})
        service_id, instance_id = service.id, service.instance_id
    _loop(platform, front)
    (row,) = _front_rows(front, t.INTERMEDIARY.name)
    assert row["SJSCZT"] == 3 and row["SJYXBS"] == 1 and row["XMDM"] == code
    assert (row["ZJFWSXBM"], row["XZFS"], row["FWZT"], row["CNBJSX"]) == ("drawing_review", 1, 1, 8)
    assert row["ZJJGMC"] == "海南琼岛施工图审查中心有限公司" and row["CJSJ"] is None

    with transaction(platform.sessions) as session:  # the firm accepts: the row changes and goes again
        (accept,) = demo.open_tasks(session, instance_id)
        agency = session.scalar(select(User).where(User.username == "agency1"))
        assert tasks.get_task(session, accept.id).spec_name == "accept"
        instances.complete_task(session, platform, accept.id, {"outcome": "accept", "committed_days": 6}, agency)
    _loop(platform, front)
    rows = _front_rows(front, t.INTERMEDIARY.name)
    (valid,) = [r for r in rows if r["SJYXBS"] == 1]
    assert valid["FWZT"] == 2 and valid["CNBJSX"] == 6 and valid["CJSJ"] is not None and valid["SJSCZT"] == 3
    assert [r["SJYXBS"] for r in rows if r["LSH"] != valid["LSH"]] == [0]  # the first one invalidated, kept
    assert _row(platform, t.INTERMEDIARY.name, f"Z{service_id}").state == "accepted"

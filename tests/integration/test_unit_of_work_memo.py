"""Lookups a transaction remembers (``app.db.remembered``) and the batched material upload.

A completion used to ask the database the same questions several times (the open handling of
an item three times, the accounts a notification goes to once per task); the answers are now
kept for the transaction.  These tests pin what may be remembered and for how long: the memo
outlives the flushes of its transaction, never the transaction or a savepoint, and an answer
that the transaction itself changes (a handling finished) is asked again.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func, select

from app.db import MEMO, remembered, transaction
from app.errors import InvalidInput
from app.models import ItemHandling, Material, MaterialVersion, ProcessInstance, Project, User
from app.services.people import materials, projects
from app.services.timelimits import itemclock

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_the_memo_outlives_flushes_but_not_the_transaction(platform):
    calls = []
    with transaction(platform.sessions) as session:
        assert remembered(session, ("k",), lambda: calls.append(1) or "first") == "first"
        session.flush()  # every flush opens and closes an inner transaction: the memo stays
        assert remembered(session, ("k",), lambda: calls.append(1) or "second") == "first"
        with session.begin_nested():
            pass
        assert remembered(session, ("k",), lambda: calls.append(1) or "third") == "third"  # a savepoint ended
    assert len(calls) == 2
    with transaction(platform.sessions) as session:  # a new transaction asks again
        assert MEMO not in session.info
        assert remembered(session, ("k",), lambda: "fresh") == "fresh"
    with pytest.raises(RuntimeError):
        with transaction(platform.sessions) as session:
            remembered(session, ("k",), lambda: "doomed")
            raise RuntimeError
    with transaction(platform.sessions) as session:
        assert remembered(session, ("k",), lambda: "after rollback") == "after rollback"


def _project(session, platform) -> Project:
    applicant = session.scalar(select(User).where(User.username == "applicant1"))
    return projects.create_project(session, platform, applicant, {
        "name": "记忆测试项目", "division": "460100", "investment_type": "ratification"})


def _instance(session, project: Project) -> ProcessInstance:
    instance = ProcessInstance(project_id=project.id, stage_key="initiation", process_id="stage1",
                               spec_key="x", state="", serializer_version="1", status="running", application="{}",
                               started_at=project.created_at, engineering_code=project.code)
    session.add(instance)
    session.flush()
    return instance


def _handling(project: Project, instance: ProcessInstance, code: str, finished=None) -> ItemHandling:
    return ItemHandling(project_id=project.id, instance_id=instance.id, project_code=project.code,
                        item_code=code, engineering_code=project.code, state=8,
                        accepted_at=project.created_at, finished_at=finished)


@contextmanager
def _statements(session) -> Iterator[list[str]]:
    """The SQL the session's connection runs inside the block."""
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest):
        statements.append(statement)
    event.listen(session.get_bind(), "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", seen)


def test_an_open_handling_is_asked_once_and_again_when_it_finished(platform):
    with transaction(platform.sessions) as session:
        project = _project(session, platform)
        instance = _instance(session, project)
        older, newer = _handling(project, instance, "HN-T-01"), _handling(project, instance, "HN-T-01")
        session.add_all([older, newer])
        session.flush()
        with _statements(session) as statements:
            assert itemclock.open_handling(session, "HN-T-01", instance_id=instance.id) is newer
            assert itemclock.open_handling(session, "HN-T-01", instance_id=instance.id) is newer
            assert len([s for s in statements if "item_handling" in s]) == 1  # the second answer was remembered
            newer.finished_at = project.created_at  # finished in this transaction: asked again
            assert itemclock.open_handling(session, "HN-T-01", instance_id=instance.id) is older
            assert itemclock.open_handling(session, "HN-T-01", project_code=project.code) is older
            older.finished_at = project.created_at
            assert itemclock.open_handling(session, "HN-T-01", instance_id=instance.id) is None
            opened = _handling(project, instance, "HN-T-01")
            session.add(opened)
            itemclock.remember_open(session, opened)  # opened, not yet flushed: known in both scopes
            assert itemclock.open_handling(session, "HN-T-01", instance_id=instance.id) is opened
            assert itemclock.open_handling(session, "HN-T-01", project_code=project.code) is opened


def test_the_open_handlings_of_an_instance_are_read_once_and_kept_complete(platform):
    """One statement answers every item of the instance; an opening registered before it is kept."""
    with transaction(platform.sessions) as session:
        project = _project(session, platform)
        instance = _instance(session, project)
        first, second = _handling(project, instance, "HN-T-01"), _handling(project, instance, "HN-T-02")
        done = _handling(project, instance, "HN-T-02", project.created_at)
        session.add_all([first, done, second])
        session.flush()
    with transaction(platform.sessions) as session:
        with _statements(session) as statements:
            opened = _handling(project, instance, "HN-T-03")
            session.add(opened)
            itemclock.remember_open(session, opened)  # before the first question, not flushed
            with session.no_autoflush:  # as deadline(...) asks: the unflushed opening is not in the database
                found = [itemclock.open_handling(session, code, instance_id=instance.id)
                         for code in ("HN-T-01", "HN-T-02", "HN-T-03", "HN-T-04")]
            assert [h.id if h is not None and h is not opened else h for h in found] == \
                [first.id, second.id, opened, None]
            assert len([s for s in statements if "FROM item_handling" in s]) == 1
            stock = [session.scalars(select(ItemHandling).where(  # what one query per item answers
                ItemHandling.instance_id == instance.id, ItemHandling.item_code == code,
                ItemHandling.finished_at.is_(None)).order_by(ItemHandling.id.desc()).limit(1)).first()
                for code in ("HN-T-01", "HN-T-02", "HN-T-03", "HN-T-04")]
            assert stock == found


def test_the_open_handlings_of_a_project_are_read_once_and_kept_complete(platform):
    """The deadline(...) timers ask by project: one statement for every item, across the project's instances."""
    with transaction(platform.sessions) as session:
        project = _project(session, platform)
        one, other = _instance(session, project), _instance(session, project)
        older, newer = _handling(project, one, "HN-T-01"), _handling(project, other, "HN-T-01")
        session.add_all([older, _handling(project, one, "HN-T-02", project.created_at), newer])
        session.add(_handling(project, one, "HN-T-05"))  # finished below, in the asking transaction
        session.flush()
        codes = ("HN-T-01", "HN-T-02", "HN-T-03", "HN-T-04", "HN-T-05")
    with transaction(platform.sessions) as session:
        with _statements(session) as statements:
            with session.no_autoflush:
                assert itemclock.open_handling(session, "HN-T-04", project_code=project.code) is None
                opened = _handling(project, other, "HN-T-03")
                session.add(opened)
                itemclock.remember_open(session, opened)  # after the first question, not flushed
                finishing = itemclock.open_handling(session, "HN-T-05", project_code=project.code)
                finishing.finished_at = project.created_at  # finished here: passed over from now on
                found = [itemclock.open_handling(session, code, project_code=project.code) for code in codes]
            assert [h if h is None or h is opened else h.id for h in found] == [newer.id, None, opened, None, None]
            assert len([s for s in statements if "FROM item_handling" in s]) == 1
            session.flush()
            stock = [session.scalars(select(ItemHandling).where(  # what one query per item answers
                ItemHandling.project_code == project.code, ItemHandling.item_code == code,
                ItemHandling.finished_at.is_(None)).order_by(ItemHandling.id.desc()).limit(1)).first()
                for code in codes]
            assert stock == found


def test_several_materials_are_stored_at_once_with_their_versions(platform, tmp_path, monkeypatch):
    monkeypatch.setattr(platform.settings, "UPLOAD_DIR", str(tmp_path / "uploads"))
    with transaction(platform.sessions) as session:
        project = _project(session, platform)
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        first = materials.store_many(session, platform, applicant, project, [
            ("立项申请文件", "a.pdf", io.BytesIO(PDF)), ("用地预审材料", "b.pdf", io.BytesIO(PDF))])
        assert [m.name for m in first] == ["立项申请文件", "用地预审材料"]
        again = materials.store_many(session, platform, applicant, project, [
            ("立项申请文件", "a2.pdf", io.BytesIO(PDF + b"%changed\n")), ("用地预审材料", "b.pdf", io.BytesIO(PDF))])
        assert [m.id for m in again] == [m.id for m in first]  # the same rows, replaced in place
        versions = materials.versions_of(session, [m.id for m in first])
        assert [v.version for v in versions[first[0].id]] == [2, 1]  # a new file: a new version
        assert [v.version for v in versions[first[1].id]] == [1]     # the same file again: none
        code = project.code
    with pytest.raises(InvalidInput):  # one bad file refuses the whole batch; nothing of it is kept
        with transaction(platform.sessions) as session:
            project = session.scalar(select(Project).where(Project.code == code))
            applicant = session.scalar(select(User).where(User.username == "applicant1"))
            materials.store_many(session, platform, applicant, project, [
                ("环评文件", "c.pdf", io.BytesIO(PDF)), ("坏文件", "d.exe", io.BytesIO(b"MZ\x90\x00"))])
    with transaction(platform.sessions, write=False) as session:
        project = session.scalar(select(Project).where(Project.code == code))
        names = set(session.scalars(select(Material.name).where(Material.project_id == project.id)))
        assert names == {"立项申请文件", "用地预审材料"}
        assert session.scalar(select(func.count(MaterialVersion.id)).join(Material).where(
            Material.project_id == project.id)) == 3

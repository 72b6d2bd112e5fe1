"""A settled stage plan is not read again by the live workflow that found it settled.

Once a stage-1 application is accepted with no gap open (容缺), its plan never changes, so
``decisions.after_run`` marks the live workflow and its later runs skip the ``stage_plan`` read.
These tests compare the shortcut with the stock path (a workflow loaded from the state, as
another node would): the same statements but the one read, the same plan, the same ending.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import event, select

from app.db import transaction
from app.models import HumanTask, ProcessInstance, StagePlan, User
from app.services.people import projects
from app.services.provisioning import demo
from app.services.workflow import instances
from app.stages import BY_KEY

TODAY = dt.date(2026, 3, 2)


def _file(platform) -> int:
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": "定案测试项目", "division": "460100", "investment_type": "ratification"})
        data = demo.stage_application(BY_KEY["initiation"], project, TODAY)
        demo.supply_materials(session, platform, applicant, project, BY_KEY["initiation"], data)
        return projects.apply_for_stage(session, platform, applicant, project.code, "initiation", data).id


def _complete_next(platform, instance_id: int) -> list[str]:
    """Complete the oldest open task of the instance as its lane's officer; the statements it ran."""
    with transaction(platform.sessions, write=False) as session:
        row = demo.open_tasks(session, instance_id)[0]
    username = {"window": "window1"}.get(row.lane_role, f"{row.lane_role}_haikou")
    statements: list[str] = []

    def seen(conn, cursor, statement, *rest):
        statements.append(statement)
    with transaction(platform.sessions) as session:
        event.listen(session.get_bind(), "before_cursor_execute", seen)
        try:
            actor = session.scalar(select(User).where(User.username == username))
            instances.complete_task(session, platform, row.id, demo.task_answer(row.form, row.id, TODAY), actor)
        finally:
            event.remove(session.get_bind(), "before_cursor_execute", seen)
    return statements


def _plan_reads(statements: list[str]) -> int:
    return sum(1 for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM stage_plan" in s)


def _open_count(platform, instance_id: int) -> int:
    with transaction(platform.sessions, write=False) as session:
        return len(list(session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open"))))


def test_the_live_workflow_skips_the_settled_plan_and_a_reloaded_one_reads_it(platform):
    instance_id = _file(platform)
    _complete_next(platform, instance_id)  # the window accepts: the plan is settled by this run
    with transaction(platform.sessions, write=False) as session:
        plan = session.get(StagePlan, instance_id)
        assert plan.accepted_at is not None and not plan.gaps_open
    reads = [_plan_reads(_complete_next(platform, instance_id))]  # finds it settled, marks the workflow
    reads.append(_plan_reads(_complete_next(platform, instance_id)))  # the marked workflow: no read
    platform.workflows.clear()  # as if another node had saved it: loaded from the state, unmarked
    reads.append(_plan_reads(_complete_next(platform, instance_id)))
    assert reads == [1, 0, 1]
    while _open_count(platform, instance_id):
        _complete_next(platform, instance_id)
    with transaction(platform.sessions, write=False) as session:
        instance = session.get(ProcessInstance, instance_id)
        assert instance.status == "approved"
        assert session.get(StagePlan, instance_id).accepted_at == plan.accepted_at  # never touched again


def test_the_shortcut_ends_as_the_stock_path_does(platform):
    """Two applications, one run on live workflows, one reloaded from the state at every step."""
    live, reloaded = _file(platform), _file(platform)
    steps, skipped = 0, 0
    while _open_count(platform, live) or _open_count(platform, reloaded):
        skipped += _plan_reads(_complete_next(platform, live)) == 0
        with transaction(platform.sessions, write=False) as session:  # drop only this one's live workflow
            instances.forget(session, platform, session.get(ProcessInstance, reloaded))
        assert _plan_reads(_complete_next(platform, reloaded)) == 1
        steps += 1
        assert steps < 100
    assert skipped >= 2  # the shortcut was taken
    with transaction(platform.sessions, write=False) as session:
        ended = [session.get(ProcessInstance, i) for i in (live, reloaded)]
        assert [i.status for i in ended] == ["approved", "approved"]
        assert ended[0].marks == ended[1].marks
        plans = [session.get(StagePlan, i) for i in (live, reloaded)]
        assert [(p.facts, p.gaps_open, p.accepted_at is not None) for p in plans] == \
            [(plans[1].facts, False, True)] * 2

"""The officers' side of issue 11 in Chromium: the window sees the decided items and their
departments before accepting; after a 补正 the recheck page shows the reviewer's request, the
applicant's note and flags a material the applicant claims but never uploaded; the progress
page shows the lanes by department and a plain timeline.  The applicant's filing and the
department's request are made through the services, the pages under test through the browser."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask, Project, User
from app.services.people import materials, projects
from app.services.provisioning import demo
from app.services.workflow import instances
from app.stages import BY_KEY

from .conftest import ARTIFACTS
from .test_stage_one import PDF, log_in, open_tasks


def part(locator, name: str) -> None:
    """A screenshot of one part of a page (the README shows these), kept in test-artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    locator.screenshot(path=str(ARTIFACTS / f"part-{name}.png"))


def _user(session, username: str) -> User:
    return session.scalar(select(User).where(User.username == username))


def _file_stage_one(platform) -> str:
    with transaction(platform.sessions) as session:
        applicant = _user(session, "applicant1")
        project = projects.create_project(session, platform, applicant, {
            "name": "椰林湾补正核对项目", "division": "460100", "investment_type": "ratification"})
        data = demo.stage_application(BY_KEY["initiation"], project, platform.now().date())
        demo.supply_materials(session, platform, applicant, project, BY_KEY["initiation"], data)
        projects.apply_for_stage(session, platform, applicant, project.code, "initiation", data)
        return project.code


def _complete(platform, code: str, lane: str, data: dict) -> None:
    with transaction(platform.sessions) as session:
        row = next(r for r in open_tasks(platform, code) if r.lane_role == lane)
        row = session.get(HumanTask, row.id)
        instances.complete_task(session, platform, row.id, data, demo.actor_for(session, row))


def test_window_sees_decided_items_and_the_recheck_shows_the_note(browser, live_server, live_platform, shots):
    base, platform = live_server, live_platform
    code = _file_stage_one(platform)

    window = log_in(browser, base, "window1")
    window.goto(f"/officer/?project={code}&sort=submitted_desc")
    window.locator("#inbox tbody tr a").first.click()
    decided = window.locator("#decided-items")
    assert decided.is_visible() and "自然资源和规划" in decided.inner_text()
    assert "海口市行政审批服务局" in decided.inner_text()
    shots(window, "officer-accept-decided-items")
    part(decided, "officer-decided-items")
    window.check("#task-form input[name=outcome][value=accept]")
    window.click("#task-form button[type=submit]")
    window.wait_for_selector(".flash.success")

    today = platform.now().date()
    review = next(r for r in open_tasks(platform, code) if r.lane_role == "planning")
    answer = {**demo.task_answer(review.form, review.id, today, "correct"),
              "opinion": "请补充宗地图和建设项目红线图", "missing_materials": ["宗地图", "建设项目红线图"]}
    _complete(platform, code, "planning", answer)
    with transaction(platform.sessions) as session:
        project = session.scalar(select(Project).where(Project.code == code))
        materials.store(session, platform, _user(session, "applicant1"), project, "宗地图", "宗地图.pdf",
                        io.BytesIO(PDF))
    _complete(platform, code, "applicant", {"materials": ["宗地图", "建设项目红线图"],
                                            "note": "宗地图已上传；红线图正在盖章，明日补交"})

    recheck = next(r for r in open_tasks(platform, code) if r.lane_role == "window")
    window.goto(f"/officer/tasks/{recheck.id}")
    section = window.locator("#recheck")
    assert "请补充宗地图和建设项目红线图" in window.inner_text("#recheck-request")
    assert "红线图正在盖章" in window.inner_text("#recheck-note")
    assert section.locator("tr[data-material='宗地图'][data-state=supplied]").count() == 1
    flagged = section.locator("tr[data-material='建设项目红线图'][data-state=claimed_missing]")
    assert flagged.count() == 1 and "未见新上传" in flagged.inner_text()
    shots(window, "officer-correction-recheck")
    part(section, "officer-recheck")

    window.goto(f"/officer/projects/{code}")
    window.wait_for_selector("#diagram[data-ready='1']", timeout=30000)
    lanes = window.evaluate("() => hnViewer.get('elementRegistry').filter(e => e.type === 'bpmn:Lane')"
                            ".map(e => e.businessObject.name)")
    assert "自然资源和规划" in lanes and "planning" not in lanes
    before = float(window.get_attribute("#diagram", "data-zoom"))
    window.click("[data-zoom=in]")
    assert float(window.get_attribute("#diagram", "data-zoom")) > before
    window.click("[data-zoom=fit]")
    assert abs(float(window.get_attribute("#diagram", "data-zoom")) - before) < 0.01
    assert "提交申请" in window.inner_text("#timeline") and "补正材料" in window.inner_text("#timeline")
    shots(window, "officer-progress-timeline")
    part(window.locator(".diagram-and-timeline"), "progress-diagram-timeline")
    window.goto("/officer/done")
    assert code in window.inner_text("#done")
    window.goto("/officer/?sort=submitted_desc&stage=initiation")
    window.fill("#save-filter input[name=name]", "立项 · 新提交在前")
    window.click("#save-filter button")
    window.wait_for_selector("#saved-filters a:has-text('立项 · 新提交在前')")
    window.set_viewport_size({"width": 1280, "height": 760})
    window.screenshot(path=str(ARTIFACTS / "part-officer-inbox.png"))

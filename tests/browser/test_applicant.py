"""The applicant's side of issue 11 in Chromium, with the notifications it causes.

An applicant types stage 1: the materials follow the answers (the decision runs on the
server as one types), an upload goes in place and keeps what was typed, a submission missing
a required material is refused with a summary at the top linked to its fields, the draft is
resumed after a reload, 告知承诺 is ticked with its text, and what was filed stays readable.
The window is told of the new task in its message centre; a department asks for a correction,
the applicant sees its deadline, uploads in place and answers with a note, which the window's
recheck shows.  (A broken flow refused by the modeler: tests/browser/test_modeler.py.)"""

from __future__ import annotations

import shutil

from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask
from app.services.provisioning import demo
from app.services.workflow import instances

from .conftest import ARTIFACTS, refreshed, upload_every_blocking, upload_in_place
from .test_stage_one import PDF, log_in, open_tasks

DOCS = ARTIFACTS.parents[1] / "docs" / "screenshots"


def part(locator, name: str) -> None:
    """A screenshot of one part of a page, kept in test-artifacts/browser/ and shown by the README."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"part-{name}.png"
    locator.screenshot(path=str(path))
    if DOCS.is_dir():
        shutil.copyfile(path, DOCS / f"{name}.png")


def test_the_applicants_round_in_the_browser(browser, live_server, live_platform, shots, tmp_path):
    base, platform = live_server, live_platform
    pdf = tmp_path / "材料.pdf"
    pdf.write_bytes(PDF)
    applicant = log_in(browser, base, "applicant1")
    applicant.click("text=申报新项目")
    applicant.fill("input[name=name]", "椰林湾申请人体验项目")
    applicant.select_option("select[name=division]", "460100")
    applicant.check("input[name=investment_type][value=ratification]")
    applicant.click("button:has-text('提交并赋码')")
    code = applicant.locator("#project-code").inner_text().strip()
    applicant.click("tr[data-stage=initiation] >> text=填写申请表")

    # the materials follow the answers as they are typed
    count = int(applicant.get_attribute("#materials", "data-refreshed") or 0)
    applicant.fill("#f-total_investment", "300")
    applicant.fill("#f-land_area", "800")
    count = refreshed(applicant, count)
    assert applicant.locator("#checklist tr[data-material='节能报告']").count() == 0
    applicant.fill("#f-total_investment", "12800")
    applicant.fill("#f-land_area", "24000")
    count = refreshed(applicant, count)
    assert applicant.locator("#checklist tr[data-material='节能报告'][data-blocking='1']").count() == 1
    assert applicant.locator("#checklist tr[data-material='水土保持方案报告书（表）']").count() == 1
    commitment = applicant.locator("#f-commitments input[value='S1-ENERGY']")
    assert commitment.count() == 1 and "本单位承诺" in applicant.inner_text("#f-commitments")

    # an upload goes in place: the page stays, what was typed stays
    applicant.fill("#f-site_address", "海口市龙华区滨海大道88号")
    applicant.fill("#f-construction_content", "新建综合楼两栋及地下车库")
    applicant.fill("#f-contact_name", "王海")
    applicant.fill("#f-contact_phone", demo.PHONE)
    applicant.evaluate("() => { window.__stayed = 'yes'; }")
    upload_in_place(applicant, "项目申请报告", pdf)
    assert applicant.evaluate("() => window.__stayed") == "yes"  # no reload
    assert applicant.input_value("#f-site_address") == "海口市龙华区滨海大道88号"
    assert applicant.input_value("#f-total_investment") == "12800"

    # submitting without every required material is refused, with a summary at the top
    applicant.click("#stage-form button[type=submit]:not([name])")
    applicant.wait_for_selector("#error-summary")
    # apply.js moves the focus to the summary once it runs (the element is there before it does)
    applicant.wait_for_function("() => document.activeElement && document.activeElement.id === 'error-summary'")
    summary = applicant.inner_text("#error-summary")
    assert "缺少必交材料" in summary and "节能报告" in summary and "项目申请报告" not in summary
    assert applicant.input_value("#f-contact_name") == "王海"  # nothing typed was lost
    shots(applicant, "applicant-missing-materials")
    part(applicant.locator("#error-summary"), "applicant-missing-materials")
    applicant.click("#error-summary a[href='#materials']")
    assert applicant.evaluate("() => document.activeElement.id") == "materials"

    # a wrong field is linked from the summary too
    applicant.fill("#f-contact_phone", "12345")
    applicant.click("#stage-form button[type=submit]:not([name])")
    applicant.wait_for_selector("#error-summary a[href='#f-contact_phone']")
    applicant.click("#error-summary a[href='#f-contact_phone']")
    assert applicant.evaluate("() => document.activeElement.id") == "f-contact_phone"

    # the draft is kept on the server as one types, and resumed
    applicant.fill("#f-contact_phone", demo.PHONE)
    applicant.fill("#f-construction_content", "新建综合楼两栋及地下车库（草稿）")
    applicant.wait_for_function("() => document.getElementById('stage-form').dataset.draftSaved")
    applicant.goto(f"/portal/projects/{code}/stages/initiation")
    assert applicant.input_value("#f-construction_content") == "新建综合楼两栋及地下车库（草稿）"
    assert "已恢复" in applicant.inner_text("#draft-status")

    # 告知承诺 is ticked with its text: its materials may follow later
    count = int(applicant.get_attribute("#materials", "data-refreshed") or 0)
    applicant.check("#f-commitments input[value='S1-ENERGY']")
    refreshed(applicant, count)
    assert applicant.locator("#checklist tr[data-material='节能报告'][data-blocking='0']").count() == 1
    shots(applicant, "applicant-stage-form")
    part(applicant.locator("#materials"), "applicant-checklist")
    uploaded = upload_every_blocking(applicant, pdf)
    assert "节能报告" not in uploaded and uploaded
    applicant.click("#stage-form button[type=submit]:not([name])")
    applicant.wait_for_selector("[data-stage=initiation][data-status=running]")

    # what was filed stays readable
    applicant.locator("tr[data-stage=initiation] a[data-filed]").first.click()
    assert "新建综合楼两栋及地下车库（草稿）" in applicant.inner_text("#filed-form")
    assert "项目申请报告" in applicant.inner_text("#filed-materials")
    shots(applicant, "applicant-filed")

    # the window is told in its message centre
    window = log_in(browser, base, "window1")
    assert window.locator("#unread-count").is_visible()
    window.click("#messages-link")
    assert code in window.inner_text("#message-list") or "椰林湾申请人体验项目" in window.inner_text("#message-list")
    shots(window, "window-message-centre")

    # the window accepts; a department asks for a correction
    today = platform.now().date()
    for lane, outcome, extra in (("window", None, {}),
                                 ("planning", "correct", {"opinion": "请补充宗地图", "missing_materials": ["宗地图"]})):
        row = next(r for r in open_tasks(platform, code) if r.lane_role == lane)
        with transaction(platform.sessions) as session:
            row = session.get(HumanTask, row.id)
            answer = {**demo.task_answer(row.form, row.id, today, outcome), **extra}
            instances.complete_task(session, platform, row.id, answer, demo.actor_for(session, row))

    # the applicant is told, sees the deadline, uploads in place and keeps its note
    applicant.goto("/messages/")
    assert "补正" in applicant.inner_text("#message-list")
    task = next(r for r in open_tasks(platform, code) if r.lane_role == "applicant")
    applicant.goto(f"/portal/tasks/{task.id}")
    assert "补正期限" in applicant.inner_text("#correction-deadline")
    assert "10 个工作日" in applicant.inner_text("#correction-deadline")
    applicant.fill("#task-form [name=note]", "宗地图已上传，请审核")
    applicant.evaluate("() => { window.__stayed = 'yes'; }")
    applicant.locator("#correction-upload input[type=file]").set_input_files(str(pdf))
    applicant.click("#correction-upload button")
    applicant.wait_for_selector("#uploaded-list li[data-material='宗地图']")
    assert applicant.evaluate("() => window.__stayed") == "yes"
    assert applicant.input_value("#task-form [name=note]") == "宗地图已上传，请审核"
    assert applicant.input_value("#task-form [name=materials]") == "宗地图"  # listed as supplied
    shots(applicant, "applicant-correction")
    part(applicant.locator("main"), "applicant-correction")
    applicant.click("#task-form button[type=submit]")
    applicant.wait_for_selector(".flash.success")

    # the window's recheck shows the applicant's note
    with transaction(platform.sessions, write=False) as session:
        recheck = session.scalar(select(HumanTask).where(HumanTask.status == "open", HumanTask.lane_role == "window",
                                                         HumanTask.spec_name == "correction_recheck")
                                 .order_by(HumanTask.id.desc()))
    window.goto(f"/officer/tasks/{recheck.id}")
    assert "宗地图已上传，请审核" in window.inner_text("#recheck-note")
    assert "请补充宗地图" in window.inner_text("#recheck-request")

    # both languages
    applicant.goto("/lang/en?next=/portal/projects/" + code)
    applicant.locator("tr[data-stage=initiation] a[data-filed]").first.click()
    assert "Submitted application" in applicant.inner_text("h1")

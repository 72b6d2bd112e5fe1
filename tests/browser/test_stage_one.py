"""The scenario of issue 5 in a real browser: an applicant files stage 1, the window accepts,
the departments review (one asks for a correction first), and the applicant sees stage 1 done
and stage 2 open."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.db import transaction
from app.models import HumanTask, ProcessInstance
from app.services.provisioning import demo
from app.services.provisioning.reference import DEMO_PASSWORD
from app.stages import BY_KEY

from .conftest import checklist_settled, upload_every_blocking

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
CITY = "haikou"


def log_in(browser, base: str, username: str):
    """A fresh browser context logged in as ``username``; returns its page."""
    context = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("form.card button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, f"{username} could not log in"
    return page


def fill_form(page, form_selector: str, data: dict) -> None:
    """Fill a rendered schema form from a dict, whatever widget each field has."""
    form = page.locator(form_selector)
    for name, value in data.items():
        field = form.locator(f"[name='{name}']")
        if field.count() == 0:
            continue
        if field.first.get_attribute("readonly") is not None:  # from the enterprise's record: shown, not typed
            assert field.first.input_value() == str(value), (name, field.first.input_value())
            continue
        kind = field.first.get_attribute("type") or field.first.evaluate("e => e.tagName.toLowerCase()")
        if kind == "radio":
            form.locator(f"input[name='{name}'][value='{value}']").check()
        elif kind == "checkbox" and isinstance(value, list):
            for v in value:
                form.locator(f"input[name='{name}'][value='{v}']").check()
        elif kind == "checkbox":
            field.first.set_checked(bool(value))
        elif kind == "select":
            field.first.select_option(str(value))
        elif isinstance(value, list):
            field.first.fill("\n".join(str(v) for v in value))
        else:
            field.first.fill(str(value))


def open_tasks(platform, code: str) -> list[HumanTask]:
    with transaction(platform.sessions, write=False) as session:
        rows = session.scalars(select(HumanTask).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                               .where(HumanTask.status == "open", ProcessInstance.stage_key == "initiation")
                               .order_by(HumanTask.id)).all()
        return [r for r in rows if r.instance.project.code == code]


@pytest.mark.slow
def test_stage_one_in_the_browser(browser, live_server, live_platform, shots, tmp_path):
    base = live_server
    today = live_platform.now().date()
    applicant = log_in(browser, base, "applicant1")
    shots(applicant, "portal-dashboard")

    applicant.click("text=申报新项目")
    applicant.fill("input[name=name]", "椰林湾综合楼项目")
    applicant.select_option("select[name=division]", "460100")
    applicant.check("input[name=investment_type][value=ratification]")
    shots(applicant, "declare-project")
    applicant.click("button:has-text('提交并赋码')")
    code = applicant.locator("#project-code").inner_text().strip()
    assert re.fullmatch(r"\d{4}-\d{6}-\d{2}-\d{2}-\d{5}[0-9X]", code)

    applicant.click("tr[data-stage=initiation] >> text=填写申请表")
    pdf = tmp_path / "授权委托书.pdf"
    pdf.write_bytes(PDF)

    class Facts:
        name = "椰林湾综合楼项目"
        investment_type = "ratification"
    fill_form(applicant, "#stage-form", {**demo.stage_application(BY_KEY["initiation"], Facts, today),
                                         "contact_phone": "12345"})
    checklist_settled(applicant)  # the materials follow the answers (issue 11)
    assert upload_every_blocking(applicant, pdf)  # in place, one by one, keeping what was typed
    applicant.click("#stage-form button[type=submit]:not([name])")
    assert applicant.locator("[data-field=contact_phone] .field-error").is_visible()  # checked on the server
    shots(applicant, "stage-form-error")
    applicant.fill("#stage-form input[name=contact_phone]", demo.PHONE)
    applicant.click("#stage-form button[type=submit]:not([name])")
    applicant.wait_for_selector("[data-stage=initiation][data-status=running]")
    shots(applicant, "stage-one-filed")

    officers: dict[str, object] = {}
    corrected = False
    for _ in range(40):
        rows = open_tasks(live_platform, code)
        if not rows:
            break
        row = rows[0]
        if row.lane_role == "applicant":
            applicant.goto(f"/portal/tasks/{row.id}")
            assert applicant.locator("#reviewer-opinion").inner_text().count("请补充宗地图") == 1
            shots(applicant, "correction-request")
            fill_form(applicant, "#task-form", demo.task_answer(row.form, row.id, today))
            applicant.click("#task-form button[type=submit]")
            continue
        username = "window1" if row.lane_role == "window" else f"{row.lane_role}_{CITY}"
        page = officers.get(username) or log_in(browser, base, username)
        officers[username] = page
        page.goto(f"/officer/?project={code}")
        if len(officers) == 1:
            shots(page, "officer-inbox")
        page.locator(f"tr[data-task='{row.id}'] a").click()
        page.wait_for_url(f"**/officer/tasks/{row.id}")
        page.wait_for_load_state("load")  # the page with its material previews, before typing into it
        outcome = None
        if row.lane_role not in ("window", "applicant") and not corrected:
            outcome, corrected = "correct", True
        answer = demo.task_answer(row.form, row.id, today, outcome)
        if outcome == "correct":
            answer["opinion"] = "请补充宗地图"
        fill_form(page, "#task-form", answer)
        if outcome == "correct":
            shots(page, "officer-review-correction")
        page.click("#task-form button[type=submit]")
        page.wait_for_load_state()
        assert page.locator(".flash.success").count() == 1, (page.url, page.locator(".has-error").all_inner_texts())
    else:
        pytest.fail("stage 1 did not finish")
    assert corrected, "no department asked for a correction"

    applicant.goto(f"/portal/projects/{code}")
    assert applicant.locator("[data-stage=initiation]").first.get_attribute("data-status") == "approved"
    assert applicant.locator("[data-stage=engineering]").first.get_attribute("data-status") == "open"
    assert applicant.locator("tr[data-stage=engineering] >> text=填写申请表").is_visible()
    shots(applicant, "project-stage-one-done")
    applicant.click("tr[data-stage=initiation] >> text=统一出件")
    assert applicant.locator("text=出件编号").is_visible()
    shots(applicant, "issued-result")
    applicant.goto(f"/portal/projects/{code}/progress")
    if applicant.locator("#diagram").count():
        applicant.wait_for_selector("#diagram[data-ready='1']")
        assert applicant.locator("#diagram .djs-element.done").count() > 0
    shots(applicant, "progress")
    public = browser.new_page(base_url=base)
    public.goto(f"/public/query?code={code}")
    assert public.locator("img.qr").is_visible()
    shots(public, "public-query")

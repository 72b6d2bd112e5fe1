"""一枚印章出件 in a real browser: the window confirms the built result, the applicant waits while
it is issued, downloads the signed PDF, and the QR code on it opens a page saying 有效."""

from __future__ import annotations

import io

import pypdf
import pypdfium2
import pytest
import zxingcpp
from sqlalchemy import select

from app.db import transaction
from app.models import AuditEvent, User
from app.scheduler import SealWorker
from app.services.people import projects
from app.services.provisioning import demo
from app.services.seal import sign
from app.services.workflow import instances
from app.stages import BY_KEY
from tests.browser.test_stage_one import log_in

NAME = "椰风海韵文化中心项目"


def _to_the_window(platform) -> tuple[str, int, int]:
    """Stage 1 filed and reviewed through the services; returns (code, instance id, 统一出件 task id)."""
    with transaction(platform.sessions) as session:
        applicant = session.scalar(select(User).where(User.username == "applicant1"))
        project = projects.create_project(session, platform, applicant, {
            "name": NAME, "division": "460100", "investment_type": "ratification", "flow_type": 3})
        stage = BY_KEY["initiation"]
        data = demo.stage_application(stage, project, platform.now().date())
        demo.supply_materials(session, platform, applicant, project, stage, data)  # a filing lacking one is refused
        instance = projects.apply_for_stage(session, platform, applicant, project.code, stage.key, data)
        code, instance_id = project.code, instance.id
    for _ in range(60):
        with transaction(platform.sessions, write=False) as session:
            rows = demo.open_tasks(session, instance_id)
        issue = next((r for r in rows if r.spec_name == "window_issue"), None)
        if issue is not None:
            return code, instance_id, issue.id
        with transaction(platform.sessions) as session:
            row = rows[0]
            instances.complete_task(session, platform, row.id,
                                    demo.task_answer(row.form, row.id, platform.now().date()),
                                    demo.actor_for(session, row))
    pytest.fail("stage 1 never reached 统一出件")


def _numbers(platform, instance_id: int) -> list[str]:
    import json
    with transaction(platform.sessions, write=False) as session:
        return [json.loads(d)["number"] for d in session.scalars(select(AuditEvent.detail).where(
            AuditEvent.instance_id == instance_id, AuditEvent.kind == "item_decided"))]


@pytest.mark.slow
def test_the_applicant_downloads_the_signed_result_and_its_qr_says_valid(browser, live_server, live_platform,
                                                                          shots, tmp_path):
    code, instance_id, task_id = _to_the_window(live_platform)
    numbers = _numbers(live_platform, instance_id)
    window = log_in(browser, live_server, "window1")
    window.goto(f"/officer/tasks/{task_id}")
    preview = window.locator("#result-preview")
    for number in numbers:
        assert preview.locator(f"text={number}").count() == 1, number
    shots(window, "window-result-preview")
    from tests.browser.test_stage_one import fill_form
    fill_form(window, "#task-form", demo.task_answer("window_issue.schema.json", task_id, live_platform.now().date()))
    window.click("#task-form button[type=submit]")
    window.wait_for_load_state()
    assert window.locator(".flash.success").count() == 1

    applicant = log_in(browser, live_server, "applicant1")
    applicant.goto(f"/portal/projects/{code}/results/{instance_id}")
    assert applicant.locator(".signed-documents .pending").count() >= 1  # 正在出件
    SealWorker(live_platform).tick()  # what the scheduler does every few seconds
    applicant.reload()
    link = applicant.locator(".signed-documents [data-download=pdf]").first
    with applicant.expect_download() as download_info:
        link.click()
    saved = tmp_path / "result.pdf"
    download_info.value.save_as(saved)
    data = saved.read_bytes()

    check = sign.validate(live_platform.settings, data)
    assert check.valid, check.summary
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages).replace("\n", "")
    assert NAME in text and all(n in text for n in numbers)
    image = pypdfium2.PdfDocument(data)[0].render(scale=2).to_pil()
    urls = [r.text for r in zxingcpp.read_barcodes(image)]
    assert len(urls) == 1 and urls[0].startswith(f"{live_server}/v/")

    public = browser.new_context(locale="zh-CN").new_page()  # anyone, not logged in, scanning the QR
    public.goto(urls[0])
    status = public.locator("[data-status]").first
    assert status.get_attribute("data-status") == "issued" and "有效" in status.inner_text()
    assert public.locator(f"text={NAME}").count() >= 1
    public.set_input_files("input[name=file]", str(saved))
    public.click("form.actions button")
    public.wait_for_load_state()
    answer = public.locator(".verify-check")
    assert answer.get_attribute("data-hash-match") == "yes" and answer.get_attribute("data-signature") == "valid"
    shots(public, "public-verify-valid")

"""The two other platforms in Chromium: a department proposes a project for planning generation
and sees its site on the map with the findings; an applicant commissions a drawing review by
direct choice, the firm accepts, uploads its report and delivers, the applicant rates it, and
the public directory (中介超市) shows the rating."""

from __future__ import annotations

import json

from app.services.provisioning.portal_platforms import DEMO_SITE

from .test_stage_one import PDF, log_in

FIRM = "海南琼岛施工图审查中心有限公司"


def test_a_department_proposes_a_project_and_sees_its_findings_on_the_map(browser, live_server, shots):
    page = log_in(browser, live_server, "drc_haikou")
    page.goto("/planning/new")
    page.wait_for_selector("#plan-map[data-ready='1']")
    assert int(page.get_attribute("#plan-map", "data-zones")) > 0  # the plan layers are drawn
    page.fill("input[name=name]", "江东新区文体中心")
    page.fill("input[name=enterprise_credit_code]", "91460100MA5T00001L")
    page.fill("input[name=area_m2]", "12000")
    page.fill("#site", "{not json")
    page.wait_for_selector("#plan-map[data-valid='0']")  # the map follows the text and says when it is not GeoJSON
    page.fill("#site", json.dumps(DEMO_SITE))
    page.wait_for_selector("#plan-map[data-valid='1']")
    page.click("form button[type=submit]")
    page.wait_for_selector(".flash.success")
    assert "/planning/" in page.url
    page.wait_for_selector("#plan-map[data-ready='1']")
    assert page.get_attribute("#plan-map", "data-site") == "polygon"
    findings = page.locator("#findings tbody tr[data-kind]")
    assert findings.count() >= 1, "the demo site touches a protected zone"
    assert page.locator("#opinions tbody tr").count() >= 5  # the departments review in parallel
    shots(page, "planning-proposal-map")


def test_a_drawing_review_is_commissioned_delivered_and_rated(browser, live_server, shots):
    applicant = log_in(browser, live_server, "applicant1")
    code = _declare(applicant)
    applicant.goto(f"/services/projects/{code}")
    applicant.select_option("#service", "drawing_review")
    applicant.check("#commission-form input[name=method][value=direct]")
    firm_option = applicant.locator(f"#firm_id option[data-service=drawing_review]:has-text('{FIRM}')")
    applicant.select_option("#firm_id", firm_option.get_attribute("value"))
    applicant.fill("#commission-form input[name=committed_days]", "8")
    applicant.click("#commission-form button[type=submit]")
    applicant.wait_for_selector(".flash.success")
    service_url = applicant.url
    service_id = service_url.rstrip("/").rsplit("/", 1)[-1]

    firm = log_in(browser, live_server, "agency1")
    firm.goto("/intermediary/")
    firm.click(f"a[href$='/intermediary/services/{service_id}']")
    firm.check("#task-form input[name=outcome][value=accept]")
    firm.fill("#task-form input[name=committed_days]", "6")
    firm.click("#task-form button[type=submit]")
    firm.wait_for_selector(".flash.success")
    firm.set_input_files("#report-form input[type=file]", files=[
        {"name": "施工图审查报告.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    firm.click("#report-form button")
    firm.wait_for_selector("#report-link")
    firm.check("#task-form input[name=conclusion][value=qualified]")
    firm.fill("#task-form textarea[name=summary], #task-form input[name=summary]", "施工图审查合格")
    firm.click("#task-form button[type=submit]")
    firm.wait_for_selector(".flash.success")
    assert firm.inner_text("#service-status").strip() == "已提交成果"
    shots(firm, "intermediary-commission-delivered")

    other = log_in(browser, live_server, "agency2")
    assert other.goto(f"/intermediary/services/{service_id}").status == 404

    applicant.goto(service_url)
    applicant.check("#task-form input[name=score][value='5']")
    applicant.fill("#task-form [name=comment]", "按时交付，意见清楚")
    applicant.click("#task-form button[type=submit]")
    applicant.wait_for_selector(".flash.success")

    public = browser.new_context(base_url=live_server, locale="zh-CN").new_page()
    public.goto("/market/?service=drawing_review")
    row = public.locator(f"tr:has-text('{FIRM}'), .firm:has-text('{FIRM}')").first
    assert "按时交付" in public.inner_text("body") and row.count() == 1
    shots(public, "market-directory-rated")


def _declare(page) -> str:
    """Declare a project through the portal's form; its code."""
    page.goto("/portal/projects/new")
    page.fill("input[name=name]", "椰林湾综合楼")
    page.select_option("select[name=division]", "460100")
    page.check("input[name=investment_type][value=ratification]")
    page.click("form button[type=submit]")
    page.wait_for_selector(".flash.success")
    return page.url.rstrip("/").rsplit("/", 1)[-1]

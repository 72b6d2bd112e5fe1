"""The BPMN modeler in Chromium: load stage 3, edit a label, save a draft, confirm its activation;
everything the platform reads survives.  A structurally broken flow is refused and marked.

Uses the live server and browser of tests/browser/conftest.py.  Needs the npm files copied by
``make install`` into app/static/vendor/: without them the tests skip saying why, except with
REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from app.db import transaction
from app.models import Deployment, DeploymentFile
from engine.versions import describe_processes

from .conftest import ARTIFACTS

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "app" / "static" / "vendor" / "bpmn-js" / "bpmn-modeler.production.min.js"
CONSTRUCTION = "stages/construction.bpmn"
NEW_LABEL = "综合受理（修订）"


@pytest.fixture(autouse=True)
def _vendor_files():
    """The npm files must have been copied (``make install``); skip or, in CI, fail without them."""
    if not VENDOR.exists():
        reason = f"bpmn-js is not in {VENDOR.parent.parent} (run make install)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (REQUIRE_BROWSER=1)")
        pytest.skip(reason)


@pytest.fixture
def modeler_server(live_server, live_platform):
    """The shared live server (tests/browser/conftest.py); the active version is put back afterwards."""
    before = active_version(live_platform)
    yield live_server, live_platform
    with transaction(live_platform.sessions) as session:
        session.execute(update(Deployment).values(active=Deployment.version == before))


@pytest.fixture
def analyst_page(modeler_server, browser):
    """A page logged in as analyst1; fails the test on any JavaScript error."""
    base, _ = modeler_server
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{base}/login")
    page.fill("input[name=username]", "analyst1")
    page.fill("input[name=password]", "Demo@2026")
    page.click("form.card button[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    yield page
    context.close()
    assert errors == []


def open_modeler(page, base: str, version: int, name: str = CONSTRUCTION) -> None:
    page.goto(f"{base}/admin/modeler/{version}/{name}")
    page.wait_for_selector("#modeler-page[data-ready=true]", timeout=30000)


def select_element(page, element_id: str) -> None:
    """Select a diagram element (as a click would) and wait for the platform panel to show it."""
    page.evaluate("id => hnModeler.get('selection').select(hnModeler.get('elementRegistry').get(id))", element_id)
    page.wait_for_selector(f"#platform-panel h3:has-text('{element_id}')")


def latest_version(platform) -> int:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(func.max(Deployment.version)))


def active_version(platform) -> int:
    with transaction(platform.sessions, write=False) as session:
        return session.scalar(select(Deployment.version).where(Deployment.active.is_(True)))


def files_of(platform, version: int) -> dict[str, bytes]:
    with transaction(platform.sessions, write=False) as session:
        rows = session.scalars(select(DeploymentFile).where(DeploymentFile.version == version))
        return {row.path: row.content for row in rows}


def test_round_trip_keeps_everything_the_platform_reads(modeler_server, analyst_page, shots):
    base, platform = modeler_server
    page = analyst_page
    before = active_version(platform)
    open_modeler(page, base, before)
    assert "导入警告" not in page.inner_text("#status")
    assert_fitted(page)

    page.evaluate("""id => {  // zoom to 100 % with the task in the middle, as an analyst would
        const canvas = hnModeler.get('canvas'), e = hnModeler.get('elementRegistry').get(id);
        const outer = canvas.viewbox().outer;
        canvas.viewbox({x: e.x + e.width / 2 - outer.width / 2, y: e.y + e.height / 2 - outer.height / 2,
                        width: outer.width, height: outer.height});
    }""", "window_accept")
    page.dblclick("[data-element-id=window_accept]")  # edit the label in place
    page.wait_for_selector(".djs-direct-editing-parent", state="visible")
    page.keyboard.press("Control+A")
    page.keyboard.type(NEW_LABEL)
    page.mouse.click(5, 5)  # leaves direct editing (the toolbar above the canvas)
    assert page.evaluate("hnModeler.get('elementRegistry').get('window_accept').businessObject.name") == NEW_LABEL

    select_element(page, "window_accept")  # the platform panel reads the extension elements
    assert page.input_value("#platform-panel select[name=form]") == "window_accept.schema.json"
    select_element(page, "Lane_fire")
    assert page.input_value("#platform-panel select[name=role]") == "fire"

    page.fill("#comment", "浏览器往返测试")
    page.click("#save")
    page.wait_for_selector("#status.ok", timeout=30000)
    after = latest_version(platform)
    assert f"草稿 v{after}" in page.inner_text("#status") and active_version(platform) == before  # a draft
    page.click("#activate-link")  # the confirmation: the diff and what will start on it
    page.wait_for_selector("#confirm-activation")
    assert "window_accept" in page.inner_text(".process-diff") and "施工许可" in page.inner_text("#awaiting")
    shots(page, "activation-confirm")
    page.check("#confirm-activation input[name=confirm]")
    page.click("#confirm-activation button")
    page.wait_for_selector(f"text=版本 {after} 已启用")
    assert active_version(platform) == after

    old, new = describe_processes(files_of(platform, before)), describe_processes(files_of(platform, after))
    assert old.keys() == new.keys()
    for process_id, elements in old.items():
        assert elements.keys() == new[process_id].keys(), process_id
        for element_id, aspects in elements.items():
            edited = (process_id, element_id) == ("stage_construction", "window_accept")
            expected = dict(aspects, name=NEW_LABEL) if edited else aspects
            assert new[process_id][element_id] == expected, (process_id, element_id)
    lanes = [e for e in new["stage_construction"].values() if e["type"] == "lane"]
    assert {e["name"] for e in lanes} >= {"window", "housing", "fire", "civil_defence"}


def test_validation_errors_are_listed_and_marked_on_the_diagram(modeler_server, analyst_page):
    base, platform = modeler_server
    page = analyst_page
    before = active_version(platform)
    open_modeler(page, base, before)
    select_element(page, "Lane_fire")
    page.select_option("#platform-panel select[name=role]", "")  # the lane loses its role code
    page.click("#save")
    page.wait_for_selector("#status.error", timeout=30000)
    assert page.locator("#problems li[data-element=Lane_fire]").count() == 1
    assert page.locator(".djs-element.lint-error[data-element-id=Lane_fire]").count() == 1
    assert page.locator(".djs-overlay-container .lint-badge").count() >= 1
    assert active_version(platform) == before


def assert_fitted(page) -> None:
    """The whole diagram lies inside the canvas and right of the palette."""
    box = page.evaluate("""() => {
        const canvas = document.querySelector('#canvas').getBoundingClientRect();
        const palette = document.querySelector('.djs-palette').getBoundingClientRect();
        const shapes = [...document.querySelectorAll('#canvas .djs-shape')].map(e => e.getBoundingClientRect());
        return {canvas: [canvas.left, canvas.top, canvas.right, canvas.bottom], palette: palette.right,
                left: Math.min(...shapes.map(r => r.left)), top: Math.min(...shapes.map(r => r.top)),
                right: Math.max(...shapes.map(r => r.right)), bottom: Math.max(...shapes.map(r => r.bottom)),
                width: Math.max(...shapes.map(r => r.right)) - Math.min(...shapes.map(r => r.left)),
                height: Math.max(...shapes.map(r => r.bottom)) - Math.min(...shapes.map(r => r.top))};
    }""")
    left, top, right, bottom = box["canvas"]
    assert box["left"] > box["palette"] and box["right"] <= right + 1, box  # clear of the palette, inside
    assert box["top"] >= top - 1 and box["bottom"] <= bottom + 1, box
    # fitted: the diagram fills the canvas in at least one direction (not a quarter of it)
    assert box["width"] >= 0.8 * (right - box["palette"]) or box["height"] >= 0.8 * (bottom - top), box


def test_a_broken_flow_is_refused_and_marked_on_the_diagram(modeler_server, analyst_page, shots):
    """The case of issue 11: the flow 综合受理 → 综合受理结论 deleted in the modeler."""
    base, platform = modeler_server
    page = analyst_page
    before, latest = active_version(platform), latest_version(platform)
    open_modeler(page, base, before, "stages/initiation.bpmn")
    assert_fitted(page)
    page.evaluate("""id => {
        const modeling = hnModeler.get('modeling'), registry = hnModeler.get('elementRegistry');
        modeling.removeElements([registry.get(id)]);
    }""", "Flow_window_accept__Gateway_window_accept")
    page.click("#save")
    page.wait_for_selector("#status.error", timeout=30000)
    assert "部署被拒绝" in page.inner_text("#status")
    assert page.locator("#problems li[data-element=window_accept]").count() == 1
    assert page.locator("#problems li[data-element=Gateway_window_accept]").count() == 1
    assert "没有出口顺序流" in page.inner_text("#problems")
    for element in ("window_accept", "Gateway_window_accept"):
        assert page.locator(f".djs-element.lint-error[data-element-id={element}]").count() == 1
    shots(page, "modeler-broken-flow")
    page.screenshot(path=str(ARTIFACTS / "part-modeler-refused.png"))  # the README shows it
    assert (active_version(platform), latest_version(platform)) == (before, latest)  # nothing stored


def test_a_decision_opens_in_dmn_js(modeler_server, analyst_page):
    base, platform = modeler_server
    decisions = [name for name in files_of(platform, 1) if name.endswith(".dmn")]
    if not decisions:
        pytest.skip("the shipped flows have no DMN decision")
    page = analyst_page
    page.goto(f"{base}/admin/modeler/1/{decisions[0]}")
    page.wait_for_selector("#decision-page[data-ready=true]", timeout=30000)
    assert page.locator(".tjs-table, .dmn-decision-table-container").count() >= 1

"""The forecast in Chromium: the modeler's panel edits a task's forecast figures; the activation page
runs a forecast of the draft with a progress bar and draws the ECharts chart.

Its own server and SQLite database (a small generated history and its model), so that the shared
live server's demo data stay as the other browser tests expect them.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from app import create_app
from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.models import DeploymentFile
from app.services.flows import deployments
from app.services.forecast import store
from app.services.provisioning import reference
from app.wiring import build_platform
from tests.integration.history_steps import ENDS, generate
from tests.integration.test_forecast import without_planning

from .test_modeler import VENDOR, _vendor_files  # noqa: F401  (skip without the npm files)

if not VENDOR.exists():
    pytest.skip("bpmn-js is not copied into app/static/vendor (run make install)", allow_module_level=True)


@pytest.fixture(scope="module")
def forecast_server(tmp_path_factory):
    root = tmp_path_factory.mktemp("forecast-browser")
    url = f"sqlite:///{root / 'forecast.db'}"
    settings = Settings.from_env(DATABASE_URL=url, TESTING=True, SECRET_KEY="browser-test",
                                 UPLOAD_DIR=str(root / "uploads"), FORECAST_BASELINE_PROJECTS=0,
                                 FORECAST_WORKERS=1)
    upgrade(url)
    platform = build_platform(settings)
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
        reference.deploy_initial(session, platform)
        reference.seed_demo(session, platform)
    generate(platform, 16)
    with transaction(platform.sessions) as session:
        store.refresh(session, platform, ENDS)
        active = deployments.active_version(session)
        files = {r.path: r.content for r in session.scalars(select(DeploymentFile).where(
            DeploymentFile.version == active))}
        draft = deployments.deploy(session, platform, without_planning(files), "analyst1", "no planning").version
    app = create_app(settings, platform=platform)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", draft
    server.shutdown()
    thread.join(timeout=10)
    platform.sessions.kw["bind"].dispose()


@pytest.fixture
def page(forecast_server, browser):
    base, _ = forecast_server
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


def test_the_activation_page_forecasts_the_draft_with_a_progress_bar_and_a_chart(forecast_server, page):
    base, draft = forecast_server
    page.goto(f"{base}/admin/versions/{draft}/activate")
    page.fill("#forecast-n", "20")
    page.click("#forecast-run")
    page.wait_for_selector("#forecast-result:not([hidden])", timeout=120000)
    assert page.get_attribute("#forecast-progress", "value") == page.get_attribute("#forecast-progress", "max")
    row = page.inner_text("#forecast-table tr[data-stage=initiation]")
    assert "initiation" in row and "全部基于历史" in row
    page.wait_for_selector(".forecast-chart[data-stage=initiation] canvas")
    assert "预测完成" in page.inner_text("#forecast-status")


def test_the_modeler_panel_edits_a_tasks_forecast_figures(forecast_server, page):
    base, draft = forecast_server
    page.goto(f"{base}/admin/modeler/{draft}/stages/construction.bpmn")
    page.wait_for_selector("#modeler-page[data-ready=true]", timeout=30000)
    page.evaluate("id => hnModeler.get('selection').select(hnModeler.get('elementRegistry').get(id))",
                  "window_accept")
    page.wait_for_selector("#platform-panel h3:has-text('window_accept')")
    page.fill("#platform-panel input[name=forecast_days]", "2.5")
    page.press("#platform-panel input[name=forecast_days]", "Tab")
    xml = page.evaluate("async () => (await hnModeler.saveXML()).xml")
    assert 'name="forecast_days" value="2.5"' in xml

"""Browser tests: Playwright drives Debian's Chromium against a real werkzeug server in a thread.

The server runs the whole application on a temporary SQLite database seeded
like the integration tests.  Without Chromium the tests skip saying why,
unless ``REQUIRE_BROWSER=1`` (CI), where they fail instead.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.config import Settings
from app.db import transaction
from app.migrations import upgrade
from app.services.provisioning import reference
from app.wiring import build_platform

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"


@pytest.fixture(scope="session", autouse=True)
def _chromium_present():
    """Skip every browser test without Chromium, saying why; fail instead when REQUIRE_BROWSER=1."""
    if CHROMIUM.exists():
        return
    reason = f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " and REQUIRE_BROWSER=1")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, headless, with nothing reaching out to the network."""
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM),
            "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run"]}


@pytest.fixture(scope="session")
def live_platform(tmp_path_factory):
    """A migrated, seeded platform on a fresh SQLite file."""
    root = tmp_path_factory.mktemp("browser")
    url = f"sqlite:///{root / 'browser.db'}"
    settings = Settings.from_env(DATABASE_URL=url, TESTING=True, SECRET_KEY="browser-test",
                                 UPLOAD_DIR=str(root / "uploads"), SEAL_KEY_DIR=str(root / "keys"),
                                 DOCUMENT_DIR=str(root / "documents"),
                                 AUDIT_KEY_FILE=str(root / "keys" / "audit.key.pem"),
                                 AUDIT_CHECKPOINT_DIR=str(root / "checkpoints"))
    upgrade(url)
    platform = build_platform(settings)
    with transaction(platform.sessions) as session:
        reference.load_organisation(session, platform.catalog)
        reference.deploy_initial(session, platform)
        reference.seed_demo(session, platform)
    from app.services.seal import certs  # seal: the demo root and one seal per issuing unit
    with transaction(platform.sessions, write=False) as session:
        certs.init_demo(session, platform.settings)
    yield platform
    platform.sessions.kw["bind"].dispose()


@pytest.fixture(scope="session")
def live_server(live_platform):
    """The application served by werkzeug on a free local port; yields its base URL."""
    app = create_app(live_platform.settings, platform=live_platform)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    live_platform.settings.BASE_URL = f"http://127.0.0.1:{server.server_port}"  # the QR codes lead here
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def shots():
    """``shots(page, name)`` keeps a full-page screenshot in test-artifacts/browser/."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):  # only this run's pages
        old.unlink()
    counter = iter(range(1, 1000))

    def take(page, name: str) -> Path:
        path = ARTIFACTS / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


# -- the applicant's stage form (app/static/js/apply.js) ------------------------------------------

def refreshed(page, before: int, timeout: float = 15000) -> int:
    """Wait until the checklist was fetched again after ``before`` refreshes; the new count."""
    page.wait_for_function(f"() => Number(document.getElementById('materials').dataset.refreshed || 0) > {before}",
                           timeout=timeout)
    return int(page.get_attribute("#materials", "data-refreshed") or 0)


def checklist_settled(page, timeout: float = 15000) -> None:
    """Wait until the checklist follows the answers as typed now (no refresh pending or in flight)."""
    page.wait_for_selector("#materials[data-pending='0']", state="attached", timeout=timeout)


def upload_in_place(page, name: str, path) -> None:
    row = page.locator(f"#checklist tr[data-material='{name}']")
    row.locator("input[type=file]").set_input_files(str(path))
    row.locator("button").click()
    page.wait_for_selector(f"#checklist tr[data-material='{name}'][data-uploaded='1']")


def upload_every_blocking(page, path) -> list[str]:
    """Upload a file for every material the checklist marks as required and missing, in place."""
    names = page.eval_on_selector_all("#checklist tr[data-blocking='1'][data-uploaded='0']",
                                      "rows => rows.map(r => r.dataset.material)")
    for name in names:
        upload_in_place(page, name, path)
    return names

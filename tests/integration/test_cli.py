"""The CLI: demo-run drives all stages; check finds differences."""

from sqlalchemy import select, update

from app.db import transaction
from app.models import HumanTask, ProcessInstance


def test_demo_run_finishes_every_stage_and_check_is_clean(app, platform):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-run"])
    assert result.exit_code == 0, result.output
    assert "all stages approved" in result.output
    for name in ("立项用地规划许可", "工程建设许可", "施工许可", "竣工验收", "并行推进"):
        assert f"{name}: approved" in result.output
    assert "planning generation: generated after 2 rounds" in result.output
    assert "stage 3's drawing review read the report: 施工图审查机构审查报告（审查合格书）" in result.output
    with transaction(platform.sessions, write=False) as session:
        assert set(session.scalars(select(ProcessInstance.status))) == {"approved"}
    check = runner.invoke(args=["check"])
    assert check.exit_code == 0, check.output


def test_check_reports_a_missing_row(app, platform):
    runner = app.test_cli_runner()
    from tests.integration.test_concurrency import _start
    _start(platform)
    with transaction(platform.sessions) as session:
        session.execute(update(HumanTask).values(status="cancelled"))
    result = runner.invoke(args=["check"])
    assert result.exit_code == 1
    assert "has no open row" in result.output


def test_the_readme_lists_every_demo_account_the_seed_creates(app, platform):
    """The README's table is the output of ``flask demo-accounts``, which reads the seeding's own list."""
    from pathlib import Path

    from app.services.provisioning.reference import demo_accounts
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("<!-- demo-accounts -->\n")[1].split("\n<!-- /demo-accounts -->")[0]
    result = app.test_cli_runner().invoke(args=["demo-accounts"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == table.strip()
    usernames = {a.username for a in demo_accounts(platform)}
    assert {"water_haikou", "window1", "applicant1", "supervisor1", "admin"} <= usernames
    assert all(f"`{name}`" in table for name in usernames)
    assert all(a.lane not in a.display_name for a in demo_accounts(platform) if a.lane)  # no role codes in names

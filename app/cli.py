"""Command line: ``flask --app app init-db | seed-demo | demo-run | check | scheduler``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from .db import transaction
from .migrations import upgrade


def _platform():
    return current_app.extensions["platform"]


def accounts_table(platform) -> str:
    """The demo accounts as a Markdown table: the fixed accounts, then one row per lane role."""
    from .services.provisioning.reference import DEMO_CITIES, demo_accounts

    accounts = demo_accounts(platform)
    cities = {code: platform.catalog.division(code).name for code in DEMO_CITIES}
    fixed = [a for a in accounts if a.lane is None or a.username == "window1"]
    lines = ["| account | who |", "|---|---|"]
    lines += [f"| `{a.username}` | {a.display_name}" + (f" ({a.unit_name})" if a.unit_name and a.username != "window1"
                                                        else "") + " |" for a in fixed]
    lines += ["", "| lane role | department | " + " | ".join(cities.values()) + " |",
              "|---|---|" + "---|" * len(cities)]
    by_role: dict[str, dict[str, object]] = {}
    for a in accounts:
        if a.lane and a.username != "window1":
            by_role.setdefault(a.lane, {})[a.division] = a
    for role, row in by_role.items():
        cells = [f"`{row[d].username}` {row[d].unit_name}" for d in cities]
        lines.append(f"| `{role}` | {platform.catalog.roles[role].name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _scope():
    return transaction(_platform().sessions)


def register_cli(app: Flask) -> None:
    """Attach the platform's commands to the Flask CLI."""

    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the schema, load the catalogue, deploy processes/ as v1."""
        from .services.provisioning import reference
        from .services.timelimits import calendars
        upgrade(_platform().settings.DATABASE_URL)
        with _scope() as session:
            counts = reference.load_organisation(session, _platform().catalog)
            deployment = reference.deploy_initial(session, _platform())
            years = calendars.seed_table(session, _platform())  # the holiday table: the file seeds the database
        click.echo(f"schema up to date; {counts['divisions']} divisions, {counts['units']} units, "
                   f"{counts['routes']} routes loaded" + (f"; holiday table seeded ({years} years)" if years else ""))
        click.echo(f"deployed processes/ as version {deployment.version}" if deployment
                   else "processes already deployed")
        from .seal_cli import init_seals  # seal: demo root CA, one seal per issuing unit, the PDF font
        init_seals(_platform(), click.echo)

    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo enterprise and accounts (password Demo@2026)."""
        from .services.provisioning import reference
        with _scope() as session:
            users = reference.seed_demo(session, _platform())
        click.echo(f"{len(users)} demo accounts, password {reference.DEMO_PASSWORD}:")
        click.echo(accounts_table(_platform()))

    @app.cli.command("demo-accounts")
    def demo_accounts():
        """Print the demo accounts as the README's Markdown table (generated from the seeding)."""
        click.echo(accounts_table(_platform()))

    @app.cli.command("demo-run")
    @click.option("--division", default="460100", help="Division of the demo project.")
    def demo_run(division: str):
        """Drive a new project through all four stages and the parallel track; then a generated project with
        a commissioned drawing review through stage 3."""
        from sqlalchemy import select

        from .models import User
        from .services.provisioning.demo import run_all_stages
        with _scope() as session:
            applicant = session.scalar(select(User).where(User.username == "applicant1"))
            if applicant is None:
                raise click.ClickException("run seed-demo first")
        code = run_all_stages(_scope, _platform(), applicant.id, division, say=click.echo)
        click.echo(f"project {code}: all stages approved")
        from .services.provisioning.portal_platforms import run_platforms  # 项目策划生成 and 中介服务
        generated = run_platforms(_scope, _platform(), applicant.id, say=click.echo)
        click.echo(f"project {generated}: generated, stage 1 shortened, drawing review delivered and used")
        from .services.exchange import service
        front = service.front_database(_platform().settings.SPGL_URL)
        click.echo(f"national data exchange, simulated national side ({front.engine.url.render_as_string()}):")
        service.settle(_scope, _platform(), front, say=click.echo)

    @app.cli.command("exchange-push")
    @click.option("--simulate", is_flag=True, help="Let the simulated national side answer afterwards (demo).")
    def exchange_push(simulate: bool):
        """One SPGL exchange run: read back the national answers, push new and changed rows."""
        from .services.exchange import push, service, simulator
        front = service.front_database(_platform().settings.SPGL_URL)
        with _scope() as session:
            totals = push.run(session, _platform(), front).summary()
        if simulate:
            totals.update(simulator.check(front, _platform().now()))
        click.echo(", ".join(f"{k} {v}" for k, v in totals.items()))

    @app.cli.command("check")
    def check():
        """Every ready user task has exactly one open row and every open row its task."""
        from .services.workflow.consistency import check_all
        with transaction(_platform().sessions, write=False) as session:
            problems = check_all(session, _platform())
        for problem in problems:
            click.echo(problem)
        if problems:
            click.echo(f"{len(problems)} difference(s)")
            sys.exit(1)
        click.echo("consistent: every ready user task has exactly one open task row")

    @app.cli.command("scheduler")
    def scheduler():
        """Run the timer scheduler (its own process, never inside a web worker)."""
        from .scheduler import run_forever
        run_forever(_platform())

    from .history_cli import register as register_history  # oversight: flask seed-history
    register_history(app)
    from .seal_cli import register as register_seal  # seal and trail: flask seal …, flask audit verify
    register_seal(app)
    from .forecast_cli import register as register_forecast  # forecast: learn, backtest, candidate
    register_forecast(app)

    @app.cli.command("export-processes")
    @click.option("--version", "version", type=int, required=True, help="The deployed version to export.")
    @click.argument("directory", type=click.Path(file_okay=False))
    def export_processes(version: int, directory: str):
        """Write the files of a deployed version into DIRECTORY (laid out like processes/)."""
        from .errors import AppError
        from .services.flows import versions
        try:
            with transaction(_platform().sessions, write=False) as session:
                written = versions.export_to_directory(session, version, directory)
        except AppError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo(f"version {version}: {len(written)} file(s) written to {directory}")

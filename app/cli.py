"""Command line: ``flask --app app init-db | seed-demo | demo-run | check | scheduler``."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app

from .db import transaction
from .migrations import upgrade


def _platform():
    return current_app.extensions["platform"]


def _scope():
    return transaction(_platform().sessions)


def register_cli(app: Flask) -> None:
    """Attach the platform's commands to the Flask CLI."""

    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the schema, load the catalogue, deploy processes/ as v1."""
        from .services.provisioning import reference
        upgrade(_platform().settings.DATABASE_URL)
        with _scope() as session:
            counts = reference.load_organisation(session, _platform().catalog)
            deployment = reference.deploy_initial(session, _platform())
        click.echo(f"schema up to date; {counts['divisions']} divisions, {counts['units']} units, "
                   f"{counts['routes']} routes loaded")
        click.echo(f"deployed processes/ as version {deployment.version}" if deployment
                   else "processes already deployed")

    @app.cli.command("seed-demo")
    def seed_demo():
        """Create the demo enterprise and accounts (password Demo@2026)."""
        from .services.provisioning import reference
        with _scope() as session:
            users = reference.seed_demo(session, _platform())
        click.echo(f"{len(users)} demo accounts, password {reference.DEMO_PASSWORD}:")
        for name in ("applicant1", "window1", "planning_haikou", "fire_haikou", "analyst1",
                     "supervisor1", "admin"):
            click.echo(f"  {name}")
        click.echo("  (officers are named <role>_<city>: e.g. drc_haikou, housing_sanya, window_qionghai)")

    @app.cli.command("demo-run")
    @click.option("--division", default="460100", help="Division of the demo project.")
    def demo_run(division: str):
        """Drive a new project through all four stages and the parallel track."""
        from sqlalchemy import select

        from .models import User
        from .services.provisioning.demo import run_all_stages
        with _scope() as session:
            applicant = session.scalar(select(User).where(User.username == "applicant1"))
            if applicant is None:
                raise click.ClickException("run seed-demo first")
        code = run_all_stages(_scope, _platform(), applicant.id, division, say=click.echo)
        click.echo(f"project {code}: all stages approved")

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

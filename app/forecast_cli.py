"""``flask forecast …``: learn the model now, backtest it on history, forecast a candidate version."""

from __future__ import annotations

import json
import sys
import time

import click
from flask import Flask, current_app

from .db import transaction
from .errors import AppError


def register(app: Flask) -> None:
    """Attach the ``forecast`` command group to the Flask CLI."""

    @app.cli.group("forecast")
    def forecast():
        """Forecasts from the platform's own history."""

    @forecast.command("learn")
    def learn():
        """Learn the model from the history up to now and store it (what the scheduler does nightly)."""
        from .services.forecast import store
        platform = current_app.extensions["platform"]
        started = time.perf_counter()
        with transaction(platform.sessions) as session:
            row = store.refresh(session, platform)
            click.echo(f"forecast model {row.id}: {row.instances} stage applications, {row.tasks} tasks, "
                       f"up to {row.until:%Y-%m-%d %H:%M} UTC, in {time.perf_counter() - started:.1f} s")

    @forecast.command("backtest")
    @click.option("--share", type=click.FloatRange(0.5, 0.95), default=0.8, show_default=True,
                  help="The share of the history (by time) the model learns from.")
    @click.option("--simulated", type=click.IntRange(10, 10_000), default=400, show_default=True,
                  help="Simulated applications per stage.")
    @click.option("--seed", type=int, default=1, show_default=True)
    @click.option("--json", "as_json", type=click.Path(dir_okay=False), default=None,
                  help="Also write the figures to this file.")
    def backtest(share: float, simulated: int, seed: int, as_json: str | None):
        """Learn from the first 80 % of history, forecast the last 20 %, compare per stage with the naive forecast."""
        from .services.forecast import backtest as bt
        platform = current_app.extensions["platform"]
        started = time.perf_counter()

        def progress(stage, done, total):
            click.echo(f"\r{stage}: {done}/{total} simulated", nl=False, err=True)

        with platform.sessions() as session:
            result = bt.backtest(session, platform, share=share, seed=seed, simulated=simulated, progress=progress)
        click.echo("", err=True)
        click.echo(f"learnt from {result['first'][:10]} – {result['cut'][:10]} "
                   f"({result['model_instances']} applications), forecast {result['cut'][:10]} – "
                   f"{result['last'][:10]}; targets: median within ±15 %, p90 within ±25 %, EMD below naive")
        click.echo(bt.table(result))
        click.echo(f"{time.perf_counter() - started:.0f} s")
        if as_json:
            with open(as_json, "w", encoding="utf-8") as out:
                json.dump(result, out, ensure_ascii=False, indent=1)

    @forecast.command("candidate")
    @click.argument("version", type=int)
    @click.option("--stage", "stages", multiple=True, help="Stage keys (default: those that differ).")
    @click.option("--projects", "n", type=click.IntRange(1, 5000), default=1000, show_default=True)
    @click.option("--seed", type=int, default=1, show_default=True)
    @click.option("--workers", type=click.IntRange(1, 16), default=None, help="Simulation processes.")
    def candidate_command(version: int, stages, n: int, seed: int, workers: int | None):
        """Forecast a draft (or older) version against the active one, as the activation page does."""
        from .services.flows.deployments import active_version
        from .services.forecast import candidate, store
        platform = current_app.extensions["platform"]
        with platform.sessions() as session:
            model = store.current(session)
            if model is None:
                raise click.ClickException("no model yet: run `flask forecast learn` first")
            active = active_version(session)
            chosen = list(stages) or candidate.changed_stages(session, version, active)
        started = time.perf_counter()
        try:
            result = candidate.forecast(platform, model, version, active, chosen, n, seed,
                                        workers or platform.settings.FORECAST_WORKERS,
                                        lambda d, t: click.echo(f"\r{d}/{t}", nl=False, err=True))
        except AppError as exc:
            raise click.ClickException(exc.message) from exc
        click.echo("", err=True)
        json.dump(result, sys.stdout, ensure_ascii=False, indent=1)
        click.echo(f"\n{time.perf_counter() - started:.1f} s", err=True)

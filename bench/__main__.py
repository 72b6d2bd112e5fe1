"""``python -m bench``: every benchmark, each figure printed beside its target."""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid

from sqlalchemy import create_engine, text

from . import forecast, http_load, lifecycle, oversight, scale, seal, timers
from .report import Report

PG_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_schema() -> tuple[str | None, str | None]:
    """A fresh schema on the local PostgreSQL, or (None, None) when there is none."""
    schema = f"hn_bench_{uuid.uuid4().hex[:8]}"
    try:
        engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001
        print(f"PostgreSQL not reachable at {PG_URL} ({exc.__class__.__name__}): its figures are skipped")
        return None, None
    return f"{PG_URL}?options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=["lifecycle", "http", "scale", "timers", "oversight", "seal",
                                           "forecast"],
                        help="run one group")
    parser.add_argument("--projects", type=int, default=200_000, help="projects generated for the scale run")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the HTTP runs")
    args = parser.parse_args()
    report = Report()
    schemas = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "lifecycle"):
            print("stage lifecycles (engine, services, long correction history)")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            lifecycle.run(report, f"sqlite:///{tmp}/bench.db", pg_url)
        if args.only in (None, "http"):
            print("HTTP: gunicorn, 2 workers, PostgreSQL")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            if pg_url:
                def fresh():
                    url, extra = postgres_schema()
                    schemas.append(extra)
                    return url
                http_load.run(report, pg_url, args.seconds, fresh)
        if args.only in (None, "scale"):
            print(f"data at scale: {args.projects} projects, page times (server side)")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            scale.run(report, f"sqlite:///{tmp}/scale.db", pg_url, args.projects)
        if args.only in (None, "timers"):
            print(f"timers: {timers.PENDING:,} pending, {timers.DUE:,} due; real timers fired by a scheduler process")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            timers.run(report, pg_url)
        if args.only in (None, "oversight"):
            print("supervision dashboard: the seed-scale history, each query's p95 (PostgreSQL)")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            oversight.run(report, pg_url)
        if args.only in (None, "seal"):
            print("seal and trail: render + sign one result; verify a 100,000-row audit chain")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            seal.run(report, tmp, pg_url)
        if args.only in (None, "forecast"):
            print("forecasting: backtest on generated history, applicant ETA, a 1,000-project forecast (PostgreSQL)")
            pg_url, schema = postgres_schema()
            schemas.append(schema)
            forecast.run(report, pg_url)
    for schema in filter(None, schemas):
        drop_schema(schema)
    report.write()
    missed = [f.name for f in report.figures if f.ok is False]
    print(f"{len(report.figures)} figures written to bench/results.json; targets missed: {missed or 'none'}")


if __name__ == "__main__":
    main()

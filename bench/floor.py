"""The floor: a bare Flask + SQLAlchemy Core app doing the least a completion must.

It answers the same API paths the HTTP clients of ``bench.http_load`` call, with
the shape of the five-task flow (accept, three parallel reviews, issue), so the
very same client drives it.  A completion locks the instance row, rewrites a
state of about 2 KB, closes the task row (and opens the next ones), inserts an
audit row and commits: what no platform can skip.  Our HTTP figures are
reported as a ratio of this app's, measured in the same run on the same
machine, which takes the machine's speed (and its noise) out of the targets.

Run by gunicorn as ``bench.floor:create_app()`` with ``DATABASE_URL`` set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets

from flask import Flask, abort, jsonify, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, create_engine, insert, select, update

metadata = MetaData()
instance = Table("floor_instance", metadata,
                 Column("id", Integer, primary_key=True),
                 Column("code", String(40), unique=True, nullable=False),
                 Column("state", Text, nullable=False),
                 Column("version", Integer, nullable=False))
task = Table("floor_task", metadata,
             Column("id", Integer, primary_key=True),
             Column("instance_id", Integer, nullable=False, index=True),
             Column("name", String(40), nullable=False),
             Column("lane", String(40), nullable=False),
             Column("form", String(60), nullable=False),
             Column("status", String(12), nullable=False))
audit = Table("floor_audit", metadata,
              Column("id", Integer, primary_key=True),
              Column("instance_id", Integer, nullable=False),
              Column("at", DateTime(timezone=True), nullable=False),
              Column("detail", Text, nullable=False))

REVIEWS = (("review_drc", "drc"), ("review_planning", "planning"), ("review_environment", "environment"))
ACCEPT = ("window_accept", "window", "window_accept.schema.json")
ISSUE = ("window_issue", "window", "window_issue.schema.json")


def _state(done: list[str]) -> str:
    """About 2 KB of state, as a real instance keeps (its data and finished steps)."""
    return json.dumps({"done": done, "data": {"filler": "x" * 1900}})


def create_tables(url: str) -> None:
    """Create the floor's three tables."""
    engine = create_engine(url)
    metadata.create_all(engine)
    engine.dispose()


def create_app() -> Flask:
    """The floor app on ``DATABASE_URL``."""
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=5)
    app = Flask(__name__)

    def _user() -> None:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            abort(401)

    def _open(conn, instance_id: int, specs) -> None:
        conn.execute(insert(task), [{"instance_id": instance_id, "name": n, "lane": lane, "form": form,
                                     "status": "open"} for n, lane, form in specs])

    @app.post("/api/v1/auth/token")
    def token():
        return jsonify(token=secrets.token_urlsafe(16))

    @app.post("/api/v1/projects")
    def project():
        _user()
        return jsonify(code=f"FLOOR-{secrets.token_hex(8)}"), 201

    @app.post("/api/v1/projects/<code>/stages/<stage>/applications")
    def apply(code: str, stage: str):
        _user()
        with engine.begin() as conn:
            instance_id = conn.execute(insert(instance).values(code=code, state=_state([]), version=1)
                                       .returning(instance.c.id)).scalar_one()
            _open(conn, instance_id, [ACCEPT])
        return jsonify(id=instance_id), 201

    @app.get("/api/v1/tasks")
    def tasks():
        _user()
        with engine.connect() as conn:
            rows = conn.execute(select(task.c.id, task.c.lane, task.c.form).join(
                instance, instance.c.id == task.c.instance_id).where(
                instance.c.code == request.args["project"], task.c.status == "open").order_by(task.c.id)).all()
        return jsonify(tasks=[{"id": r.id, "lane": r.lane, "form": r.form} for r in rows])

    @app.post("/api/v1/tasks/<int:task_id>/complete")
    def complete(task_id: int):
        _user()
        data = request.get_json()["data"]
        with engine.begin() as conn:
            row = conn.execute(select(task).where(task.c.id == task_id)).one_or_none()
            if row is None or row.status != "open":
                abort(409)
            inst = conn.execute(select(instance).where(instance.c.id == row.instance_id)
                                .with_for_update()).one()
            done = json.loads(inst.state)["done"] + [row.name]
            conn.execute(update(instance).where(instance.c.id == inst.id)
                         .values(state=_state(done), version=inst.version + 1))
            conn.execute(update(task).where(task.c.id == task_id).values(status="completed"))
            if row.name == ACCEPT[0]:
                _open(conn, inst.id, [(n, lane, "review.schema.json") for n, lane in REVIEWS])
            elif row.name.startswith("review_") and all(n in done for n, _ in REVIEWS):
                _open(conn, inst.id, [ISSUE])
            conn.execute(insert(audit).values(instance_id=inst.id, at=dt.datetime.now(dt.UTC),
                                              detail=json.dumps({"task": row.name, "outcome": data.get("outcome")})))
        return jsonify(id=task_id, status="completed")

    return app

"""(d) Over HTTP: gunicorn with 2 workers on PostgreSQL, clients driving stage 1.

Each client process declares a project, files stage 1 and completes every task
as its lane's officer (finding them through the inbox) until the stage ends,
then starts the next project.  Four clients measure throughput; one client
alone measures the latency of a completion request.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from app.services.provisioning import demo
from app.stages import BY_KEY

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Demo@2026"
def officer_for(lane: str) -> str:
    """The demo account working a lane in 海口 (the demo project's city)."""
    return {"window": "window1", "applicant": "applicant1"}.get(lane, f"{lane}_haikou")


class Client:
    """A tiny keep-alive-free JSON client over http.client."""

    def __init__(self, port: int):
        self.port = port
        self.tokens: dict[str, str] = {}

    def call(self, method: str, path: str, body=None, user: str | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Content-Type": "application/json"}
        if user:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        conn.request(method, f"/api/v1{path}", body=json.dumps(body) if body is not None else None,
                     headers=headers)
        response = conn.getresponse()
        data = json.loads(response.read() or b"null")
        conn.close()
        return response.status, data

    def login(self, *users: str) -> None:
        for user in users:
            status, data = self.call("POST", "/auth/token", {"username": user, "password": PASSWORD})
            assert status == 200, data
            self.tokens[user] = data["token"]


def drive_projects(port: int, seconds: float, queue) -> None:
    """Client process: drive stage-1 lifecycles for ``seconds``; report completions and latencies."""
    client = Client(port)
    client.login("admin", "applicant1")
    today = dt.date.today()
    completions, latencies = 0, []
    deadline = time.perf_counter() + seconds

    class P:
        name = "压测项目"
        investment_type = "ratification"

    while time.perf_counter() < deadline:
        status, project = client.call("POST", "/projects", {"name": "压测项目", "division": "460100",
                                                            "investment_type": "ratification"}, "applicant1")
        assert status == 201, project
        code = project["code"]
        data = demo.stage_application(BY_KEY["initiation"], P, today)
        status, body = client.call("POST", f"/projects/{code}/stages/initiation/applications",
                                   {"data": data}, "applicant1")
        assert status == 201, body
        while True:
            status, inbox = client.call("GET", f"/tasks?project={code}", user="admin")
            if not inbox["tasks"]:
                break
            for task in inbox["tasks"]:
                answer = demo.task_answer(task["form"], task["id"], today)
                user = officer_for(task["lane"])
                if user not in client.tokens:
                    client.login(user)
                start = time.perf_counter()
                status, body = client.call("POST", f"/tasks/{task['id']}/complete", {"data": answer}, user)
                latencies.append(time.perf_counter() - start)
                assert status == 200, body
                completions += 1
    queue.put((completions, latencies))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str) -> tuple[subprocess.Popen, int]:
    """Start gunicorn with 2 workers against ``database_url``; wait until it answers."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen([str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                               "--log-level", "warning", "app:create_app()"], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def run_clients(port: int, clients: int, seconds: float) -> tuple[int, list[float], float]:
    """Run ``clients`` client processes; return completions, latencies and elapsed time."""
    queue = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=drive_projects, args=(port, seconds, queue)) for _ in range(clients)]
    start = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - start
    return sum(r[0] for r in results), [x for r in results for x in r[1]], elapsed


def run(report, postgres_url: str, seconds: float = 20.0) -> None:
    """Measure (d) and add it to the report."""
    from .lifecycle import make_platform
    make_platform(postgres_url)
    server, port = start_server(postgres_url)
    try:
        run_clients(port, 1, 2.0)  # warm-up: both workers load specs and catalogue
        completions, _, elapsed = run_clients(port, 4, seconds)
        report.add("http_4_clients_task_completions_per_s", completions / (elapsed - 1.0),
                   "completions/s", ">= 170", "gunicorn 2 workers, PostgreSQL")
        _, latencies, _ = run_clients(port, 1, seconds / 2)
        latencies.sort()
        p95 = latencies[int(len(latencies) * 0.95) - 1] * 1000
        report.add("http_1_client_completion_p95_ms", p95, "ms", "<= 50")
        report.add("http_1_client_completion_median_ms", statistics.median(latencies) * 1000, "ms")
    finally:
        server.terminate()
        server.wait(timeout=10)

"""(d) Over HTTP: gunicorn with 2 workers on PostgreSQL, clients driving stage 1.

Each client process declares a project, files stage 1 (uploading the materials the filing's
422 lists, as an applicant would; that upload time is left out of the rates, which are about
completing tasks) and completes every task
as its lane's officer (finding them through the inbox) until the stage ends,
then starts the next project.  Four clients measure throughput; one client
alone measures the latency of a completion request.

Two workloads run on the platform: the shipped stage 1 and a minimal five-task
flow (``bench/flows/minimal_initiation.bpmn``: accept, three parallel reviews in
three lanes, issue), which isolates what the platform costs per completion from
the size of the flow.  The same client drives the floor (``bench.floor``) before
and after them, and each of our figures is also reported as a ratio of the
floor's mean in this run.
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
        self.upload_seconds = 0.0  # spent uploading the applications' materials (left out of the rates)

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

    def upload(self, path: str, name: str, content: bytes, user: str):
        """POST one material as multipart/form-data."""
        boundary = "----bench" + os.urandom(8).hex()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n{name}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.pdf\"\r\n"
                f"Content-Type: application/pdf\r\n\r\n").encode() + content + f"\r\n--{boundary}--\r\n".encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        conn.request("POST", f"/api/v1{path}", body=body,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                              "Authorization": f"Bearer {self.tokens[user]}"})
        response = conn.getresponse()
        data = json.loads(response.read() or b"null")
        conn.close()
        return response.status, data

    def file_stage(self, code: str, stage_key: str, data: dict, user: str):
        """File a stage application; refused for missing materials, upload them (as an applicant would), refile."""
        path = f"/projects/{code}/stages/{stage_key}/applications"
        status, body = self.call("POST", path, {"data": data}, user)
        missing = (body or {}).get("error", {}).get("missing_materials") if status == 422 else None
        if missing:
            began = time.perf_counter()
            for name in missing:
                uploaded, answer = self.upload(f"/projects/{code}/materials", name, demo.DEMO_PDF, user)
                assert uploaded == 201, answer
            self.upload_seconds += time.perf_counter() - began
            status, body = self.call("POST", path, {"data": data}, user)
        return status, body

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
    began = time.perf_counter()
    deadline = began + seconds

    class P:
        name = "压测项目"
        investment_type = "ratification"

    while time.perf_counter() < deadline:
        status, project = client.call("POST", "/projects", {"name": "压测项目", "division": "460100",
                                                            "investment_type": "ratification"}, "applicant1")
        assert status == 201, project
        code = project["code"]
        data = demo.stage_application(BY_KEY["initiation"], P, today)
        status, body = client.file_stage(code, "initiation", data, "applicant1")
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
    queue.put((completions, latencies, time.perf_counter() - began - client.upload_seconds))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(database_url: str, app: str = "app:create_app()") -> tuple[subprocess.Popen, int]:
    """Start gunicorn with 2 workers against ``database_url``; wait until it answers."""
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=database_url)
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen([str(gunicorn), "--workers", "2", "--bind", f"127.0.0.1:{port}",
                               "--log-level", "warning", app], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def run_clients(port: int, clients: int, seconds: float) -> tuple[float, list[float]]:
    """Run ``clients`` client processes; return completions per second (summed over the clients,
    each over its own driving time, so process start-up does not count) and latencies."""
    queue = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=drive_projects, args=(port, seconds, queue)) for _ in range(clients)]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 120) for _ in procs]
    for p in procs:
        p.join()
    return sum(r[0] / r[2] for r in results), [x for r in results for x in r[1]]


MINIMAL_FLOW = ROOT / "bench" / "flows" / "minimal_initiation.bpmn"


def deploy_minimal_flow(platform) -> None:
    """Make the five-task flow the active stage 1 of ``platform``'s database."""
    from app.db import transaction
    from app.services.flows import deployments
    from engine.specs import read_directory
    files = dict(read_directory(ROOT / "processes"))
    files["stages/initiation.bpmn"] = MINIMAL_FLOW.read_bytes()
    with transaction(platform.sessions) as session:
        deployments.deploy(session, platform, files, "bench", "five-task flow", activate=True)


def p95_ms(latencies: list[float]) -> float:
    """The 95th percentile of request times, in ms."""
    latencies = sorted(latencies)
    return latencies[max(int(len(latencies) * 0.95) - 1, 0)] * 1000


def measure(postgres_url: str, seconds: float, app: str = "app:create_app()") -> dict[str, float]:
    """Throughput with 4 clients and 1-client latency of one server (started and stopped here)."""
    server, port = start_server(postgres_url, app)
    try:
        run_clients(port, 1, 2.0)  # warm-up: both workers load specs and catalogue
        tps, _ = run_clients(port, 4, seconds)
        _, latencies = run_clients(port, 1, seconds / 2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"tps": tps, "p95": p95_ms(latencies),
            "median": statistics.median(latencies) * 1000}


def run(report, postgres_url: str, seconds: float = 20.0, schema_for=None) -> None:
    """Measure (d) on both workloads and the floor around them, and add it to the report.

    ``schema_for()`` gives a fresh database URL for each further server (the floor, the
    five-task flow); without it all share ``postgres_url``.
    """
    from . import floor
    from .lifecycle import make_platform
    fresh = schema_for or (lambda: postgres_url)
    floor_url = fresh()
    floor.create_tables(floor_url)
    floors = [measure(floor_url, seconds, "bench.floor:create_app()")]
    make_platform(postgres_url)
    stage1 = measure(postgres_url, seconds)
    five_url = fresh()
    deploy_minimal_flow(make_platform(five_url))
    five = measure(five_url, seconds)
    floors.append(measure(floor_url, seconds, "bench.floor:create_app()"))
    floor_tps = statistics.mean(f["tps"] for f in floors)
    floor_p95 = statistics.mean(f["p95"] for f in floors)
    report.add("http_floor_4_clients_completions_per_s", floor_tps, "completions/s",
               note="bare Flask + Core, same client; runs: " + ", ".join(f"{f['tps']:.0f}" for f in floors))
    report.add("http_floor_1_client_p95_ms", floor_p95, "ms",
               note="runs: " + ", ".join(f"{f['p95']:.1f}" for f in floors))
    report.add("http_4_clients_task_completions_per_s", stage1["tps"], "completions/s", ">= 170",
               "stage 1, gunicorn 2 workers, PostgreSQL")
    report.add("http_1_client_completion_p95_ms", stage1["p95"], "ms", "<= 50")
    report.add("http_1_client_completion_median_ms", stage1["median"], "ms")
    report.add("http_stage1_throughput_vs_floor", stage1["tps"] / floor_tps, "ratio", ">= 0.5")
    report.add("http_stage1_p95_vs_floor", stage1["p95"] / floor_p95, "ratio", "<= 2.0")
    report.add("http_five_task_completions_per_s", five["tps"], "completions/s", note="4 clients")
    report.add("http_five_task_1_client_p95_ms", five["p95"], "ms")
    report.add("http_five_task_throughput_vs_floor", five["tps"] / floor_tps, "ratio", ">= 0.5")
    report.add("http_five_task_p95_vs_floor", five["p95"] / floor_p95, "ratio", "<= 2.0")

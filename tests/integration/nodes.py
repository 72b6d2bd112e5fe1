"""Several platform nodes on one PostgreSQL: gunicorn web nodes and schedulers as real processes.

Each node is a separate gunicorn (or ``flask scheduler``) process with its own
memory (caches, live workflows), as on separate machines; only the database is shared.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_env(url: str, **settings) -> dict[str, str]:
    """The environment of a node: the shared database and ``HN_*`` settings."""
    env = dict(os.environ, DATABASE_URL=url, HN_SECRET_KEY="cluster-test-" + "k" * 40, HN_SPGL_URL=url,
               FLASK_APP="app", PYTHONPATH=str(ROOT))
    env.update({f"HN_{name}": str(value) for name, value in settings.items()})
    return env


class Node:
    """One gunicorn node (``workers`` processes) serving the platform on its own port."""

    def __init__(self, url: str, workers: int = 1, **settings):
        self.port = free_port()
        self.process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{self.port}",
             "--graceful-timeout", "2", "--log-level", "warning", "app:create_app()"],
            cwd=ROOT, env=node_env(url, **settings), start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"node exited with {self.process.returncode}") from None
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("node did not start")

    def call(self, method: str, path: str, body=None, token: str | None = None, headers: dict | None = None,
             timeout: float = 30):
        """One request; returns (status, JSON body). Raises OSError when the node is gone."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        try:
            conn.request(method, f"/api/v1{path}", body=json.dumps(body) if body is not None else None,
                         headers=sent)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        return response.status, (json.loads(raw) if raw else None)

    def token(self, username: str, password: str = "Demo@2026") -> str:
        status, body = self.call("POST", "/auth/token", {"username": username, "password": password})
        assert status == 200, body
        return body["token"]

    def kill(self) -> None:
        """kill -9 the whole node (master and workers), as a machine that dies."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


class Scheduler:
    """One ``flask scheduler`` process (timers, time limits) on the shared database."""

    def __init__(self, url: str, **settings):
        self.process = subprocess.Popen([str(BIN / "flask"), "scheduler"], cwd=ROOT,
                                        env=node_env(url, **settings), start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

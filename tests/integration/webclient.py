"""A page client for tests: logs in through the login form and posts forms with their CSRF token."""

from __future__ import annotations

import re

from app.services.provisioning import reference

TOKEN = re.compile(r'name="csrf-token" content="([^"]+)"')


class Pages:
    """Drives the server-rendered pages like a browser would (cookies, CSRF token)."""

    def __init__(self, client, username: str | None = None, password: str = reference.DEMO_PASSWORD):
        self.client = client
        if username:
            response = self.post("/login", {"username": username, "password": password})
            assert response.status_code == 302, response.get_data(as_text=True)[:500]

    def token(self) -> str:
        """A CSRF token from any page of the session."""
        return TOKEN.search(self.client.get("/login").get_data(as_text=True)).group(1)

    def get(self, path: str, **kw):
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict | None = None, **kw):
        data = dict(data or {})
        data.setdefault("csrf_token", self.token())
        return self.client.post(path, data=data, **kw)

    def text(self, path: str, status: int = 200) -> str:
        response = self.client.get(path)
        assert response.status_code == status, (path, response.status_code, response.get_data(as_text=True)[:800])
        return response.get_data(as_text=True)

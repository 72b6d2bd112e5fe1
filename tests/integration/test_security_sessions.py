"""Issue 9, findings 1, 2 and 6 (throttling, tokens): sessions that cannot be forged, safe redirects."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import stat

import pytest
from sqlalchemy import select

from app import create_app
from app.db import transaction
from app.models import LoginFailure, User, UserSession
from app.services.security.keys import InsecureSecretKey, secret_key
from app.services.security.redirects import safe_next

from .webclient import Pages


def _cookie(client) -> str:
    return client.get_cookie("session").value


def _user(platform, username: str) -> User:
    with transaction(platform.sessions, write=False) as s:
        return s.scalar(select(User).where(User.username == username))


def test_a_re_signed_cookie_does_not_make_an_administrator(app, platform, client):
    """Finding 1: with the signing key, the old cookie (user_id + hash tail) opened /admin/."""
    Pages(client, "applicant1")
    serializer = app.session_interface.get_signing_serializer(app)
    mine = serializer.loads(_cookie(client))
    assert "user_id" not in mine and "pw" not in mine  # the cookie carries no account facts
    admin = _user(platform, "admin")
    for forged in ({**mine, "user_id": admin.id, "pw": admin.password_hash[-16:]},
                   {"user_id": admin.id, "pw": admin.password_hash[-16:]},
                   {"sid": "guessed-session-token"}):
        attacker = app.test_client()
        attacker.set_cookie("session", serializer.dumps(forged))
        response = attacker.get("/admin/")
        # still the applicant (403) or nobody (to the login page): never the administrator
        assert response.status_code == 403 or (response.status_code == 302
                                                and "/login" in response.headers["Location"]), forged


def test_every_seeded_account_has_its_own_salt(platform):
    from app.services.provisioning.reference import demo_accounts
    names = [a.username for a in demo_accounts(platform)]
    with transaction(platform.sessions, write=False) as s:
        hashes = s.scalars(select(User.password_hash).where(User.username.in_(names))).all()
    assert len(hashes) == len(names) > 50 and len(set(hashes)) == len(hashes)


def test_a_cookie_saved_before_logout_no_longer_works(app, platform, client):
    pages = Pages(client, "applicant1")
    saved = _cookie(client)
    assert client.get("/portal/").status_code == 200
    with transaction(platform.sessions, write=False) as s:
        row = s.scalars(select(UserSession).where(UserSession.user_id == _user(platform, "applicant1").id)).one()
        assert row.revoked_at is None and row.created_at and row.last_seen_at
    pages.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/portal/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    with transaction(platform.sessions, write=False) as s:
        assert s.get(UserSession, row.id).revoked_at is not None


def test_a_session_ends_when_idle_too_long(platform, client):
    Pages(client, "applicant1")
    with transaction(platform.sessions) as s:
        for row in s.scalars(select(UserSession)):
            row.last_seen_at -= dt.timedelta(minutes=platform.settings.SESSION_IDLE_MINUTES + 1)
    assert client.get("/portal/").status_code == 302


def test_a_password_change_ends_every_session_and_token(app, platform, client, login):
    other_browser = app.test_client()
    Pages(other_browser, "applicant1")
    api = login("applicant1")
    assert api.get("/me").status_code == 200
    pages = Pages(client, "applicant1")
    bad = pages.post("/account", {"current": "wrong", "new": "Newpass2026", "confirm": "Newpass2026"})
    assert bad.status_code == 422
    good = pages.post("/account", {"current": "Demo@2026", "new": "Newpass2026", "confirm": "Newpass2026"})
    try:
        assert good.status_code == 302
        assert client.get("/portal/").status_code == 200  # this browser goes on
        assert other_browser.get("/portal/").status_code == 302  # the other one is logged out
        from app.api import forget_cached_tokens
        forget_cached_tokens()
        assert api.get("/me").status_code == 401
    finally:
        with transaction(platform.sessions) as s:
            from app.services.people.accounts import hash_password
            s.scalar(select(User).where(User.username == "applicant1")).password_hash = \
                hash_password("Demo@2026", fast=True)


def test_tokens_are_listed_and_revoked_by_their_owner(client, login):
    first, second = login("applicant1"), login("applicant1")
    listed = first.get("/auth/tokens").get_json()["tokens"]
    assert len(listed) >= 2 and sum(t["current"] for t in listed) == 1
    assert all("token" not in t and "token_hash" not in t for t in listed)
    theirs = [t for t in second.get("/auth/tokens").get_json()["tokens"] if t["current"]][0]
    window = login("window1")
    assert window.client.delete(f"/api/v1/auth/tokens/{theirs['id']}", headers=window.headers).status_code == 404
    assert second.get("/me").status_code == 200
    assert first.client.delete(f"/api/v1/auth/tokens/{theirs['id']}", headers=first.headers).status_code == 204
    assert second.get("/me").status_code == 401
    assert first.get("/me").status_code == 200


# -- the signing key ---------------------------------------------------------------------------

def test_the_published_default_key_is_refused_outside_tests(platform):
    for key in ("change-me-in-production", "short"):
        settings = dataclasses.replace(platform.settings, TESTING=False, SECRET_KEY=key)
        with pytest.raises(InsecureSecretKey):
            create_app(settings, platform=platform)


def test_a_random_key_is_made_on_first_start_and_kept_private(platform, tmp_path):
    settings = dataclasses.replace(platform.settings, TESTING=False, SECRET_KEY="",
                                   SECRET_KEY_FILE=str(tmp_path / "var" / "secret_key"))
    app = create_app(settings, platform=platform)
    path = tmp_path / "var" / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert app.secret_key == path.read_text() and len(app.secret_key) >= 32
    assert secret_key(settings) == app.secret_key  # the next start (or worker) reads the same key
    other = dataclasses.replace(settings, SECRET_KEY_FILE=str(tmp_path / "other"))
    assert secret_key(other) != app.secret_key


# -- redirects ----------------------------------------------------------------------------------

HOSTILE = ["//evil.example/x", "/\t/evil.example/x", "/%09/evil.example/x", "/\\evil.example", "\\\\evil.example",
           "https://evil.example/", "/\r\nSet-Cookie: x=1", "javascript:alert(1)", "/\u202e/evil", "evil.example",
           "/\x00/", " /portal/", "///evil.example"]


@pytest.mark.parametrize("target", HOSTILE)
def test_safe_next_refuses_anything_but_a_same_site_path(target):
    assert safe_next(target) is None


def test_safe_next_keeps_ordinary_paths():
    assert safe_next("/portal/projects/X?instance=3#top") == "/portal/projects/X?instance=3#top"


@pytest.mark.parametrize("query", ["/%09/evil.example/x", "//evil.example", "/%5Cevil.example", "/%0d%0aX:1",
                                   "https://evil.example"])
def test_the_language_switch_stays_on_the_site(client, query):
    """Finding 2: ``/lang/en?next=/%09/evil.example/x`` answered ``Location: //evil.example/x``."""
    response = client.get(f"/lang/en?next={query}")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_does_not_send_the_user_off_site(client):
    pages = Pages(client)
    response = pages.post("/login?next=/%09/evil.example/x", {"username": "applicant1", "password": "Demo@2026"})
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    response = Pages(client).post("/login?next=/portal/", {"username": "applicant1", "password": "Demo@2026"})
    assert response.headers["Location"] == "/portal/"


# -- throttling -----------------------------------------------------------------------------------

def _fail(platform, username, address, at, n=1):
    with transaction(platform.sessions) as s:
        s.add_all(LoginFailure(username=username, address=address, at=at) for _ in range(n))


def test_login_backs_off_instead_of_locking_out(platform, client):
    now = platform.now()
    settings = platform.settings
    _fail(platform, "window1", "127.0.0.1", now - dt.timedelta(seconds=settings.LOGIN_BACKOFF_SECONDS + 1),
          settings.LOGIN_MAX_FAILURES)
    response = Pages(client).post("/login", {"username": "window1", "password": "Demo@2026"})
    assert response.status_code == 302  # the wait after five failures is over: the real user gets in
    _fail(platform, "window1", "127.0.0.1", now, settings.LOGIN_MAX_FAILURES + 1)
    locked = Pages(client).post("/login", {"username": "window1", "password": "Demo@2026"})
    assert locked.status_code == 429 and 30 < int(locked.headers["Retry-After"]) <= 60  # the wait doubled


def test_guessing_from_many_addresses_meets_the_account_cap(platform, client):
    now = platform.now()
    for n in range(platform.settings.LOGIN_ACCOUNT_MAX_FAILURES):
        _fail(platform, "admin", f"10.0.{n}.1", now)
    response = client.post("/api/v1/auth/token", json={"username": "admin", "password": "Demo@2026"},
                           environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert response.status_code == 429 and response.headers["Retry-After"]
    assert client.post("/api/v1/auth/token", json={"username": "window1", "password": "Demo@2026"},
                       environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


REGISTRATION = {"enterprise_name": "海南青山置业有限公司", "credit_code": "91350100M000200Y4T", "display_name": "李青",
                "username": "qingshan", "password": "Qingshan2026", "password_confirm": "Qingshan2026"}


def test_registration_does_not_tell_which_account_exists(client):
    taken_code = {**REGISTRATION, "credit_code": "91460100MA5T00001L"}
    taken_name = {**REGISTRATION, "username": "applicant1"}
    answers = []
    for form in (taken_code, taken_name):
        response = client.post("/api/v1/enterprises", json=form, environ_base={"REMOTE_ADDR": "10.7.0.1"})
        assert response.status_code == 422
        answers.append(response.get_json()["error"]["fields"])
    assert answers[0] == answers[1] == {"username": "用户名或信用代码不可用", "credit_code": "用户名或信用代码不可用"}


def test_registration_is_rate_limited_per_address(platform, client):
    for n in range(platform.settings.REGISTER_PER_HOUR):
        response = client.post("/api/v1/enterprises", json={"username": f"x{n}"},
                               environ_base={"REMOTE_ADDR": "10.8.0.1"})
        assert response.status_code == 422
    refused = client.post("/api/v1/enterprises", json=REGISTRATION, environ_base={"REMOTE_ADDR": "10.8.0.1"})
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    page = Pages(client).post("/register", REGISTRATION, environ_base={"REMOTE_ADDR": "10.8.0.1"})
    assert page.status_code == 429
    other = client.post("/api/v1/enterprises", json={**REGISTRATION, "password": "x"},
                        environ_base={"REMOTE_ADDR": "10.8.0.2"})
    assert other.status_code == 422  # another address is still heard

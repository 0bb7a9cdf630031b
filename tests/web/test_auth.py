"""Signing in: Argon2id hashes, session cookies, login CSRF, throttling, logout, the CLI."""

from __future__ import annotations

from click.testing import CliRunner
from sqlmodel import select
from starlette.testclient import TestClient

from bridge import db, stores
from bridge.cli import cli
from bridge.tables import User, WebSession
from tests.web.conftest import PASSWORD, csrf_of, login, make_user


def test_password_is_hashed_with_argon2id(pm):
    make_user("ann@example.com")
    with db.session() as s:
        user = s.exec(select(User)).one()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(app):
    stores.create_org("Acme")
    make_user("ann@example.com", ["Acme"])
    with TestClient(app, base_url="http://testserver") as c:
        assert c.get("/", follow_redirects=False).headers["location"].startswith("/login")
        r = login(c, "ann@example.com")
        assert r.status_code == 303 and r.headers["location"] == "/"
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("bridge_session=")][0]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        token = cookie.split(";")[0].split("=", 1)[1]
        with db.session() as s:  # only the token's digest is stored
            assert s.get(WebSession, token) is None
        home = c.get("/")
        assert home.status_code == 200 and "Acme" in home.text
        assert c.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
        assert c.post("/logout", data={"csrf_token": csrf_of(home.text)},
                      follow_redirects=False).status_code == 303
        # the old cookie no longer opens a session, even if replayed
        c.cookies.set("bridge_session", token)
        assert c.get("/", follow_redirects=False).status_code == 303


def test_cookie_is_secure_when_served_over_https(app, monkeypatch):
    monkeypatch.setenv("BRIDGE_PUBLIC_URL", "https://bridge.example.com")
    make_user("ann@example.com")
    with TestClient(app, base_url="https://testserver") as c:
        r = login(c, "ann@example.com")
        cookie = [h for h in r.headers.get_list("set-cookie") if h.startswith("bridge_session=")][0]
        assert "Secure" in cookie


def test_login_form_needs_its_csrf_token(app):
    make_user("ann@example.com")
    with TestClient(app, base_url="http://testserver") as c:
        c.get("/login")
        r = c.post("/login", data={"email": "ann@example.com", "password": PASSWORD, "csrf_token": "x"})
        assert r.status_code == 403
        assert "bridge_session" not in c.cookies


def test_wrong_password_and_throttling(app):
    make_user("ann@example.com")
    with TestClient(app, base_url="http://testserver") as c:
        for _ in range(5):
            assert login(c, "ann@example.com", "wrong password!").status_code == 401
        r = login(c, "ann@example.com")  # right password, but throttled now
        assert r.status_code == 429 and "Too many failed sign-ins" in r.text
        assert "bridge_session" not in c.cookies


def test_next_never_leaves_the_site(app):
    make_user("ann@example.com")
    with TestClient(app, base_url="http://testserver") as c:
        page = c.get("/login?next=//evil.example/x")
        r = c.post("/login", data={"email": "ann@example.com", "password": PASSWORD,
                                   "csrf_token": csrf_of(page.text), "next": "//evil.example/x"},
                   follow_redirects=False)
        assert r.headers["location"] == "/"


def test_cli_user_create(pm, monkeypatch):
    stores.create_org("Acme")
    monkeypatch.setenv("BRIDGE_USER_PASSWORD", "a long enough password")
    r = CliRunner().invoke(cli, ["user", "create", "Bob@Example.com", "--org", "Acme"])
    assert r.exit_code == 0, r.output
    assert "a long enough password" not in r.output
    r = CliRunner().invoke(cli, ["user", "create", "bob@example.com"])
    assert r.exit_code != 0 and "already exists" in str(r.exception or r.output)
    r = CliRunner().invoke(cli, ["user", "list", "--json"])
    assert '"bob@example.com"' in r.output and "Acme" in r.output
    monkeypatch.setenv("BRIDGE_USER_PASSWORD", "short")
    r = CliRunner().invoke(cli, ["user", "create", "c@example.com", "--operator"])
    assert r.exit_code != 0


def test_a_stranger_cannot_lock_the_owner_out(app):
    from bridge.web.login import throttle

    make_user("ann@example.com")
    with TestClient(app, base_url="http://testserver", client=("203.0.113.9", 4000)) as stranger:
        for _ in range(8):
            assert login(stranger, "ann@example.com", "guessing...").status_code in (401, 429)
        assert login(stranger, "ann@example.com", "guessing...").status_code == 429  # per address
    assert throttle.account_delay("email:ann@example.com") > 0  # the account answers slower
    with TestClient(app, base_url="http://testserver", client=("198.51.100.7", 4001)) as owner:
        r = login(owner, "ann@example.com")
        assert r.status_code == 303 and "bridge_session" in owner.cookies


def test_a_non_ascii_login_token_is_a_403(app):
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as c:
        c.get("/login")
        r = c.post("/login", data={"email": "a@b.co", "password": "x", "csrf_token": "é"})
        assert r.status_code == 403

"""Fixtures of the web tests: the app over the fake platforms, users, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from bridge import db, webhooks
from bridge.plugins import PluginManager, set_manager
from bridge.tables import Store
from bridge.web import auth
from bridge.web.login import throttle
from tests.conftest import fake_manager
from tests.web import oauth_fake

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def web_manager() -> PluginManager:
    pm = fake_manager()
    pm.register(oauth_fake, name="oauthchannel", distribution="tests", version="0")
    return pm


@pytest.fixture()
def pm() -> Iterator[PluginManager]:
    manager = web_manager()
    set_manager(manager)
    throttle._fails.clear()
    webhooks._rejected_counts.clear()
    yield manager
    set_manager(None)


@pytest.fixture()
def app(pm: PluginManager):  # type: ignore[no-untyped-def]
    from bridge.web.app import create_app

    return create_app()


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "no csrf_token in the page"
    return m.group(1)


def login(client: TestClient, email: str, password: str = PASSWORD, follow: bool = False):  # type: ignore[no-untyped-def]
    page = client.get("/login")
    return client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": csrf_of(page.text), "next": "/"},
                       follow_redirects=follow)


class Client(TestClient):
    """A signed-in client that knows its session's CSRF token."""

    csrf: str = ""

    def form(self, url: str, data: dict | None = None, **kw):  # type: ignore[no-untyped-def]
        return self.post(url, data={"csrf_token": self.csrf, **(data or {})},
                         follow_redirects=kw.pop("follow_redirects", False), **kw)


@pytest.fixture()
def signed_in(app):  # type: ignore[no-untyped-def]
    """``signed_in(email)``: a client signed in as that (existing) user."""
    clients: list[Client] = []

    def make(email: str) -> Client:
        c = Client(app, base_url="http://testserver")
        clients.append(c)
        r = login(c, email)
        assert r.status_code == 303, r.text
        c.csrf = csrf_of(c.get("/").text)
        return c

    yield make
    for c in clients:
        c.close()


def make_store(org_id: int, platform: str, kind: str, remote_id: str, name: str,
               currency: str = "GBP", status: str = "active") -> Store:
    """A store row without a platform round trip (for access tests)."""
    with db.session() as s:
        st = Store(org_id=org_id, platform=platform, kind=kind, remote_id=remote_id, name=name,
                   currency=currency, region="GB" if kind == "channel" else None, status=status)
        s.add(st)
        s.flush()
        s.refresh(st)
        return st


def make_user(email: str, orgs: list[str] | None = None, operator: bool = False):  # type: ignore[no-untyped-def]
    return auth.create_user(email, PASSWORD, operator=operator, orgs=orgs or [])

"""Fixtures of the web tests: the app over the fake platforms, users, signed-in clients."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bridge import db, stores, webhooks
from bridge.plugins import PluginManager, set_manager
from bridge.sandboxing import SandboxServer
from bridge.sync import run_flow
from bridge.tables import Job, ListingLink, Store
from bridge.web import auth
from bridge.web.login import throttle
from tests.conftest import fake_manager
from tests.flows.conftest import add_rules
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


@contextmanager
def fake_pair(pm, seed: int = 3) -> Iterator[tuple[Store, Store]]:  # type: ignore[no-untyped-def]
    """Organization Acme with the fake store (``seed``) and the fake channel served and connected,
    ann@acme.test allowed to see it; yields (eCommerce store, channel shop)."""
    shop_sb = pm.call("fakeshop", "sandbox", options={"seed": seed})
    channel_sb = pm.call("fakechannel", "sandbox", options={})
    with SandboxServer(shop_sb.app) as s1, SandboxServer(channel_sb.app) as s2:
        stores.create_org("Acme")
        eco = stores.connect_store("Acme", "fakeshop", {"base_url": s1.url}, shop_sb.credentials(), pm)
        shop = stores.connect_store("Acme", "fakechannel", {"base_url": s2.url}, channel_sb.credentials(), pm)
        make_user("ann@acme.test", ["Acme"])
        yield eco, shop


IMG = "https://img.test/p1-{}.jpg"


class Listed:
    """The sandboxes and the shop of the ``listed`` fixture."""

    def __init__(self, shop_sb, channel_sb, shop: Store) -> None:  # type: ignore[no-untyped-def]
        self.shop_sb, self.channel_sb, self.shop = shop_sb, channel_sb, shop
        self.sid: int = shop.id  # type: ignore[assignment]

    def remote(self, pid: str) -> str:
        with db.session() as s:
            link = s.exec(select(ListingLink).where(ListingLink.source_product_id == pid)).one()
        assert link.remote_product_id
        return link.remote_product_id


@pytest.fixture()
def listed(pm) -> Iterator[Listed]:  # type: ignore[no-untyped-def]
    """Six products of the fake store (p1 with three images) listed on the fake channel by a real
    products sync; ann@acme.test may see them, bob@other.test may not."""
    shop_sb = pm.call("fakeshop", "sandbox", options={"seed": 6, "variants": 2})
    channel_sb = pm.call("fakechannel", "sandbox", options={})
    with shop_sb.lock:
        shop_sb.products_["p1"]["images"] = [IMG.format(n) for n in range(3)]
    with SandboxServer(shop_sb.app) as s1, SandboxServer(channel_sb.app) as s2:
        org = stores.create_org("Acme")
        stores.connect_store("Acme", "fakeshop", {"base_url": s1.url}, shop_sb.credentials(), pm)
        shop = stores.connect_store("Acme", "fakechannel", {"base_url": s2.url}, channel_sb.credentials(), pm)
        add_rules(shop.id)  # type: ignore[arg-type]
        with db.session() as s:
            s.add(Job(key=f"products:{org.id}:{shop.id}", flow="products", org_id=org.id, channel_store_id=shop.id))
        assert run_flow("products", org.id)[0].counts["created"] == 6  # type: ignore[arg-type]
        make_user("ann@acme.test", ["Acme"])
        make_user("bob@other.test", [])
        yield Listed(shop_sb, channel_sb, shop)

"""Shared fixtures of the core tests: the fake platform pair registered as plugins."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from bridge.plugins import PluginManager, set_manager
from tests.fakes import fake_channel, fake_ecommerce


def fake_manager() -> PluginManager:
    """A plugin manager holding only the fake pair."""
    pm = PluginManager(load_entrypoints=False)
    pm.register(fake_ecommerce, name="fakeshop", distribution="tests", version="0")
    pm.register(fake_channel, name="fakechannel", distribution="tests", version="0")
    return pm


@pytest.fixture()
def fake_pm() -> Iterator[PluginManager]:
    pm = fake_manager()
    set_manager(pm)
    yield pm
    set_manager(None)


class FakePair:
    """Both fake sandboxes served on loopback, and an organization with both stores connected."""

    def __init__(self, pm: PluginManager, shop_sb, channel_sb, shop_url: str, channel_url: str) -> None:  # type: ignore[no-untyped-def]
        from bridge import stores

        self.pm = pm
        self.shop = shop_sb
        self.channel = channel_sb
        self.org = stores.create_org("Acme")
        self.eco_store = stores.connect_store("Acme", "fakeshop", {"base_url": shop_url},
                                              shop_sb.credentials(), pm)
        self.channel_store = stores.connect_store("Acme", "fakechannel", {"base_url": channel_url},
                                                  channel_sb.credentials(), pm)


@pytest.fixture()
def fake_pair(fake_pm: PluginManager) -> Iterator[FakePair]:
    from bridge.sandboxing import SandboxServer

    shop = fake_pm.call("fakeshop", "sandbox", options={"seed": 6, "variants": 2})
    channel = fake_pm.call("fakechannel", "sandbox", options={})
    with SandboxServer(shop.app) as s1, SandboxServer(channel.app) as s2:
        yield FakePair(fake_pm, shop, channel, s1.url, s2.url)


def old_database(path: str, revision: str):  # type: ignore[no-untyped-def]
    """A SQLite database at ``path`` with the schema of migration ``revision`` (an older bridge's
    database): its URL and a plain engine to fill it with that version's rows."""
    from alembic import command
    from sqlalchemy import create_engine

    from bridge import db

    url = f"sqlite:///{path}"
    command.upgrade(db.alembic_config(url), revision)
    return url, create_engine(url)


@pytest.fixture()
def pg_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """bridge's database is a new, empty PostgreSQL database on BRIDGE_TEST_DATABASE_URL's
    server (dropped afterwards); the test is skipped when that variable is unset."""
    from sqlalchemy import create_engine, text

    from bridge import db

    server = os.environ.get("BRIDGE_TEST_DATABASE_URL")
    if not server:
        pytest.skip("BRIDGE_TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    name = f"bridge_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine("postgresql+psycopg://" + server.split("://", 1)[1], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("BRIDGE_DATABASE_URL", url)
    db.reset_engines()
    yield url
    db.reset_engines()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()

"""Fixtures: a Shopify sandbox served over a real loopback socket, and connections to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from bridge.connection import AppContext, Connection
from bridge.sandboxing import SandboxServer
from bridge_shopify.sandbox import ShopifySandbox


class Served:
    """A running sandbox and a factory of connections to it."""

    def __init__(self, sandbox: ShopifySandbox, server: SandboxServer) -> None:
        self.sandbox = sandbox
        self.server = server
        self.url = server.url

    def app(self, **extra: Any) -> AppContext:
        return AppContext(platform="shopify",
                          settings={**self.sandbox.app_settings(), "base_url": self.url, **extra})

    def connection(self, credentials: dict | None = None, **settings: Any) -> Connection:
        creds = self.sandbox.credentials() if credentials is None else credentials
        return Connection(platform="shopify",
                          settings={**self.sandbox.base_url_setting(self.url), **settings},
                          credentials=dict(creds), app=self.app())


@pytest.fixture(scope="module")
def served_factory() -> Iterator[Callable[..., Served]]:
    """Start sandboxes for a test module (stopped at its end)."""
    servers: list[SandboxServer] = []

    def make(**options: Any) -> Served:
        sandbox = ShopifySandbox({"restore_rate": 1000, "bucket_size": 20000, **options})
        server = SandboxServer(sandbox.app).start()
        servers.append(server)
        return Served(sandbox, server)

    yield make
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def served(served_factory: Callable[..., Served]) -> Served:
    return served_factory(seed=30, variants=3)


@pytest.fixture()
def conn(served: Served) -> Iterator[Connection]:
    served.sandbox.stats.reset()
    c = served.connection()
    yield c
    c.close()

"""One WooCommerce sandbox served over loopback for the whole run; faults, latency and the active
tracking plugins are reset around each test, and each test gets a fresh connection."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bridge.connection import AppContext, Connection
from bridge.sandboxing import SandboxServer
from bridge_woocommerce.sandbox import WooSandbox


@pytest.fixture(scope="session")
def sandbox() -> WooSandbox:
    return WooSandbox({"seed": 8, "variants": 3})


@pytest.fixture(scope="session")
def server(sandbox: WooSandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox.app) as s:
        yield s


@pytest.fixture(autouse=True)
def _reset(sandbox: WooSandbox) -> Iterator[None]:
    sandbox.faults.clear()
    sandbox.set_latency(0)
    sandbox.set_tracking("both")
    sandbox.aftership_format = "items"
    yield
    sandbox.faults.clear()


def make_connection(sandbox: WooSandbox, url: str, **settings: object) -> Connection:
    return Connection(platform="woocommerce", settings={**sandbox.base_url_setting(url), **settings},
                      credentials=dict(sandbox.credentials()), app=AppContext(platform="woocommerce"))


@pytest.fixture()
def conn(sandbox: WooSandbox, server: SandboxServer) -> Iterator[Connection]:
    c = make_connection(sandbox, server.url)
    yield c
    c.close()

"""A session-wide TikTok Shop sandbox served over loopback (one server for the whole run);
tests use their own SKUs and orders, and fault settings are reset around each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.connection import Connection
from bridge.sandboxing import SandboxServer
from bridge.sandboxing.images import ImageServer
from bridge_tiktokshop.sandbox import TikTokSandbox


@pytest.fixture(scope="session")
def sandbox() -> TikTokSandbox:
    return TikTokSandbox({"seed": 20, "variants": 3, "rate_limit": 0})


@pytest.fixture(scope="session")
def server(sandbox: TikTokSandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox.app) as s:
        yield s


@pytest.fixture(scope="session")
def images() -> Iterator[ImageServer]:
    with ImageServer() as s:
        yield s


@pytest.fixture(autouse=True)
def _clean(sandbox: TikTokSandbox) -> Iterator[None]:
    sandbox.faults.clear()
    sandbox.set_latency(0)
    sandbox.set_rate_limit(0)
    yield
    sandbox.faults.clear()


@pytest.fixture()
def conn(sandbox: TikTokSandbox, server: SandboxServer) -> Iterator[Connection]:
    c = sandbox.connection(server.url)
    yield c
    c.close()


@pytest.fixture()
def sg_conn(sandbox: TikTokSandbox, server: SandboxServer) -> Iterator[Connection]:
    c = sandbox.connection(server.url, 1)
    yield c
    c.close()

"""One Magento sandbox served over loopback for the whole run; each test starts from an empty
store (``reset``) with its own small catalog, and connections record what they send."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bridge.connection import AppContext, Connection
from bridge.sandboxing import SandboxServer
from bridge_magento2.sandbox import MagentoSandbox


class Recorder(httpx.HTTPTransport):
    """A real transport that remembers (method, path, body) of every request."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, bytes]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.sent.append((request.method, request.url.raw_path.decode().split("?")[0], request.content))
        return super().handle_request(request)


@pytest.fixture(scope="session")
def sandbox() -> MagentoSandbox:
    return MagentoSandbox.from_options({})


@pytest.fixture(scope="session")
def server(sandbox: MagentoSandbox) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox.app) as s:
        yield s


@pytest.fixture(autouse=True)
def _fresh(sandbox: MagentoSandbox) -> Iterator[None]:
    sandbox.reset()
    yield
    sandbox.reset()


@pytest.fixture()
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture()
def make_conn(sandbox: MagentoSandbox, server: SandboxServer, recorder: Recorder) -> Iterator[Any]:
    made: list[Connection] = []

    def make(settings: dict[str, Any] | None = None, credentials: dict[str, Any] | None = None) -> Connection:
        c = Connection(platform="magento2", settings={"base_url": server.url, **(settings or {})},
                       credentials=dict(credentials if credentials is not None else sandbox.credentials()),
                       app=AppContext(platform="magento2", settings={"base_url": server.url}),
                       transport=recorder)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture()
def conn(make_conn: Any) -> Connection:
    return make_conn()

"""Running plugin sandboxes (emulators of platform APIs) and the interface they offer.

A plugin's ``sandbox`` hook returns an object with an ``app`` (an ASGI application holding
in-memory state) and the methods of :class:`EcommerceSandbox` or :class:`ChannelSandbox`, so the
demo, the end-to-end tests and the benchmarks drive any platform the same way.

:class:`SandboxServer` serves an app on a loopback port from a background thread: tests, the
demo and ``bridge sandbox PLATFORM --port N`` all reach a sandbox over a real socket with the
same httpx client the real code uses.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from typing import Any, Protocol, runtime_checkable

from bridge.models import Order, Tracking


@runtime_checkable
class Sandbox(Protocol):
    app: Any
    stats: RequestStats

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        """The connection settings that point a store at this sandbox served at ``server_url``
        (``base_url`` plus, e.g., a shop domain); credentials come from :meth:`credentials`."""

    def credentials(self) -> dict[str, Any]:
        """Credentials the sandbox accepts, for ``bridge connect`` with given credentials."""

    def app_settings(self) -> dict[str, Any]:
        """The bridge-wide app settings (OAuth client id and secret, app key) it accepts; {} if
        the platform has none."""

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (platform error shape)."""

    def set_latency(self, ms: float) -> None:
        """Add ``ms`` milliseconds to every response."""


@runtime_checkable
class EcommerceSandbox(Sandbox, Protocol):
    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        """Add ``products`` products with up to ``variants`` variants each; returns their ids.
        Seller SKUs are unique; options named like Size/Colour; prices and stock vary."""

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Change a variant's available quantity (as a merchant would)."""

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        """Fulfil an order with a tracking number; returns the fulfilment id."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order as the merchant would."""

    def orders(self) -> list[Order]:
        """Every order in the store."""

    def quantity(self, sku: str) -> int:
        """A variant's available quantity."""


@runtime_checkable
class ChannelSandbox(Sandbox, Protocol):
    def create_order(self, shop_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        """Place an order in a shop for (seller SKU, quantity) lines; returns its id.
        ``kw``: ``fulfilled_by`` (``"seller"``/``"platform"``), ``released`` (past on-hold)."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order as the buyer or TikTok would."""

    def products(self, shop_id: str) -> list[dict[str, Any]]:
        """The shop's products: dicts with id, title, status and skus (id, seller_sku, price,
        quantity)."""

    def order(self, order_id: str) -> dict[str, Any]:
        """An order with its status and packages (tracking number, provider)."""

    def shops(self) -> list[dict[str, Any]]:
        """The seeded shops: id, cipher, name, region, currency."""


class RequestStats:
    """Counts of requests a sandbox served, by method and by (method, route)."""

    WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_route: Counter[str] = Counter()
        self.total = 0
        self.writes = 0
        self.throttled = 0

    def record(self, method: str, route: str, *, write: bool | None = None) -> None:
        """Count a request; ``write`` overrides the method's verdict (GraphQL mutations, or a
        search made with POST that is a read)."""
        with self.lock:
            self.total += 1
            self.by_route[f"{method} {route}"] += 1
            if write if write is not None else method in self.WRITE_METHODS:
                self.writes += 1

    def reset(self) -> None:
        with self.lock:
            self.by_route.clear()
            self.total = self.writes = self.throttled = 0

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": self.total,
                "writes": self.writes,
                "throttled": self.throttled,
                "by_route": dict(self.by_route),
            }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxServer:
    """Serve an ASGI app on 127.0.0.1 from a background thread (uvicorn).

    >>> with SandboxServer(app) as server:
    ...     server.url  # 'http://127.0.0.1:PORT'
    """

    def __init__(self, app: Any, port: int | None = None, host: str = "127.0.0.1") -> None:
        import uvicorn

        self.host = host
        self.port = port or free_port()
        config = uvicorn.Config(
            app,
            host=host,
            port=self.port,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=30,
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SandboxServer:
        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            loop.run_until_complete(self.server.serve())

        self.thread = threading.Thread(target=run, name=f"sandbox:{self.port}", daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"sandbox server on port {self.port} did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread:
            self.thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

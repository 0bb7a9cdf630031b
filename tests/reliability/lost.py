"""Losing the answer to one particular write: the platform does it, bridge never hears.

:class:`LoseAnswers` sits in front of a sandbox app, reads each request's body, and for the
requests a :data:`WRITES` predicate picks (an order create, a tracking push, a listing create)
lets the sandbox process the request and then loses the answer: a connection reset, a 502 or 503
in its place, or the real 2xx cut short. The body must be read to tell an ``orderCreate`` from a
query on Shopify's single GraphQL endpoint, which the sandbox kit's path-based faults cannot.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from bridge.sandboxing.faults import Fault, cut_short, reset_connection
from bridge.sandboxing.kit import json_error

Pick = Callable[[str, str, bytes], bool]

#: Which requests are each platform's must-happen-once writes (method, path, body).
WRITES: dict[str, Pick] = {
    "shopify.order": lambda m, p, b: m == "POST" and p.endswith("graphql.json") and b"orderCreate" in b,
    "woocommerce.order": lambda m, p, b: m == "POST" and p.endswith("/wc/v3/orders"),
    "magento2.order": lambda m, p, b: m == "POST" and p.endswith("/V1/orders"),
    "bigcommerce.order": lambda m, p, b: m == "POST" and p.endswith("/v2/orders"),
    "tiktokshop.tracking": lambda m, p, b: m == "POST" and p.startswith("/fulfillment/") and (
        p.endswith("/packages") or p.endswith("/ship")),
    "tiktokshop.listing": lambda m, p, b: m == "POST" and p.endswith("/product/202309/products"),
}
#: The ways an answer is lost after the platform did the work.
LOSSES = ("reset", "502", "503", "truncated")


class LoseAnswers:
    """An ASGI middleware losing the answers of the next ``count`` picked requests."""

    def __init__(self, app: Any, render: Any = None) -> None:
        self.app = app
        self.render = render or json_error
        self.lock = threading.Lock()
        self.pick: Pick | None = None
        self.loss = "reset"
        self.left = 0
        self.lost = 0

    def lose(self, pick: Pick, loss: str, count: int = 1) -> None:
        with self.lock:
            self.pick, self.loss, self.left = pick, loss, count

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or self.left <= 0 or self.pick is None:
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        with self.lock:
            hit = self.left > 0 and self.pick(scope["method"], scope["path"], body)
            if hit:
                self.left -= 1
                self.lost += 1
        if not hit:
            await self.app(scope, replay, send)
            return
        captured: list[dict] = []

        async def capture(message: dict) -> None:
            captured.append(message)

        await self.app(scope, replay, capture)  # the platform does the work ...
        if self.loss == "reset":                 # ... and the answer never arrives whole
            await reset_connection(receive, send)
        elif self.loss == "truncated":
            await cut_short(receive, send, captured)
        else:
            await self.render(Fault(status=int(self.loss)), scope)(scope, receive, send)


def losing(holder: dict[str, LoseAnswers]) -> Callable[[Any], Any]:
    """A Harness ``wrap``: each sandbox behind a :class:`LoseAnswers`, kept in ``holder`` under
    the sandbox's class name."""
    def wrap(sandbox: Any) -> Any:
        kit = getattr(sandbox, "kit", None)
        mw = LoseAnswers(sandbox.app, getattr(kit, "render_error", None))
        holder[type(sandbox).__name__] = mw
        return mw
    return wrap

"""The sandbox kit: the machinery every plugin sandbox shares, in one object.

A sandbox creates one :class:`SandboxKit` and serves ``kit.wrap(its_app)``::

    self.kit = SandboxKit(self, platform="myplatform", kind="ecommerce", render_error=my_error)
    self.stats = self.kit.stats
    self.webhooks = self.kit.deliverer(self.subscriptions, sign=my_signer)
    self.app = self.kit.wrap(Starlette(routes=...))

The wrapped app answers the control API under :data:`CONTROL_PREFIX` (never faulted, never
counted) and passes every other request through added latency and the injected faults
(:mod:`bridge.sandboxing.faults`). The sandbox records its own routes in ``stats`` (it knows their
templates and which requests are writes) and renders an injected error status in its platform's
shape through ``render_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bridge.sandboxing.faults import (
    ASGIApp,
    Fault,
    FaultMiddleware,
    FaultPlan,
    Receive,
    Scope,
    Send,
)
from bridge.sandboxing.stats import RequestStats
from bridge.sandboxing.webhooks import Signer, Subscription, WebhookDeliverer, exact_topic

CONTROL_PREFIX = "/_sandbox"
"""The reserved path of every sandbox's control API (no platform uses it)."""


def retry_after_headers(fault: Fault) -> dict[str, str]:
    """``Retry-After`` of an injected fault: its ``retry_after``, else 1 second for a 429."""
    if fault.retry_after is not None:
        value = fault.retry_after
        return {"Retry-After": str(int(value)) if float(value).is_integer() else str(value)}
    return {"Retry-After": "1"} if fault.status == 429 else {}


def json_error(fault: Fault, scope: Scope) -> ASGIApp:
    """The default rendering of an injected error: ``{"error": ...}`` with the status."""
    from starlette.responses import JSONResponse

    return JSONResponse({"error": f"sandbox fault: {fault.status}"}, status_code=int(fault.status or 500),
                        headers=retry_after_headers(fault))


class SandboxKit:
    """Faults, latency, statistics, webhook delivery, reset and the control API of one sandbox."""

    def __init__(self, sandbox: Any, *, platform: str, kind: str,
                 render_error: Callable[[Fault, Scope], ASGIApp] = json_error,
                 stats: RequestStats | None = None, latency_ms: float = 0.0) -> None:
        if kind not in ("ecommerce", "channel"):
            raise ValueError("kind is 'ecommerce' or 'channel'")
        self.sandbox = sandbox
        self.platform = platform
        self.kind = kind
        self.render_error = render_error
        self.stats = stats or RequestStats()
        self.faults = FaultPlan()
        self.initial_latency_ms = float(latency_ms or 0)
        self.latency_ms = self.initial_latency_ms
        self.webhooks: WebhookDeliverer | None = None

    # ------------------------------------------------------------------ the app

    def wrap(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind latency and faults, with the control API beside it."""
        from bridge.sandboxing.control import control_app

        faulty = FaultMiddleware(app, self.faults, self.render_error, lambda: self.latency_ms,
                                 self.stats.fault)
        control = control_app(self)

        async def dispatch(scope: Scope, receive: Receive, send: Send) -> None:
            path = scope.get("path", "")
            if scope["type"] == "http" and (path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")):
                await control(scope, receive, send)
            else:
                await faulty(scope, receive, send)

        return dispatch

    # ------------------------------------------------------------------ faults and latency

    def inject(self, fault: Fault) -> Fault:
        """Add a fault (see :class:`bridge.sandboxing.faults.Fault`)."""
        return self.faults.add(fault)

    def fail_next(self, count: int, status: int = 503, *, retry_after: float | None = None,
                  method: str = "*", path: str = "*", after: bool = False) -> Fault:
        """Answer the next ``count`` matching requests with ``status`` (platform error shape)."""
        return self.inject(Fault(status=status, retry_after=retry_after, method=method, path=path,
                                 count=count, after=after))

    def set_latency(self, ms: float) -> None:
        """Add ``ms`` milliseconds before every answer."""
        self.latency_ms = float(ms)

    # ------------------------------------------------------------------ webhooks

    def deliverer(self, subscriptions: Callable[[], list[Subscription]], sign: Signer, *,
                  matches: Callable[[str, str], bool] = exact_topic, timeout: float = 5.0,
                  on_result: Callable[[Subscription, int], None] | None = None) -> WebhookDeliverer:
        """The sandbox's webhook deliverer (one per sandbox)."""
        self.webhooks = WebhookDeliverer(self.platform, subscriptions, sign, matches=matches,
                                         timeout=timeout, on_result=on_result)
        return self.webhooks

    # ------------------------------------------------------------------ reset

    def reset(self) -> None:
        """Clear faults, statistics and the delivery log; latency back to the start-up value.
        (The sandbox's own ``reset`` forgets its state and calls this.)"""
        self.faults.clear()
        self.latency_ms = self.initial_latency_ms
        self.stats.reset()
        if self.webhooks is not None:
            self.webhooks.reset()

    def snapshot(self) -> dict[str, Any]:
        """Statistics, pending faults and latency (the control API's ``stats``)."""
        return {**self.stats.snapshot(), "latency_ms": self.latency_ms, "faults": self.faults.pending()}



"""Pieces both fakes share: a signed-webhook check and a small Starlette sandbox base."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.errors import NeedsReconnect, Rejected, Transient
from bridge.models import WebhookRequest
from bridge.sandboxing import RequestStats

TOKEN = "fake-token-0123456789"
WEBHOOK_SECRET = "fake-webhook-secret"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def sample_webhook(kind: str, ids: list[str]) -> WebhookRequest:
    """A delivery signed as the fakes sign them."""
    body = json.dumps({"delivery_id": "kit-delivery-1", "kind": kind, "ids": ids}).encode()
    return WebhookRequest(headers={"Content-Type": "application/json", "X-Fake-Signature": sign(body)}, body=body)


def check_response(resp: Any, item: str | None = None) -> Any:
    """Map a fake API response to bridge errors; return its JSON."""
    if resp.status_code == 401:
        raise NeedsReconnect("fake: the token was refused: reconnect the store")
    if resp.status_code >= 500:
        raise Transient(f"fake: server error {resp.status_code}")
    if resp.status_code >= 400:
        body = resp.json()
        raise Rejected(body.get("message", "refused"), code=body.get("code"), item=item)
    return resp.json()


class FaultQueue:
    """Injected faults, first come first served: (status, Retry-After or None) per request."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: list[tuple[int, float | None]] = []

    def take(self) -> tuple[int, float | None] | None:
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def clear(self) -> int:
        with self.lock:
            n = len(self.queue)
            self.queue.clear()
            return n


class FakeKit:
    """The part of :class:`bridge.sandboxing.SandboxKit` the connector test kit drives."""

    def __init__(self) -> None:
        self.faults = FaultQueue()

    def fail_next(self, count: int, status: int = 503, *, retry_after: float | None = None,
                  method: str = "*", path: str = "*", after: bool = False) -> None:
        with self.faults.lock:
            self.faults.queue.extend([(status, retry_after)] * count)


class FakeSandboxBase:
    """State lock, auth check, stats, failure injection and latency for both fakes."""

    def __init__(self, routes: list[Route], options: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.stats = RequestStats()
        self.kit = FakeKit()
        self.latency = float(options.get("latency_ms", 0)) / 1000
        self.app = Starlette(routes=routes)
        self.app.add_middleware(_Guard, sandbox=self)  # type: ignore[arg-type]

    def credentials(self) -> dict[str, Any]:
        return {"token": TOKEN}

    def app_settings(self) -> dict[str, Any]:
        return {}

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        return {"base_url": server_url}

    def fail_next(self, count: int, status: int = 503) -> None:
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.latency = ms / 1000


class _Guard:
    """ASGI middleware: latency, injected failures, bearer check, request counting."""

    def __init__(self, app: Any, sandbox: FakeSandboxBase) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sb = self.sandbox
        request = Request(scope)
        sb.stats.record(request.method, request.url.path)
        if sb.latency:
            await asyncio.sleep(sb.latency)
        fault = sb.kit.faults.take()
        if fault is not None:
            status, wait = fault
            headers = {"Retry-After": f"{wait:g}"} if wait is not None else {}
            await JSONResponse({"message": "injected failure", "code": f"E{status}"}, status_code=status,
                               headers=headers)(scope, receive, send)
            return
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            await JSONResponse({"message": "bad token"}, status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _payload_kinds() -> tuple[str, ...]:
    from typing import get_args

    from bridge.models import WebhookEvent

    return get_args(WebhookEvent.model_fields["kind"].annotation)


def webhook_payload(body: bytes, platform: str) -> dict:
    """A fake delivery's JSON object (``kind``, ``ids``, ``delivery_id``), or WebhookRejected."""
    import json

    from bridge.errors import WebhookRejected

    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected(f"{platform}: delivery is not JSON") from None
    ids = data.get("ids", []) if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("kind") not in _payload_kinds() or not isinstance(ids, list) \
            or not all(isinstance(i, str | int) for i in ids) or not isinstance(data.get("delivery_id"), str | None):
        raise WebhookRejected(f"{platform}: not a delivery (kind, ids, delivery_id)")
    return data

"""Pieces both fakes share: a signed-webhook check and a small Starlette sandbox base."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import threading
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.errors import NeedsReconnect, Rejected, Transient
from bridge.sandboxing import RequestStats

TOKEN = "fake-token-0123456789"
WEBHOOK_SECRET = "fake-webhook-secret"


def sign(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


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


class FakeSandboxBase:
    """State lock, auth check, stats, failure injection and latency for both fakes."""

    def __init__(self, routes: list[Route], options: dict[str, Any]) -> None:
        self.lock = threading.RLock()
        self.stats = RequestStats()
        self.failures: list[int] = []
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
        self.failures.extend([status] * count)

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
        if sb.failures:
            status = sb.failures.pop(0)
            await JSONResponse({"message": "injected failure"}, status_code=status)(scope, receive, send)
            return
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            await JSONResponse({"message": "bad token"}, status_code=401)(scope, receive, send)
            return
        await self.app(scope, receive, send)

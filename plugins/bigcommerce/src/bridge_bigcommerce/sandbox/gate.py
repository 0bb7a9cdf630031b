"""What every sandbox request passes through, as BigCommerce does it (latency and injected faults
come from the sandbox kit before this): request counting, the ``X-Auth-Token`` and store-hash checks, the Accept/Content-Type
checks, the store-wide quota with ``X-Rate-Limit-*`` headers and 429s, and both error shapes
(v3 problem JSON, v2 arrays)."""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge.sandboxing import Fault, RequestStats, retry_after_headers
from bridge.sandboxing.auth import same

ERROR_TYPE = "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes"
TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
          406: "Not Acceptable", 409: "Conflict", 415: "Unsupported Media Type",
          422: "JSON data is missing or invalid", 429: "Too Many Requests",
          500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


class ApiError(Exception):
    """Raised by a route to answer an error in the platform's shape."""

    def __init__(self, status: int, title: str | None = None, errors: dict | None = None) -> None:
        super().__init__(title)
        self.status = status
        self.title = title or TITLES.get(status, "Error")
        self.errors = errors or {}


def error_response(version: str, status: int, title: str | None = None,
                   errors: dict | None = None, headers: dict | None = None) -> Response:
    title = title or TITLES.get(status, "Error")
    if version == "v2":
        body: Any = [{"status": status, "message": title}]
    else:
        body = {"status": status, "title": title, "type": ERROR_TYPE, "errors": errors or {}}
    return JSONResponse(body, status_code=status, headers=headers)


def render_fault(fault: Fault, scope: dict[str, Any]) -> Response:
    """An injected error in the shape of the API the path belongs to (v2 array, v3 problem). A 429
    with ``retry_after`` carries BigCommerce's quota headers (``X-Rate-Limit-Time-Reset-Ms``,
    ``X-Retry-After``), not ``Retry-After``; without it, none: a store under heavy load."""
    version = "v2" if "/v2/" in scope.get("path", "") else "v3"
    status = int(fault.status or 500)
    headers: dict[str, str] = {}
    if status == 429 and fault.retry_after is not None:
        wait = float(fault.retry_after)
        headers = {"X-Rate-Limit-Time-Window-Ms": "30000", "X-Rate-Limit-Time-Reset-Ms": str(int(wait * 1000)),
                   "X-Rate-Limit-Requests-Quota": "150", "X-Rate-Limit-Requests-Left": "0",
                   "X-Retry-After": str(max(1, math.ceil(wait)))}
    elif status != 429:
        headers = retry_after_headers(fault)
    return error_response(version, status, headers=headers or None)


class Gate:
    """Quota, failures, latency and auth shared by every route of one sandbox."""

    def __init__(self, *, token: str, store_hash: str, quota: int, window_ms: int,
                 stats: RequestStats) -> None:
        self.token = token
        self.store_hash = store_hash
        self.quota = quota
        self.window_ms = window_ms
        self.stats = stats
        self.lock = threading.Lock()
        self.window_start = time.monotonic()
        self.used = 0
        self.bodies: list[tuple[str, str, Any]] = []
        """(method, route, JSON body) of every write served (spec conformance tests)."""

    def _spend(self) -> tuple[bool, int, int]:
        """Spend one request of the window; returns (allowed, left, reset ms)."""
        with self.lock:
            elapsed = (time.monotonic() - self.window_start) * 1000
            if elapsed >= self.window_ms:
                self.window_start, self.used, elapsed = time.monotonic(), 0, 0
            reset = max(1, int(self.window_ms - elapsed))
            if self.used >= self.quota:
                return False, 0, reset
            self.used += 1
            return True, self.quota - self.used, reset

    def _quota_headers(self, left: int, reset: int) -> dict[str, str]:
        return {"X-Rate-Limit-Time-Window-Ms": str(self.window_ms),
                "X-Rate-Limit-Time-Reset-Ms": str(reset),
                "X-Rate-Limit-Requests-Quota": str(self.quota),
                "X-Rate-Limit-Requests-Left": str(left)}

    def wrap(self, handler: Callable[[Request], Any], route: str, version: str,
             *, store_api: bool = True) -> Callable[[Request], Awaitable[Response]]:
        """An endpoint running ``handler`` (sync, returns a Response or JSON-able) behind the gate."""

        async def endpoint(request: Request) -> Response:
            self.stats.record(request.method, route)
            if store_api:
                allowed, left, reset = self._spend()
                headers = self._quota_headers(left, reset)
                if not allowed:
                    self.stats.throttle()
                    headers["X-Retry-After"] = str(max(1, reset // 1000))
                    return error_response(version, 429, "You have exceeded your request quota",
                                          headers=headers)
                denied = self._check(request, version)
                if denied is not None:
                    denied.headers.update(headers)
                    return denied
            else:
                headers = {}
            body = None
            if request.method in ("POST", "PUT"):
                raw = await request.body()
                try:
                    body = json.loads(raw or b"null")
                except json.JSONDecodeError:
                    return error_response(version, 400, "The request body is not valid JSON")
                with self.lock:
                    self.bodies.append((request.method, route, body))
            try:
                result = handler(request) if body is None else handler(request, body)  # type: ignore[call-arg]
            except ApiError as exc:
                return error_response(version, exc.status, exc.title, exc.errors, headers)
            if isinstance(result, Response):
                result.headers.update(headers)
                return result
            return JSONResponse(result, headers=headers)

        return endpoint

    def _check(self, request: Request, version: str) -> Response | None:
        if request.path_params.get("store_hash") != self.store_hash:
            return error_response(version, 404, "Store not found")
        if not same(request.headers.get("x-auth-token"), self.token):
            return error_response(version, 401, "You are not authorized to access this resource")
        accept = request.headers.get("accept", "application/json")
        if "json" not in accept and "*/*" not in accept:
            return error_response(version, 406)
        if request.method in ("POST", "PUT") and "json" not in request.headers.get("content-type", ""):
            return error_response(version, 415)
        return None

"""What every sandbox API request goes through, as TikTok does it (injected faults and latency
come first, from the sandbox kit, rendered by :func:`render_fault`): app key, timestamp window,
signature, access token, shop cipher, the per-API per-shop rate limit; then the handler, and
TikTok's envelope ``{code, message, request_id, data}`` around its answer."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridge.sandboxing import Fault, retry_after_headers
from bridge_tiktokshop import signing
from bridge_tiktokshop.sandbox.state import ApiError, Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox


@dataclass
class Ctx:
    """A verified request, as a handler sees it."""

    seller: str
    shop: Shop | None
    query: dict[str, str]
    params: dict[str, str]
    body: Any
    form: dict[str, Any]


def request_id() -> str:
    return time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()


def envelope(data: Any = None, code: int = 0, message: str = "Success", status: int = 200) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "request_id": request_id(), "data": data},
                        status_code=status)


class Limiter:
    """A sliding one-second window per (shop, API): ``qps`` requests, more get 429/36009002."""

    def __init__(self, qps: float) -> None:
        self.qps = qps
        self.lock = threading.Lock()
        self.windows: dict[tuple[str, str], deque[float]] = defaultdict(deque)

    def allow(self, who: str, api: str) -> bool:
        if not self.qps or self.qps <= 0:
            return True
        now = time.monotonic()
        with self.lock:
            w = self.windows[(who, api)]
            while w and now - w[0] >= 1.0:
                w.popleft()
            if len(w) >= self.qps:
                return False
            w.append(now)
            return True


def fault_response(status: int) -> JSONResponse:
    if status == 429:
        return envelope(None, 36009002, "Too many requests. Please retry later.", 429)
    if status in (401, 105002):
        return envelope(None, 105002, "Access token is expired, please refresh it.", 200)
    if 400 <= status < 500:  # a request TikTok refuses: "invalid param" (§10.2), never retried
        return envelope(None, 11050001, "Invalid params.", status)
    return envelope(None, 36009003, "Internal error, please retry later.", status)


def render_fault(fault: Fault, scope: dict[str, Any]) -> JSONResponse:
    """An injected fault in TikTok's envelope (429: rate limit, 5xx: internal error, 401 or
    105002: expired token, any other 4xx: invalid params)."""
    response = fault_response(int(fault.status or 500))
    response.headers.update(retry_after_headers(fault))
    return response


def api(sb: TikTokSandbox, method: str, path: str, handler: Callable[[Ctx], Any], *,
        shop: bool = True, write: bool | None = None) -> Route:
    """A Starlette route for one API endpoint with TikTok's checks around ``handler``."""

    async def endpoint(request: Request) -> JSONResponse:
        raw = await request.body()
        sb.stats.record(method, path, write=write)
        query = dict(request.query_params)
        content_type = request.headers.get("content-type", "")
        try:
            seller, the_shop = check(sb, path, request.url.path, query, raw, content_type, shop,
                                     request.headers.get("x-tts-access-token"))
            who = the_shop.id if the_shop else seller
            if not sb.limiter.allow(who, f"{method} {path}"):
                sb.stats.throttle()
                return envelope(None, 36009002, "Too many requests. Please retry later.", 429)
            form: dict[str, Any] = {}
            body: Any = None
            if content_type.startswith("multipart/form-data"):
                parsed = await request.form()
                form = {k: parsed[k] for k in parsed}
                form = {k: (await v.read() if hasattr(v, "read") else v) for k, v in form.items()}
            elif raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    raise ApiError(36009022, "The request body must be valid JSON.") from None
            ctx = Ctx(seller=seller, shop=the_shop, query=query, params=dict(request.path_params),
                      body=body if body is not None else {}, form=form)
            with sb.world.lock:
                data = handler(ctx)
            return envelope(data)
        except ApiError as exc:
            return envelope(None, exc.code, exc.message, exc.status)

    return Route(path, endpoint, methods=[method])


def check(sb: TikTokSandbox, template: str, path: str, query: dict[str, str], raw: bytes,
          content_type: str, shop_scoped: bool, token: str | None) -> tuple[str, Shop | None]:
    """TikTok's common-parameter checks; returns (seller, shop) or raises ApiError."""
    if query.get("app_key") != sb.app_key:
        raise ApiError(36009004, "Invalid app_key. The app is disabled or does not exist.")
    if "sign" not in query:
        raise ApiError(36009004, "Missing required parameter: sign.")
    try:
        stamp = int(query.get("timestamp", ""))
    except ValueError:
        raise ApiError(36009004, "Invalid timestamp.") from None
    now = sb.world.now()
    if stamp < now - 300 or stamp > now + 30:
        raise ApiError(36009004, "Invalid timestamp: it must be within 5 minutes of server time.")
    if not signing.verify(path, query, raw, content_type, sb.app_secret):
        raise ApiError(106001, "Invalid sign.")
    for legacy in ("access_token", "version", "shop_id"):
        if legacy in query:
            raise ApiError(36009004, f"Invalid {legacy}: the parameter is not accepted by 202309 APIs.")
    seller = sb.world.seller_of(token)
    cipher = query.get("shop_cipher")
    if not shop_scoped:
        if cipher:
            raise ApiError(36009004, "Unexpected identifier: shop_cipher is not required.")
        return seller, None
    if not cipher:
        raise ApiError(106013, "shop_cipher is required.")
    shop = sb.world.by_cipher.get(cipher)
    if shop is None or shop.seller != seller:
        raise ApiError(101000, "The access token is invalid for this shop_cipher.")
    return seller, shop

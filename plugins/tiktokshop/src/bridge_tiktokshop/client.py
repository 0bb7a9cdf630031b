"""The TikTok Shop API client: signing, tokens, shop cipher, rate limits, error mapping.

Raw platform JSON stays in this package's client-side modules (this one and :mod:`mapping`);
the connector only sees bridge models. Every call is signed afresh (timestamp + sign), carries
the access token in ``x-tts-access-token`` and, on shop-scoped endpoints, the ``shop_cipher``.
An expired or refused token is refreshed once and the call repeated; a refused refresh makes the
store need reconnecting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

from bridge.connection import Connection
from bridge.errors import Misconfigured, NeedsReconnect, OutcomeUnknown, Transient
from bridge.http import HttpClient, RateLimit
from bridge_tiktokshop import auth, errormap, signing
from bridge_tiktokshop.markets import API_HOST, AUTH_HOST, DEFAULT_QPS

PLATFORM = "tiktokshop"
#: POST endpoints that only read (searches), by the end of their path.
READS_BY_POST = ("/search", "/categories/recommend", "/listing_check")
#: POST writes that may be sent twice with the effect of once (absolute sets, status changes,
#: image uploads, whose second copy is merely unused), by the end of their path.
IDEMPOTENT_POSTS = ("/inventory/update", "/prices/update", "/deactivate", "/activate",
                    "/images/upload", "/images/optimize")


def dumps(body: Any) -> bytes:
    """Serialise a JSON body once: these exact bytes are signed and sent."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def rate_limits(connection: Connection) -> dict[str, RateLimit]:
    """Documented limit per API per shop; the ``rate_limit`` setting (QPS) overrides it.

    Paced evenly (no burst) at the limit, within TikTok's sliding second (``window``): a full
    bucket spent at once plus a second of refill would be twice the limit, and a request sent
    some milliseconds after its slot (thread scheduling, a loaded host) could put one too many
    into a second; the window counts each request until a second after its answer, so none can
    (a pacer shared across processes keeps a margin instead: :data:`bridge.pacing.BLIND_SHARE`).
    """
    qps = float(connection.setting("rate_limit", DEFAULT_QPS))
    return {"default": RateLimit(rate=qps, burst=1, window=1.0)} if qps > 0 else {}


class TikTokClient:
    """Signed calls for one shop (a :class:`~bridge.connection.Connection`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.app_key = str(connection.app.require("app_key"))
        self.app_secret = str(connection.app.require("app_secret"))
        base = connection.base_url or API_HOST
        self.http: HttpClient = connection.http_client(base, rate_limits=rate_limits(connection))
        self.http.add_secret(self.app_secret)

    # ------------------------------------------------------------------ tokens

    def _auth_http(self) -> HttpClient:
        return self.connection.http_client(self.connection.base_url or AUTH_HOST, name="auth")

    def refresh(self, stale: str | None) -> None:
        """Refresh the access token ``stale`` once across every worker (the core's single
        flight: a worker that finds it renewed by another takes the stored pair) and have the
        core keep the new pair."""

        def renew(creds: dict[str, Any]) -> dict[str, Any]:
            return auth.refresh_token(self._auth_http(), self.app_key, self.app_secret,
                                      str(creds.get("refresh_token") or ""))

        creds = self.connection.renew_credentials("access_token", stale, renew)
        self.http.add_secret(str(creds.get("access_token") or ""))

    def _token(self) -> str:
        creds = self.connection.credentials
        if auth.expiring(creds):
            self.refresh(creds.get("access_token"))
        token = creds.get("access_token")
        if not token:
            raise NeedsReconnect("TikTok Shop: no access token is stored: connect the shop again")
        return str(token)

    # ------------------------------------------------------------------ shop

    def shop_cipher(self) -> str:
        """The shop's cipher (settings, else looked up once by shop id through Get Authorized Shops)."""
        cipher = self.connection.setting("shop_cipher") or self.connection.state.get("shop_cipher")
        if cipher:
            return str(cipher)
        shops = self.authorized_shops()
        wanted = self.connection.setting("shop_id")
        match = [s for s in shops if not wanted or str(s["id"]) == str(wanted)]
        if len(match) != 1:
            raise Misconfigured("TikTok Shop: name the shop with --shop-id: this authorization covers "
                                + ", ".join(f"{s['id']} ({s.get('region')})" for s in shops))
        self.connection.state["shop_cipher"] = match[0]["cipher"]
        return str(match[0]["cipher"])

    def cached(self, key: str, ttl: float, fetch: Callable[[], list[Any]]) -> list[Any]:
        """``fetch()`` kept in the store state under ``key`` for ``ttl`` seconds. Fetched once
        when several tasks of the shop miss it at once (the others wait and take it: a shop's
        first page tasks all asked for its warehouses, 6.5 times a shop)."""
        state = self.connection.state
        entry = state.get(key)
        if entry and time.time() - entry["at"] < ttl:
            return entry["items"]
        with self.connection.single_flight(f"cached:{key}"):
            entry = state.get(key)  # fetched by another thread while this one waited
            if not entry or time.time() - entry["at"] >= ttl:
                entry = {"at": time.time(), "items": fetch()}
                state[key] = entry
        return entry["items"]

    def authorized_shops(self) -> list[dict[str, Any]]:
        return list(self.call("GET", "/authorization/202309/shops", shop=False).get("shops") or [])

    # ------------------------------------------------------------------ calls

    def call(self, method: str, path: str, *, query: dict[str, Any] | None = None,
             body: Any = None, shop: bool = True, files: dict[str, Any] | None = None,
             data: dict[str, str] | None = None, rate_key: str | None = None,
             idempotent: bool | None = None) -> dict[str, Any]:
        """One signed API call; returns ``data`` of the envelope (``{}`` when absent).

        :param shop: the endpoint is shop-scoped (sends ``shop_cipher``).
        :param files: multipart upload fields (the body is then not signed).
        :param idempotent: sending it twice does what sending it once does; by default reads,
            the writes of :data:`IDEMPOTENT_POSTS` and a body with an ``idempotency_key``. A
            write that is not is never sent twice once it may have been done
            (:class:`~bridge.errors.OutcomeUnknown`).
        """
        idem = is_idempotent(method, path, body) if idempotent is None else idempotent
        token = self._token()
        try:
            return self._call_once(method, path, query, body, shop, files, data, rate_key, idem, token)
        except errormap.TokenExpired:
            self.refresh(token)
            try:
                return self._call_once(method, path, query, body, shop, files, data, rate_key, idem,
                                       self._token())
            except errormap.TokenExpired as exc:
                raise NeedsReconnect(exc.message, definitive=False, detail=exc.detail) from None

    def _call_once(self, method: str, path: str, query: dict[str, Any] | None, body: Any,
                   shop: bool, files: dict[str, Any] | None, data: dict[str, str] | None,
                   rate_key: str | None, idempotent: bool, token: str) -> dict[str, Any]:
        params: dict[str, str] = {k: _qs(v) for k, v in (query or {}).items() if v not in (None, "", [])}
        params["app_key"] = self.app_key
        params["timestamp"] = str(int(time.time()))
        if shop:
            params["shop_cipher"] = self.shop_cipher()
        headers = {"x-tts-access-token": token}
        content: bytes | None = None
        content_type = "multipart/form-data" if files else "application/json"
        if body is not None and not files:
            content = dumps(body)
            headers["content-type"] = "application/json"
        params["sign"] = signing.sign(path, params, content, content_type, self.app_secret)
        response = self.http.request(method, path, params=params, content=content, files=files,
                                     data=data, headers=headers, rate_key=rate_key or path_key(path),
                                     idempotent=idempotent)
        try:
            payload = response.json()
        except ValueError:
            if response.is_success and not idempotent:
                raise OutcomeUnknown(f"TikTok Shop: the answer to {method} {path} could not be read: "
                                     "bridge looks it up before writing again",
                                     status=response.status_code) from None
            if response.is_success:
                raise Transient(f"TikTok Shop: the answer to {method} {path} could not be read: "
                                "retried later") from None
            payload = {"code": None, "message": f"HTTP {response.status_code} without JSON"}
        errormap.raise_for(response.status_code, payload, write=not idempotent)
        return payload.get("data") or {}

    def pages(self, method: str, path: str, *, query: dict[str, Any] | None = None,
              body: Any = None, key: str, page_token: str | None = None,
              ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Follow ``next_page_token``: yields (items, next token) per page, one page in memory."""
        token = page_token
        while True:
            q = dict(query or {})
            if token:
                q["page_token"] = token
            data = self.call(method, path, query=q, body=body)
            token = data.get("next_page_token") or None
            yield list(data.get(key) or []), token
            if not token:
                return


def is_idempotent(method: str, path: str, body: Any) -> bool:
    """Whether a call may be sent again after its answer was lost (see :meth:`TikTokClient.call`)."""
    if method.upper() != "POST":
        return True
    if path.endswith(READS_BY_POST) or path.endswith(IDEMPOTENT_POSTS):
        return True
    return isinstance(body, dict) and bool(body.get("idempotency_key"))


def _qs(value: Any) -> str:
    """A query value as signed and sent: lists comma-joined, booleans lower-case."""
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def path_key(path: str) -> str:
    """The rate-limit key of a path: one bucket per API (ids replaced by ``{}``)."""
    return "/".join("{}" if part.isdigit() or len(part) > 24 else part for part in path.split("/"))

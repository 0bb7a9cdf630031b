"""The Magento 2 REST client: base URL and store view, authentication, errors, paging.

Every call goes to ``{base}/rest/{store_code}/V1/{resource}`` through the connection's shared
HTTP layer (:meth:`bridge.connection.Connection.http_client`). Authentication is OAuth 1.0a
signing with the integration's four credentials (the default since 2.4.4) or ``Bearer <access
token>`` where the merchant enabled "Allow OAuth Access Tokens to be used as standalone Bearer
tokens"; in bearer mode a 401 falls back to signing once, when the four values are known.

:func:`raise_for` is the one table that turns Magento answers into :mod:`bridge.errors` kinds.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from bridge.connection import Connection
from bridge.errors import BridgeError, Misconfigured, NeedsReconnect, Rejected, Transient
from bridge.http import Answer, ErrorTable, HttpClient, RateLimit, read_json
from bridge_magento2.oauth import BearerAuth, OAuth1Auth
from bridge_magento2.search import Criteria

PLATFORM = "magento2"
DISPLAY = "Magento 2"
OAUTH_CREDENTIALS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")

#: Core Magento publishes no request quota (only optional backpressure on checkout endpoints,
#: which bridge does not call), so one polite bucket per store keeps a shared host responsive.
RATE_LIMITS = {"default": RateLimit(rate=25.0, burst=50)}


def sku_path(sku: str) -> str:
    """A SKU as a path segment (``/`` becomes ``%2F``, as Magento expects)."""
    return quote(sku, safe="")


def error_text(body: Any, fallback: str) -> str:
    """Magento's ``message`` with its ``%1`` / ``%name`` placeholders filled from ``parameters``."""
    if not isinstance(body, dict):
        return fallback
    message = str(body.get("message") or fallback)
    params = body.get("parameters")
    if isinstance(params, list):
        for i, value in reversed(list(enumerate(params, start=1))):
            message = message.replace(f"%{i}", str(value))
    elif isinstance(params, dict):
        for name in sorted(params, key=len, reverse=True):
            message = message.replace(f"%{name}", str(params[name]))
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        extra = "; ".join(error_text(e, "") for e in errors if isinstance(e, dict))
        if extra:
            message = f"{message}: {extra}"
    return message


def _forbidden(a: Answer) -> BridgeError:
    return Misconfigured(f"Magento forbade the call ({a.message})")


def _unauthorized(a: Answer) -> BridgeError:
    return NeedsReconnect(f"Magento refused the request ({a.message}): check that the integration is "
                          "active and has access to this resource, then connect again",
                          definitive=False)


def _server(a: Answer) -> BridgeError:
    return Transient(f"Magento answered {a.status}: {a.message}")


#: Where Magento differs from the core's table (bridge.http.ErrorTable):
#:
#: ======================  =================================================================
#: 401                     NeedsReconnect (a candidate): a bad signature, a revoked or
#:                         re-authorized token, or an integration without access to the
#:                         resource (Magento answers all three alike: "The consumer isn't
#:                         authorized to access %resources")
#: 403                     Misconfigured: the host or Magento forbids the call
#: 429, 5xx, other 4xx     the core's: RateLimited, Transient, Rejected with Magento's message
#: ======================  =================================================================
TABLE = ErrorTable(DISPLAY, {401: _unauthorized, 403: _forbidden, "5xx": _server},
                   retry_after_default=30.0)


def raise_for(response: httpx.Response, *, item: str | None = None) -> None:
    """Map a non-2xx Magento answer to a bridge error (see :data:`TABLE`)."""
    status = response.status_code
    if status < 400:
        return
    try:
        body = response.json()
    except ValueError:
        body = None
    text = error_text(body, response.reason_phrase or f"HTTP {status}")
    request_id = response.headers.get("x-request-id") or response.headers.get("x-magento-request-id")
    err = TABLE.error(response, message=text, code=str(status), request_id=request_id, item=item)
    if isinstance(err, Rejected):
        err.message = text  # Magento's own words, placeholders filled
    if err is not None:
        raise err


def store_base(connection: Connection) -> str:
    """The store's URL: the ``--base-url`` override (a sandbox) or the ``store_url`` setting."""
    base = connection.base_url or connection.setting("store_url")
    if not base:
        raise Misconfigured("Magento: give the store's URL (--store-url https://shop.example.com)")
    return str(base).rstrip("/")


class MagentoClient:
    """REST calls of one store view of one Magento store."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.base = store_base(connection)
        self.store_code = str(connection.setting("store_code", "default"))
        self.auth_mode = str(connection.state.get("auth_mode") or connection.setting("auth_mode", "oauth1"))

    # ------------------------------------------------------------------ transport

    def _http(self) -> HttpClient:
        conn = self.connection
        if self.auth_mode == "bearer":
            auth: httpx.Auth = BearerAuth(str(conn.secret("access_token")))
        else:
            auth = OAuth1Auth(*(str(conn.secret(name)) for name in OAUTH_CREDENTIALS))
        return conn.http_client(self.base, name=self.auth_mode, auth=auth, rate_limits=RATE_LIMITS)

    def _can_fall_back(self) -> bool:
        return self.auth_mode == "bearer" and all(self.connection.credentials.get(n) for n in OAUTH_CREDENTIALS)

    def url(self, resource: str) -> str:
        """The path of a V1 resource in the store view, relative to the store's URL."""
        return f"rest/{self.store_code}/V1/{resource.lstrip('/')}"

    def send(self, method: str, resource: str, *, params: Any = None, json: Any = None,
             missing_ok: bool = False, item: str | None = None) -> Any:
        """Call a V1 resource; return the decoded JSON (None for a 404 when ``missing_ok``)."""
        kwargs: dict[str, Any] = {}
        if params is not None:
            kwargs["params"] = params
        if json is not None:
            kwargs["json"] = json
        response = self._http().request(method, self.url(resource), **kwargs)
        if response.status_code == 401 and self._can_fall_back():
            # The store does not allow integration tokens as Bearer: sign from now on.
            self.auth_mode = "oauth1"
            self.connection.state["auth_mode"] = "oauth1"
            response = self._http().request(method, self.url(resource), **kwargs)
        if response.status_code == 404 and missing_ok:
            return None
        raise_for(response, item=item)
        return read_json(response, platform=DISPLAY, write=method.upper() == "POST")

    def get(self, resource: str, params: Any = None, *, missing_ok: bool = False) -> Any:
        return self.send("GET", resource, params=params, missing_ok=missing_ok)

    def post(self, resource: str, json: Any = None, *, item: str | None = None) -> Any:
        return self.send("POST", resource, json=json, item=item)

    # ------------------------------------------------------------------ paging

    def pages(self, resource: str, criteria: Criteria, start_page: int = 1
              ) -> Iterator[tuple[int, int, list[dict[str, Any]]]]:
        """Yield ``(page, last_page, items)`` of a search, one request per page.

        Stops at ``ceil(total_count / pageSize)``: Magento answers a page past the end with the
        last page again, so "until empty" would never end.
        """
        page = max(1, start_page)
        while True:
            data = self.get(resource, criteria.params(page))
            total = int(data.get("total_count") or 0)
            last = max(1, math.ceil(total / criteria.page_size))
            if page > last or total == 0:
                return
            yield page, last, list(data.get("items") or [])
            if page >= last:
                return
            page += 1

    def search_all(self, resource: str, criteria: Criteria) -> Iterator[dict[str, Any]]:
        """Every item of a search, page after page."""
        for _, _, items in self.pages(resource, criteria):
            yield from items

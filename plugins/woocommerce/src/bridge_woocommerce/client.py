"""The WooCommerce REST client: site URL, permalink mode, authentication, paging, errors.

Everything that touches raw HTTP lives here; :mod:`mapping` turns the JSON into bridge models.
Routes are given as WordPress REST routes (``/wc/v3/products``): with pretty permalinks they are
reached under ``/wp-json``, without them through ``/?rest_route=``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from bridge.connection import Connection
from bridge.errors import Misconfigured, OutcomeUnknown, Transient
from bridge.http import HttpClient, RateLimit, check_base_url
from bridge_woocommerce import auth, errormap

PLATFORM = "woocommerce"
API = "/wc/v3"
PER_PAGE = 100
#: WooCommerce core documents no limit on wc/v3; hosts do (shared hosting copes with ~25/s).
DEFAULT_RPS = 25.0
PERMALINK_STATE = "woocommerce:permalinks"


def rate_limits(connection: Connection) -> dict[str, RateLimit]:
    """The store's request budget: the ``requests_per_second`` setting (0: no client-side cap)."""
    rps = float(connection.setting("requests_per_second", DEFAULT_RPS))
    return {"default": RateLimit(rate=rps, burst=max(1, int(rps)))} if rps > 0 else {}


def site_url(connection: Connection) -> str:
    """Where requests go: the base URL override (a sandbox) or the store's site URL."""
    url = connection.base_url or connection.setting("site_url")
    if not url:
        raise Misconfigured("woocommerce: the store's site_url is not set: give --site-url https://shop.example.com")
    if "://" not in str(url):
        url = "https://" + str(url)
    return check_base_url(str(url))


class WooClient:
    """Authenticated wc/v3 calls for one store (a :class:`~bridge.connection.Connection`)."""

    def __init__(self, connection: Connection, *, auth_mode: str | None = None) -> None:
        self.connection = connection
        self.root = site_url(connection)
        key = str(connection.secret("consumer_key"))
        secret = str(connection.secret("consumer_secret"))
        mode = auth_mode or connection.setting("auth", "auto")
        self.auth_mode = auth.default_mode(self.root) if mode == "auto" else str(mode)
        self.auth = auth.make_auth(self.auth_mode, key, secret)
        self.http: HttpClient = connection.http_client(self.root, rate_limits=rate_limits(connection))
        self.http.add_secret(secret)
        self.http.add_secret(key)
        self._index: dict[str, Any] | None = None

    # ------------------------------------------------------------------ routing

    @property
    def permalinks(self) -> str:
        """``pretty`` (``/wp-json``) or ``plain`` (``?rest_route=``), detected once per store."""
        mode = self.connection.setting("permalinks", "auto")
        if mode in ("pretty", "plain"):
            return str(mode)
        known = self.connection.state.get(PERMALINK_STATE)
        if known in ("pretty", "plain"):
            return str(known)
        self.index()
        return str(self.connection.state[PERMALINK_STATE])

    def _target(self, route: str, params: list[tuple[str, str]], mode: str) -> tuple[str, list[tuple[str, str]]]:
        if mode == "plain":
            return "/", [("rest_route", route), *params]
        return "/wp-json" + route, params

    def index(self) -> dict[str, Any]:
        """The public REST index (``GET /wp-json/``): name, home, timezone and the namespaces
        (which tell the active plugins). Detects the permalink mode on first use."""
        if self._index is not None:
            return self._index
        configured = self.connection.setting("permalinks", "auto")
        modes = [configured] if configured in ("pretty", "plain") else ["pretty", "plain"]
        for mode in modes:
            path, params = self._target("/", [], mode)
            response = self.http.get(path, params=params)
            if response.status_code == 200:
                try:
                    body = errormap.parse_json(response)
                except ValueError:
                    continue
                if isinstance(body, dict) and "namespaces" in body:
                    self.connection.state[PERMALINK_STATE] = mode
                    self._index = body
                    return body
            elif response.status_code not in (404, 403):
                errormap.raise_for(response, "REST index")
        raise Misconfigured(
            f"woocommerce: no WordPress REST API answers at {self.root} (tried /wp-json/ and "
            "?rest_route=/): check the site URL and that the REST API is not blocked")

    def namespaces(self) -> list[str]:
        return [str(n) for n in self.index().get("namespaces") or []]

    # ------------------------------------------------------------------ calls

    def request(self, method: str, route: str, *, params: dict[str, Any] | None = None,
                json: Any = None, what: str = "") -> httpx.Response:
        """Send an authenticated request to a REST route; :raises: the mapped bridge error."""
        query = [(k, _param(v)) for k, v in (params or {}).items() if v is not None]
        path, query = self._target(route, query, self.permalinks)
        idempotent = True if method.upper() == "POST" and route.endswith("/batch") else None
        response = self.http.request(method, path, params=query, json=json, auth=self.auth,
                                     idempotent=idempotent)
        errormap.raise_for(response, what)
        return response

    def call(self, method: str, route: str, **kw: Any) -> Any:
        """:meth:`request` and return its JSON body (a create whose answer cannot be read raises
        :class:`~bridge.errors.OutcomeUnknown`: it may have been made)."""
        response = self.request(method, route, **kw)
        try:
            return errormap.parse_json(response)
        except ValueError:
            if method.upper() == "POST" and not route.endswith("/batch"):
                raise OutcomeUnknown(f"WooCommerce: the answer to POST {route} could not be read: "
                                     "bridge looks it up before writing again",
                                     status=response.status_code) from None
            raise Transient(f"WooCommerce answered {route} with a body that is not JSON") from None

    def get(self, route: str, params: dict[str, Any] | None = None, what: str = "") -> Any:
        return self.call("GET", API + route if not route.startswith("/wc") else route,
                         params=params, what=what)

    def pages(self, route: str, params: dict[str, Any], *, start: int = 1,
              what: str = "") -> Iterator[tuple[int, list[Any], int, httpx.Response]]:
        """Walk a collection: yields ``(page, items, total_pages, response)``, ``per_page`` 100."""
        page = start
        while True:
            response = self.request("GET", API + route, params={**params, "per_page": PER_PAGE,
                                                                 "page": page}, what=what)
            items = errormap.parse_json(response)
            header = response.headers.get("x-wp-totalpages")
            total = int(header) if header else (page + 1 if len(items or []) == PER_PAGE else page)
            yield page, list(items or []), total, response
            if page >= total or not items:
                return
            page += 1


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set):
        return ",".join(str(v) for v in value)
    return str(value)


def connect_client(connection: Connection) -> tuple[WooClient, dict[str, Any]]:
    """A client whose authentication works, and the store's ``system_status`` facts.

    With ``auth=auto`` over HTTPS, Basic is tried first; when the site answers 401
    ``woocommerce_rest_cannot_view`` (the host stripped the Authorization header, or WordPress does
    not see TLS) the keys go in the query string, then OAuth 1.0a signing is tried.
    """
    configured = connection.setting("auth", "auto")
    root = site_url(connection)
    modes = [str(configured)] if configured != "auto" else (
        ["basic", "query", "oauth1"] if root.startswith("https://") else ["oauth1"])
    params = {"_fields": "environment,active_plugins,settings"}
    for n, mode in enumerate(modes):
        client = WooClient(connection, auth_mode=mode)
        path, query = client._target(API + "/system_status", list(params.items()), client.permalinks)
        response = client.http.get(path, params=query, auth=client.auth)
        if response.status_code == 401 and n + 1 < len(modes):
            try:
                code = (errormap.parse_json(response) or {}).get("code")
            except (ValueError, AttributeError):
                code = None
            if code == "woocommerce_rest_cannot_view":
                continue
        errormap.raise_for(response, "connect")
        return client, errormap.parse_json(response)
    raise AssertionError("unreachable")  # pragma: no cover


def store_facts(client: WooClient) -> dict[str, str]:
    """Currency and weight/dimension units (``/settings``), cached in the store's state."""
    facts = client.connection.state.get("woocommerce:facts")
    if isinstance(facts, dict) and facts.get("currency"):
        return facts
    currency = client.get("/settings/general/woocommerce_currency", what="currency setting")
    units = {o.get("id"): o.get("value") for o in client.get("/settings/products", what="product settings") or []
             if isinstance(o, dict)}
    facts = {"currency": str(currency.get("value") or currency.get("default") or "USD").upper(),
             "weight": str(units.get("woocommerce_weight_unit") or "kg"),
             "dimension": str(units.get("woocommerce_dimension_unit") or "cm")}
    client.connection.state["woocommerce:facts"] = facts
    return facts

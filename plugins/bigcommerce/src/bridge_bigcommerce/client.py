"""HTTP access to one BigCommerce store: URLs, the auth header, quota pacing, error mapping.

Everything goes through the shared HTTP layer (``connection.http_client``). Paths are relative to
``{base}/stores/{store_hash}`` where ``base`` is ``https://api.bigcommerce.com`` or the
connection's base URL override (a sandbox). Raw JSON is returned only to the other modules of
this package (catalog, orders, webhooks), which turn it into :mod:`bridge.models` values.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx

from bridge.connection import Connection
from bridge.errors import Misconfigured
from bridge.http import read_json
from bridge_bigcommerce.errormap import map_error
from bridge_bigcommerce.pacing import QuotaPacer

API_HOST = "https://api.bigcommerce.com"
LOGIN_HOST = "https://login.bigcommerce.com"
#: v3 catalog lists return at most 250 items per page.
V3_MAX_LIMIT = 250
#: v2 lists (orders, shipments): 250 (max UNCONFIRMED in the spec; 50 by default).
V2_MAX_LIMIT = 250


def api_base(connection: Connection) -> str:
    return (connection.base_url or API_HOST).rstrip("/")


class BigCommerceClient:
    """One store's API, authenticated with its ``X-Auth-Token``."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.store_hash = str(connection.setting("store_hash") or "").strip()
        if not self.store_hash:
            raise Misconfigured("bigcommerce: setting 'store_hash' is missing: it is the short id "
                                "in the API path https://api.bigcommerce.com/stores/<store_hash>/v3/")
        token = connection.secret("access_token")
        # the quota is store-wide: one pacer per store, shared by its clients
        self.pacer = connection.pacer("quota", QuotaPacer)
        self.http = connection.http_client(
            api_base(connection), name="api", pacer=self.pacer,
            headers={"X-Auth-Token": str(token)},
        )
        self.last_date: str | None = None

    # ------------------------------------------------------------------ raw requests

    def path(self, version: str, path: str) -> str:
        return f"/stores/{self.store_hash}/{version}/{path.lstrip('/')}"

    def send(self, method: str, version: str, path: str, *, params: dict[str, Any] | None = None,
             json: Any = None) -> httpx.Response:
        """Send one request (paced by the quota headers); returns the response as is."""
        kwargs: dict[str, Any] = {"params": params}
        if json is not None:
            kwargs["json"] = json
            kwargs["headers"] = {"Content-Type": "application/json"}
        response = self.http.request(method, self.path(version, path), **kwargs)
        self.last_date = response.headers.get("date") or self.last_date
        return response

    def call(self, method: str, version: str, path: str, *, params: dict[str, Any] | None = None,
             json: Any = None, item: str | None = None, missing_ok: bool = False) -> Any:
        """Send and decode: the JSON body, None for 204 (or 404 when ``missing_ok``).

        :raises bridge.errors.BridgeError: the mapped error of any other non-2xx answer.
        """
        response = self.send(method, version, path, params=params, json=json)
        if response.status_code == 404 and missing_ok:
            return None
        if response.status_code >= 400 or response.status_code < 200:
            raise map_error(response, item=item)
        if response.status_code == 204 or not response.content:
            return None
        return read_json(response, platform="BigCommerce", write=method.upper() == "POST")

    # ------------------------------------------------------------------ pagination

    def v3_pages(self, path: str, params: dict[str, Any]) -> Iterator[tuple[list[dict], dict]]:
        """Walk a v3 list by ``page`` until ``meta.pagination`` says it was the last."""
        page = int(params.get("page", 1))
        while True:
            body = self.call("GET", "v3", path, params={**params, "page": page}) or {}
            data = body.get("data") or []
            pagination = (body.get("meta") or {}).get("pagination") or {}
            del body
            yield data, pagination
            count = len(data)
            del data  # the caller has the page: it is not kept here while the next one is read
            if is_last_page(pagination, count, int(params.get("limit", 50))):
                return
            page += 1

    def v2_pages(self, path: str, params: dict[str, Any]) -> Iterator[tuple[int, list[dict]]]:
        """Walk a v2 list (plain arrays; 204 or ``[]`` ends it); yields (page, items)."""
        page = int(params.get("page", 1))
        limit = int(params.get("limit", 50))
        while True:
            items = self.call("GET", "v2", path, params={**params, "page": page}) or []
            yield page, items
            if len(items) < limit:
                return
            page += 1


def is_last_page(pagination: dict, count: int, limit: int) -> bool:
    """True when a v3 page is the last one (meta first, then a short page)."""
    if pagination:
        current = int(pagination.get("current_page") or 1)
        total_pages = int(pagination.get("total_pages") or 0)
        return current >= total_pages
    return count < limit

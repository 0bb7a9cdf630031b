"""The Shopify Admin GraphQL client of one store: endpoint, auth header, cost pacing, errors.

``POST {base}/admin/api/{version}/graphql.json`` with ``X-Shopify-Access-Token`` (platform doc
§1.1), where ``base`` is ``https://{shop}`` or the connection's base URL override (a sandbox).
Raw JSON stays in this package: callers get the ``data`` object and turn it into models with
:mod:`bridge_shopify.mapping`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx

from bridge.connection import Connection
from bridge.errors import OutcomeUnknown, Transient
from bridge.http import MAX_INLINE_WAIT, read_json
from bridge_shopify import errors
from bridge_shopify.auth import TokenSource, normalize_shop, shop_base_url
from bridge_shopify.throttle import THROTTLED_RETRIES, CostBucket

log = logging.getLogger("bridge_shopify")
#: ``connection.state`` key of the last known cost budget (the next process starts from it).
BUDGET_STATE = "shopify.cost_budget"

#: The API version used when the store's settings name none (a setting: ``api_version``): the
#: version of the vendored Admin schema every document is validated against and the sandbox runs
#: (see the plugin README, "API version").
DEFAULT_API_VERSION = "2025-01"


class ShopifyClient:
    """GraphQL calls for one connection (cheap to build; HTTP clients are reused per store)."""

    def __init__(self, connection: Connection) -> None:
        self.conn = connection
        self.shop = normalize_shop(connection.setting("shop"))
        self.api_version = str(connection.setting("api_version", DEFAULT_API_VERSION))
        self.base_url = shop_base_url(self.shop, connection.base_url)
        self.tokens = TokenSource(connection, self.base_url)
        # the cost budget is per store: one bucket shared by the store's clients (bridge.pacing)
        self.bucket: CostBucket = connection.pacer("cost", CostBucket)
        if not self.bucket.loaded:  # the last budget a process saw, not a full bucket
            self.bucket.load(connection.state.get(BUDGET_STATE))

    @property
    def path(self) -> str:
        return f"/admin/api/{self.api_version}/graphql.json"

    def _http(self) -> Any:
        return self.conn.http_client(self.base_url, name="admin")

    def _post(self, token: str, body: dict[str, Any], idempotent: bool) -> httpx.Response:
        return self._http().post(
            self.path, json=body, idempotent=idempotent,
            headers={"X-Shopify-Access-Token": token, "Content-Type": "application/json"},
        )

    def execute(self, operation: str, document: str, variables: dict[str, Any] | None = None) -> dict:
        """Run one query or mutation; returns its ``data``.

        Paces by query cost first; on 401 renews the token once (refresh or client credentials)
        and sends again, else :class:`~bridge.errors.NeedsReconnect`. A query is sent again after
        a lost answer; a mutation never is (:class:`~bridge.errors.OutcomeUnknown`).
        """
        for attempt in range(THROTTLED_RETRIES + 1):
            try:
                return self._execute_once(operation, document, variables)
            except errors.Throttled as exc:
                # the query did not run (mutations too), so sending it again after the wait
                # throttleStatus tells is safe; a long wait goes to the scheduler
                if attempt == THROTTLED_RETRIES or exc.retry_after > MAX_INLINE_WAIT:
                    raise
                self.bucket.waited += exc.retry_after
                time.sleep(exc.retry_after)
        raise AssertionError("unreachable")

    def _execute_once(self, operation: str, document: str, variables: dict[str, Any] | None) -> dict:
        body = {"query": document, "variables": variables or {}, "operationName": operation}
        write = is_mutation(document)
        self.bucket.before(operation)
        token = self.tokens.token()
        response = self._post(token, body, not write)
        if response.status_code == 401 and self.tokens.renew(stale=token):
            response = self._post(self.conn.credentials["access_token"], body, not write)
        if response.status_code != 200:
            raise errors.http_error(response)
        served = response.headers.get("x-shopify-api-version")
        if served and served != self.api_version:
            log.warning("shopify: asked for API %s, Shopify served %s", self.api_version, served)
        payload = read_json(response, platform="shopify", write=write)
        if not isinstance(payload, dict):
            raise Transient("shopify: the Admin API answered with a body that is not a JSON object")
        cost = (payload.get("extensions") or {}).get("cost")
        self.bucket.update(operation, cost)
        kept = self.bucket.snapshot() if cost else None
        if kept is not None:
            self.conn.state[BUDGET_STATE] = kept
        if payload.get("errors"):
            err = errors.graphql_error(
                payload["errors"], cost=cost, retry_after=self.bucket.retry_after(cost),
                response=response,
            )
            if write and type(err) is Transient:  # INTERNAL_SERVER_ERROR: it may have been done
                raise OutcomeUnknown(f"{err.message} (a mutation: bridge looks it up before writing "
                                     "again)", status=response.status_code)
            raise err
        return payload.get("data") or {}

    def mutate(self, operation: str, document: str, variables: dict[str, Any], field: str,
               *, errors_key: str = "userErrors", item: str | None = None) -> dict[str, Any]:
        """Run a mutation and return its payload; non-empty user errors raise ``Rejected``."""
        data = self.execute(operation, document, variables)
        payload = data.get(field) or {}
        errors.user_errors(payload.get(errors_key), item=item)
        return payload

    def stream_lines(self, url: str) -> Iterator[dict[str, Any]]:
        """Stream a JSONL file (a bulk operation's result) object by object, never whole.

        The result lives on a storage host with a signed URL: no access token is sent.
        """
        parts = httpx.URL(url)
        origin = f"{parts.scheme}://{parts.netloc.decode()}"
        client = self.conn.http_client(origin, name="bulk-result")
        try:
            with client.client.stream("GET", url) as response:
                if response.status_code != 200:
                    response.read()
                    raise errors.http_error(response, what="the bulk operation result")
                for line in response.iter_lines():
                    if line.strip():
                        yield json.loads(line)
        except httpx.TransportError as exc:
            raise Transient(
                f"shopify: the bulk operation result could not be read: {type(exc).__name__}"
            ) from None


def is_mutation(document: str) -> bool:
    """True when a GraphQL document is a mutation (a write), False for a query."""
    text = document.lstrip()
    while text.startswith("#"):
        text = text.split("\n", 1)[-1].lstrip()
    return text.startswith("mutation")

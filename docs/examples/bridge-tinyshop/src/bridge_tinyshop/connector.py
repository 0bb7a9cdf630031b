"""The Tiny Shop connector: bridge's hooks for the platform ``tinyshop``.

Written with ``bridge new connector tinyshop --kind ecommerce``, then filled in. The scaffold put
each hook's contract in its docstring; once a hook is written, its docstring says what Tiny Shop
does and names the contract in ``bridge.hookspecs`` (a copy would go stale as the contract
grows). ``pytest tests/test_contract.py`` runs the connector test kit.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx

from bridge import hookimpl
from bridge.connection import AppContext, Connection
from bridge.errors import WebhookRejected
from bridge.http import ErrorTable, HttpClient
from bridge.models import (
    CreatedOrder,
    Fulfillment,
    InventoryLevel,
    Order,
    OrderDraft,
    OrderPage,
    PlatformInfo,
    Prerequisite,
    Product,
    ProductPage,
    Setting,
    StoreInfo,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from bridge_tinyshop import mapping
from bridge_tinyshop.sandbox import SIGNATURE, WEBHOOK_SECRET, Sandbox, sign

PLATFORM = "tinyshop"
API_HOST = "https://api.tinyshop.example"
"""The platform's real API host (a connection's ``base_url`` setting points elsewhere: a sandbox)."""


def client(connection: Connection) -> HttpClient:
    """The store's HTTP client: bridge's shared layer (reuse, timeouts, retries, redacted logs)."""
    return connection.http_client(connection.base_url or API_HOST,
                                  headers={"Authorization": f"Bearer {connection.secret('token')}"})


ERRORS = ErrorTable(PLATFORM)
"""Status -> bridge error: the core's defaults (401 NeedsReconnect, 429 RateLimited with its
wait, 5xx Transient, other 4xx Rejected); add ``overrides={403: ...}`` where the platform differs."""


def answer(response: httpx.Response, item: str | None = None) -> Any:
    """The JSON of an answer, or the bridge error its status means."""
    if response.status_code >= 400:
        body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
        ERRORS.raise_for(response, message=str(body.get("message") or body.get("error") or ""),
                         code=body.get("code"), item=item)
    return response.json()



@hookimpl
def describe_platform() -> PlatformInfo:
    """Tiny Shop is an eCommerce platform: one API token per store, webhooks.

    Contract: :func:`bridge.hookspecs.describing.describe_platform`.
    """
    return PlatformInfo(
        name=PLATFORM, kind="ecommerce", display_name="Tiny Shop",
        settings=[Setting(name="token", secret=True, required=True, help="API token")],
        webhooks=True,
    )


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    """Reads ``GET /shop`` with the token, so a refused token fails here.

    Contract: :func:`bridge.hookspecs.connecting.connect`.
    """
    data = answer(client(connection).get("/shop"))
    return StoreInfo(remote_id=data["id"], name=data["name"], currency=data["currency"])


@hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    """Tiny Shop needs nothing set up beyond a token that reads ``GET /shop``.

    Contract: :func:`bridge.hookspecs.connecting.check_prerequisites`.
    """
    answer(client(connection).get("/shop"))
    return [Prerequisite(key="api", title="The Tiny Shop API answers with the token", ok=True,
                         flows=["products", "orders"])]


@hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """``GET /products`` by update time (whole seconds), ten a page. The cursor (JSON: the
    second, the ids of that second already yielded, the page token) resumes mid-stream, and the
    last one makes the next run read only what changed since.

    Contract: :func:`bridge.hookspecs.catalog.list_products`.
    """
    # cursor: {"since": s, "seen": [ids updated in second s already yielded], "page": token}
    state = json.loads(cursor) if cursor else {"since": 0, "seen": [], "page": None}
    http, since, seen = client(connection), state["since"], set(state["seen"])
    top, top_ids, page = since, set(seen), state.get("page")
    while True:
        params = {"updated_at_min": since, "limit": 10, **({"page_token": page} if page else {})}
        data = answer(http.get("/products", params=params))
        rows = [p for p in data["products"] if not (p["updated_at"] == since and p["id"] in seen)]
        for p in data["products"]:
            if p["updated_at"] > top:
                top, top_ids = p["updated_at"], set()
            if p["updated_at"] == top:
                top_ids.add(p["id"])
        page = data.get("next_page_token")
        nxt = ({"since": since, "seen": sorted(seen), "page": page, "top": top} if page
               else {"since": top, "seen": sorted(top_ids), "page": None})
        if rows or not page:
            yield ProductPage(products=[mapping.product(p) for p in rows], cursor=json.dumps(nxt))
        if not page:
            return


@hookimpl
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    """``GET /products?ids=...``.

    Contract: :func:`bridge.hookspecs.catalog.get_products`.
    """
    data = answer(client(connection).get("/products", params={"ids": ",".join(product_ids)}))
    return [mapping.product(p) for p in data["products"]]


@hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """``GET /inventory``, for the given variants or all.

    Contract: :func:`bridge.hookspecs.catalog.read_inventory`.
    """
    params = {"variant_ids": ",".join(variant_ids)} if variant_ids else {}
    for row in answer(client(connection).get("/inventory", params=params))["levels"]:
        yield InventoryLevel(product_id=row["product_id"], variant_id=row["variant_id"], sku=row["sku"],
                             quantity=row["available"])


@hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """``GET /orders`` updated since the cursor (a Unix second), in one page.

    Contract: :func:`bridge.hookspecs.orders.list_orders`.
    """
    since = int(cursor or 0)
    rows = answer(client(connection).get("/orders", params={"updated_at_min": since}))["orders"]
    if rows:
        yield OrderPage(orders=[mapping.order(o) for o in rows], cursor=str(max(o["updated_at"] for o in rows)))


@hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    """``GET /orders?ids=...``.

    Contract: :func:`bridge.hookspecs.orders.get_orders`.
    """
    data = answer(client(connection).get("/orders", params={"ids": ",".join(order_ids)}))
    return [mapping.order(o) for o in data["orders"]]


@hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    """``GET /orders?source_order_id=...``: Tiny Shop keeps the channel order id on the order.

    Contract: :func:`bridge.hookspecs.orders.find_order`.
    """
    data = answer(client(connection).get("/orders", params={"source_order_id": source_order_id}))
    return data["orders"][0]["id"] if data["orders"] else None


@hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """``POST /orders`` carrying the channel order id, after :func:`find_order` found none.

    Contract: :func:`bridge.hookspecs.orders.create_order`.
    """
    existing = find_order(connection, draft.source_order_id)
    if existing:
        return CreatedOrder(remote_id=existing, existed=True)
    body = {"source_order_id": draft.source_order_id, "email": draft.buyer_email, "name": draft.buyer_name,
            "shipping": str(draft.shipping.amount), "total": str(draft.total.amount),
            "lines": [{"variant_id": ln.variant_id, "quantity": ln.quantity, "price": str(ln.unit_price.amount)}
                      for ln in draft.lines]}
    data = answer(client(connection).post("/orders", json=body), item=draft.source_order_id)
    return CreatedOrder(remote_id=data["id"])


@hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    """``POST /orders/{id}/cancel``; Tiny Shop answers whether this call cancelled it.

    Contract: :func:`bridge.hookspecs.orders.cancel_order`.
    """
    return bool(answer(client(connection).post(f"/orders/{order_id}/cancel"), item=order_id)["cancelled"])


@hookimpl
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """``GET /orders/{id}/fulfillments`` for each order.

    Contract: :func:`bridge.hookspecs.fulfilment.list_fulfillments`.
    """
    out = []
    for oid in order_ids:
        for f in answer(client(connection).get(f"/orders/{oid}/fulfillments"))["fulfillments"]:
            out.append(mapping.fulfillment(oid, f))
    return out


@hookimpl
def register_webhooks(connection: Connection, url: str) -> list[str]:
    """``POST /webhooks`` with the address; Tiny Shop keeps one subscription per address.

    Contract: :func:`bridge.hookspecs.webhooks.register_webhooks`.
    """
    return [answer(client(connection).post("/webhooks", json={"url": url}))["id"]]


@hookimpl
def receive_webhook(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    """Checks the HMAC of the raw body (the store's ``webhook_secret``, else the app's) before
    parsing; a ``products/*`` topic names products, any other orders.

    Contract: :func:`bridge.hookspecs.webhooks.receive_webhook`.
    """
    secret = (connection.credentials.get("webhook_secret") if connection else None) or WEBHOOK_SECRET
    given = request.header(SIGNATURE) or ""
    if not hmac.compare_digest(given, sign(request.body, secret)):
        raise WebhookRejected("Tiny Shop: the delivery's signature does not match: refused")
    data = json.loads(request.body)
    kind = "product" if data["topic"].startswith("products/") else "order"
    return WebhookDelivery(events=[WebhookEvent(kind=kind, remote_ids=data.get("ids", []))])


@hookimpl
def sandbox(options: dict[str, Any]) -> Any:
    """The Tiny Shop sandbox (:mod:`bridge_tinyshop.sandbox`) on the sandbox kit.

    Contract: :func:`bridge.hookspecs.extending.sandbox`.
    """
    return Sandbox(options)

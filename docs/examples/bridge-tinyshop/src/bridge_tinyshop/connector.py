"""The Tiny Shop connector: bridge's hooks for the platform ``tinyshop``.

Each hook below carries its contract (from ``bridge.hookspecs``). Fill in those that raise
``NotImplementedError``; ``pytest tests/test_contract.py`` runs the connector test kit, which
lists what is left ("not written yet") and what is wrong.
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
    """Describe the platform this plugin connects: name, kind, settings, app settings.

    Called once at load time; must be fast and make no network call.

    :returns: :class:`~bridge.models.PlatformInfo` — ``name`` (lower-case, the entry point's
        name), ``kind`` (``"ecommerce"`` or ``"channel"``), ``display_name``, ``settings`` (what
        one connection needs, with ``secret=True`` for keys and tokens: they become options of
        ``bridge connect`` and may come from an environment variable or a hidden prompt),
        ``app_settings`` (bridge-wide, e.g. an OAuth app's key and secret), ``connect_methods``,
        ``webhooks`` (False: the platform is polled) and, for a channel, ``markets``
        (:class:`~bridge.models.Markets`: the markets its stores may sell in, those on its
        waitlist, the base regions of cross-border sellers it takes; the core enforces them at
        connect time and checks nothing when a channel declares none).
    """
    return PlatformInfo(
        name=PLATFORM, kind="ecommerce", display_name="Tiny Shop",
        settings=[Setting(name="token", secret=True, required=True, help="API token")],
        webhooks=True,
    )


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    """Validate the connection's settings and credentials against the platform.

    Called by ``bridge connect PLATFORM`` with given credentials, and again by ``bridge doctor``.
    Must make at least one authenticated call so bad credentials fail here, not later.

    :returns: :class:`~bridge.models.StoreInfo` with the remote id, name, domain, currency,
        region and timezone; ``credentials``/``settings`` to keep if the plugin derived any
        (e.g. a token for a client-credentials grant); ``warnings`` for the user.
    :raises NeedsReconnect: the credentials are refused. :raises Misconfigured: bad URL/settings.
    """
    data = answer(client(connection).get("/shop"))
    return StoreInfo(remote_id=data["id"], name=data["name"], currency=data["currency"])


@hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    """Report what must be set up on the platform before flows can run.

    Shown at connect time and by ``bridge doctor``. Each item says what is wrong and how to fix
    it where the platform's UI lives. A blocking item stops the flows it names. Read-only.
    """
    answer(client(connection).get("/shop"))
    return [Prerequisite(key="api", title="The Tiny Shop API answers with the token", ok=True,
                         flows=["products", "orders"])]


@hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """Stream the catalog page by page.

    :param cursor: ``None`` for everything, else a cursor this plugin returned before. A cursor
        from the middle of a stream resumes after that page; the last page's cursor, kept by the
        core, makes the next call incremental (only products changed since).
    :returns: an iterator of :class:`~bridge.models.ProductPage`; never hold the whole catalog.
        Deleted products may be yielded with ``status="deleted"``. Read-only.
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
    """Read the given products (after a webhook names them). Missing ones are left out."""
    data = answer(client(connection).get("/products", params={"ids": ",".join(product_ids)}))
    return [mapping.product(p) for p in data["products"]]


@hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """Stream available quantities.

    eCommerce: per variant (``None``: every variant), at the locations the store's settings
    choose, summed. Channel: per SKU of bridge's listings. Read-only.
    """
    params = {"variant_ids": ",".join(variant_ids)} if variant_ids else {}
    for row in answer(client(connection).get("/inventory", params=params))["levels"]:
        yield InventoryLevel(product_id=row["product_id"], variant_id=row["variant_id"], sku=row["sku"],
                             quantity=row["available"])


@hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """Stream orders updated since ``cursor`` (``None``: a platform-chosen recent window).

    Channel: every status (the core decides what to hand on; ``released`` tells whether the
    on-hold window has passed, ``fulfilled_by`` who ships). eCommerce: orders created by bridge's
    source, for cancellations. Read-only.
    """
    since = int(cursor or 0)
    rows = answer(client(connection).get("/orders", params={"updated_at_min": since}))["orders"]
    if rows:
        yield OrderPage(orders=[mapping.order(o) for o in rows], cursor=str(max(o["updated_at"] for o in rows)))


@hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    """Read the given orders. Missing ones are left out. Read-only."""
    data = answer(client(connection).get("/orders", params={"ids": ",".join(order_ids)}))
    return [mapping.order(o) for o in data["orders"]]


@hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    """eCommerce: the id of an order already carrying this channel order id (created by bridge
    or by another app), or None. Read-only.
    """
    data = answer(client(connection).get("/orders", params={"source_order_id": source_order_id}))
    return data["orders"][0]["id"] if data["orders"] else None


@hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """eCommerce: create an order for a channel order, with the prices the channel charged.

    Must be idempotent: look up an order carrying ``draft.source_order_id`` first and return it
    with ``existed=True``. The created order carries the source order id where the platform lets
    it (metadata, external id, tags) so that lookup finds it after a crash.
    :raises Rejected: the platform refused it (e.g. unknown variant).
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
    """Cancel an order (restocking where the platform does). Idempotent: cancelling a cancelled
    order returns False and changes nothing; True when this call cancelled it.
    :raises Rejected: it cannot be cancelled any more (e.g. shipped).
    """
    return bool(answer(client(connection).post(f"/orders/{order_id}/cancel"), item=order_id)["cancelled"])


@hookimpl
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """eCommerce: fulfilments of these orders with their tracking numbers and carriers. Read-only.
    :raises Misconfigured: tracking cannot be read at all (e.g. no tracking plugin).
    """
    out = []
    for oid in order_ids:
        for f in answer(client(connection).get(f"/orders/{oid}/fulfillments"))["fulfillments"]:
            out.append(mapping.fulfillment(oid, f))
    return out


@hookimpl
def register_webhooks(connection: Connection, url: str) -> list[str]:
    """Subscribe the store's change notifications to ``url``; returns the subscription ids.
    Idempotent: existing subscriptions to the same URL are kept, not duplicated. Secrets the
    verification needs go to ``connection.save_credentials``.
    """
    return [answer(client(connection).post("/webhooks", json={"url": url}))["id"]]


@hookimpl
def receive_webhook(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    """Verify a delivery's signature over the raw body, then parse it.

    ``connection`` is the store the delivery's URL names, or None for app-wide endpoints (then
    return ``store_remote_id`` so the core finds the store). Verify before parsing any JSON.
    :raises WebhookRejected: bad or missing signature.
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
    """An emulator of the platform's API: an object with an ``app`` (ASGI application) attribute
    and the methods of :class:`bridge.sandboxing.EcommerceSandbox` or
    :class:`~bridge.sandboxing.ChannelSandbox`. ``bridge sandbox PLATFORM --port N`` serves it.

    :param options: ``seed`` (products to seed), ``variants`` (per product), ``latency_ms``,
        ``seed_random`` and platform-specific options.
    """
    return Sandbox(options)

"""Webhook subscriptions and deliveries (platform doc §9).

Deliveries carry ``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the **raw body** keyed with the
app's client secret, verified in constant time before any JSON is parsed. ``X-Shopify-Webhook-Id``
is not signed: the core drops repeated deliveries by the hash of the signed body instead.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.errors import WebhookRejected
from bridge.models import WebhookDelivery, WebhookEvent, WebhookRequest, WebhookSubscription
from bridge.values import parse_iso
from bridge_shopify import queries
from bridge_shopify.client import ShopifyClient
from bridge_shopify.errors import user_errors

#: What the flows need: catalog and stock changes, fulfilments, cancellations, refunds and order
#: edits (units taken off an order are cancelled on TikTok), uninstall.
TOPICS = (
    "PRODUCTS_CREATE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE",
    "INVENTORY_LEVELS_UPDATE", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE",
    "ORDERS_CANCELLED", "REFUNDS_CREATE", "ORDERS_EDITED", "APP_UNINSTALLED",
)
#: Wire topic → (event kind, GID type of the ids it names, payload key of the id).
EVENTS: dict[str, tuple[str, str | None, str | None]] = {
    "products/create": ("product", "Product", "id"),
    "products/update": ("product", "Product", "id"),
    "products/delete": ("product", "Product", "id"),
    "inventory_levels/update": ("inventory", "InventoryItem", "inventory_item_id"),
    "fulfillments/create": ("fulfillment", "Order", "order_id"),
    "fulfillments/update": ("fulfillment", "Order", "order_id"),
    "orders/cancelled": ("order_cancelled", "Order", "id"),
    "refunds/create": ("refund", "Order", "order_id"),
    "orders/edited": ("refund", "Order", "order_edit.order_id"),
    "app/uninstalled": ("uninstalled", None, None),
}


#: Shopify retries a failed delivery for 4 hours; a signed body older than this is a replay.
REPLAY_WINDOW = timedelta(hours=48)


def sign(body: bytes, secret: str) -> str:
    """Shopify's webhook signature of a raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def register(connection: Connection, url: str) -> list[str]:
    """Subscribe the flows' topics to ``url``; existing subscriptions are kept, not duplicated."""
    client = ShopifyClient(connection)
    data = client.execute("Webhooks", queries.WEBHOOKS, {"callbackUrl": url})
    existing = {n["topic"]: n["id"] for n in (data.get("webhookSubscriptions") or {}).get("nodes") or []
                if (n.get("endpoint") or {}).get("callbackUrl") == url}  # callbackUrl: deprecated
    ids = []
    for topic in TOPICS:
        if topic in existing:
            ids.append(existing[topic])
            continue
        payload = client.mutate("WebhookCreate", queries.WEBHOOK_CREATE,
                                {"topic": topic, "sub": {"callbackUrl": url, "format": "JSON"}},
                                "webhookSubscriptionCreate", item=topic)
        ids.append(payload["webhookSubscription"]["id"])
    return ids


def subscriptions(connection: Connection) -> list[WebhookSubscription]:
    """Every subscription of the app on this shop, page by page (``webhookSubscriptions``)."""
    client = ShopifyClient(connection)
    out: list[WebhookSubscription] = []
    after: str | None = None
    while True:
        data = client.execute("WebhooksAll", queries.WEBHOOKS_ALL, {"after": after})
        conn = data.get("webhookSubscriptions") or {}
        for n in conn.get("nodes") or []:
            address = (n.get("endpoint") or {}).get("callbackUrl") or ""
            out.append(WebhookSubscription(id=n["id"], topic=n["topic"], address=address))
        page = conn.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return out
        after = page.get("endCursor")


def delete(connection: Connection, ids: list[str]) -> None:
    """``webhookSubscriptionDelete`` each id; one already gone (a "not found" user error) is
    fine."""
    client = ShopifyClient(connection)
    for sid in ids:
        data = client.execute("WebhookDelete", queries.WEBHOOK_DELETE, {"id": sid})
        payload = data.get("webhookSubscriptionDelete") or {}
        refused = [e for e in payload.get("userErrors") or []
                   if "not found" not in str(e.get("message", "")).lower()]
        user_errors(refused, item=sid)


def _secrets(app: AppContext, connection: Connection | None) -> list[str]:
    """The secrets a delivery may be signed with: the store's own app's (a custom app per
    store) when it has one, else the bridge-wide app's; each with its predecessor during a
    rotation."""
    source: dict[str, Any] = app.settings
    if connection is not None and connection.credentials.get("client_secret"):
        source = connection.credentials
    values = [source.get("client_secret"), source.get("previous_client_secret")]
    return [v for v in values if isinstance(v, str) and v]


def _signed_time(body: dict[str, Any]) -> datetime | None:
    raw = body.get("updated_at") or body.get("created_at")
    return parse_iso(raw) if isinstance(raw, str) else None


def receive(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    """Verify the delivery's HMAC over the raw body, then parse it into events.

    Only the body is signed, so what matters is read from it: the delivery id is the body's
    hash (a signed body sent again under a new ``X-Shopify-Webhook-Id`` is the same delivery),
    a body whose own ``updated_at`` is older than :data:`REPLAY_WINDOW` is refused, an
    ``app/uninstalled`` body must name the shop of the delivery, and a body that is not a JSON
    object is refused.
    """
    given = (request.header("X-Shopify-Hmac-Sha256") or "").encode("utf-8", "replace")
    secrets = _secrets(app, connection)
    if not given or not secrets:
        raise WebhookRejected("shopify: webhook delivery without a verifiable X-Shopify-Hmac-Sha256")
    if not any(hmac.compare_digest(sign(request.body, s).encode(), given) for s in secrets):
        raise WebhookRejected("shopify: webhook signature does not match")
    topic = (request.header("X-Shopify-Topic") or "").lower()
    shop = (request.header("X-Shopify-Shop-Domain") or "").lower() or None
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise WebhookRejected("shopify: signed webhook body is not JSON") from None
    if not isinstance(body, dict):
        raise WebhookRejected("shopify: signed webhook body is not a JSON object")
    named = body.get("myshopify_domain")
    if named is not None or topic == "app/uninstalled":
        named = str(named or "").lower()
        if not named or (shop is not None and named != shop):
            raise WebhookRejected(f"shopify: {topic or 'webhook'} delivery names another shop than "
                                  f"{shop or 'its address'}")
        shop = named
    stamp = _signed_time(body)
    if topic != "app/uninstalled" and stamp is not None and \
            datetime.now(UTC) - stamp > REPLAY_WINDOW:
        raise WebhookRejected(f"shopify: webhook body of {stamp.isoformat()} is too old (a replay?)")
    kind, gid_type, key = EVENTS.get(topic, ("other", None, None))
    ids: list[str] = []
    value: Any = body
    for part in (key or "").split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if gid_type and key and value is not None and isinstance(value, int | str):
        ids.append(f"gid://shopify/{gid_type}/{value}")
    return WebhookDelivery(
        store_remote_id=shop, delivery_id="sha256:" + hashlib.sha256(request.body).hexdigest(),
        events=[WebhookEvent(kind=kind, remote_ids=ids, topic=topic)],
    )

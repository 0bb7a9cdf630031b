"""Webhook subscriptions and deliveries (platform doc §9).

Deliveries carry ``X-Shopify-Hmac-Sha256``: base64 HMAC-SHA256 of the **raw body** keyed with the
app's client secret, verified in constant time before any JSON is parsed. ``X-Shopify-Webhook-Id``
is the delivery id the core uses to drop repeated deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.errors import WebhookRejected
from bridge.models import WebhookDelivery, WebhookEvent, WebhookRequest
from bridge_shopify import queries
from bridge_shopify.client import ShopifyClient

#: What the flows need: catalog and stock changes, fulfilments, cancellations, uninstall.
TOPICS = (
    "PRODUCTS_CREATE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE",
    "INVENTORY_LEVELS_UPDATE", "FULFILLMENTS_CREATE", "FULFILLMENTS_UPDATE",
    "ORDERS_CANCELLED", "APP_UNINSTALLED",
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
    "app/uninstalled": ("uninstalled", None, None),
}


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


def _secrets(app: AppContext, connection: Connection | None) -> list[str]:
    values: list[Any] = []
    if connection is not None:
        values += [connection.credentials.get("client_secret"),
                   connection.credentials.get("previous_client_secret")]
    values += [app.settings.get("client_secret"), app.settings.get("previous_client_secret")]
    return [v for v in values if isinstance(v, str) and v]


def receive(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    """Verify the delivery's HMAC over the raw body, then parse it into events."""
    given = request.header("X-Shopify-Hmac-Sha256") or ""
    secrets = _secrets(app, connection)
    if not given or not secrets:
        raise WebhookRejected("shopify: webhook delivery without a verifiable X-Shopify-Hmac-Sha256")
    if not any(hmac.compare_digest(sign(request.body, s), given) for s in secrets):
        raise WebhookRejected("shopify: webhook signature does not match")
    topic = (request.header("X-Shopify-Topic") or "").lower()
    shop = (request.header("X-Shopify-Shop-Domain") or "").lower() or None
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        body = {}
    kind, gid_type, key = EVENTS.get(topic, ("other", None, None))
    ids: list[str] = []
    if gid_type and key and isinstance(body, dict) and body.get(key) is not None:
        ids.append(f"gid://shopify/{gid_type}/{body[key]}")
    return WebhookDelivery(
        store_remote_id=shop, delivery_id=request.header("X-Shopify-Webhook-Id"),
        events=[WebhookEvent(kind=kind, remote_ids=ids, topic=topic)],
    )

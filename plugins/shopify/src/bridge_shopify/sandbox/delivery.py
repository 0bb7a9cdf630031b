"""Webhook subscriptions of the sandbox store and their delivery, signed as Shopify signs them.

Deliveries go through the sandbox kit's deliverer (to subscribed addresses only): JSON body,
``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body with the
app's client secret),
``X-Shopify-Shop-Domain``, ``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``,
``X-Shopify-Event-Id`` and ``X-Shopify-Triggered-At``.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from bridge.sandboxing import Subscription, WebhookDeliverer
from bridge.sandboxing.auth import hmac_sha256_b64
from bridge_shopify.sandbox.state import gid, iso, now

TOPICS_ON_WIRE = {
    "PRODUCTS_CREATE": "products/create", "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete", "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "FULFILLMENTS_CREATE": "fulfillments/create", "FULFILLMENTS_UPDATE": "fulfillments/update",
    "ORDERS_CREATE": "orders/create", "ORDERS_CANCELLED": "orders/cancelled",
    "APP_UNINSTALLED": "app/uninstalled", "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
    "REFUNDS_CREATE": "refunds/create", "ORDERS_EDITED": "orders/edited",
}


class Webhooks:
    """Subscriptions (``webhookSubscriptionCreate``) and their deliveries (the kit's deliverer)."""

    def __init__(self, secret: str, shop_domain: str, api_version: str = "2025-01") -> None:
        self.secret = secret
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.lock = threading.Lock()
        self.subs: dict[str, dict[str, Any]] = {}
        self.deliverer: WebhookDeliverer | None = None
        """The kit's deliverer (set by the sandbox)."""
        self._next = 9_000_000

    def create(self, topic: str, sub_in: dict[str, Any]) -> tuple[dict | None, list[dict]]:
        url = sub_in.get("callbackUrl") or ""
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            return None, [{"field": ["webhookSubscription", "callbackUrl"],
                           "message": "Address is invalid"}]
        with self.lock:
            if any(s["topic"] == topic and s["callbackUrl"] == url for s in self.subs.values()):
                return None, [{"field": ["webhookSubscription", "callbackUrl"],
                               "message": "Address for this topic has already been taken"}]
            self._next += 1
            sub = {"_num": self._next, "id": gid("WebhookSubscription", self._next), "topic": topic,
                   "callbackUrl": url, "format": sub_in.get("format") or "JSON",
                   "createdAt": iso(now())}
            self.subs[sub["id"]] = sub
        return sub, []

    def delete(self, sid: str) -> tuple[str | None, list[dict]]:
        """``webhookSubscriptionDelete``: the deleted id, or Shopify's "not found" user error."""
        with self.lock:
            if self.subs.pop(sid, None) is None:
                return None, [{"field": ["id"], "message": "Webhook subscription does not exist"}]
        return sid, []

    def subscriptions(self, url: str | None = None, topics: list[str] | None = None) -> list[dict]:
        with self.lock:
            return [s for s in self.subs.values()
                    if (url is None or s["callbackUrl"] == url) and (not topics or s["topic"] in topics)]

    def view(self, sub: dict[str, Any]) -> dict[str, Any]:
        return {"id": sub["id"], "topic": sub["topic"], "callbackUrl": sub["callbackUrl"],
                "format": sub["format"], "includeFields": [], "metafieldNamespaces": [],
                "legacyResourceId": str(sub["_num"]), "createdAt": sub["createdAt"],
                "updatedAt": sub["createdAt"], "filter": None,
                "apiVersion": {"handle": self.api_version, "displayName": self.api_version,
                               "supported": True},
                "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub["callbackUrl"]}}

    def sign(self, body: bytes) -> str:
        return hmac_sha256_b64(self.secret, body)

    def kit_subscriptions(self) -> list[Subscription]:
        """The subscriptions as the kit's deliverer sees them (topics as sent on the wire)."""
        return [Subscription(id=s["id"], topic=TOPICS_ON_WIRE.get(s["topic"], s["topic"]), address=s["callbackUrl"],
                             extra={"format": s["format"], "api_version": self.api_version})
                for s in self.subscriptions()]

    def headers(self, sub: Subscription, topic: str, body: bytes) -> dict[str, str]:
        """The headers Shopify sends with a delivery (HMAC of the raw body with the app secret)."""
        return {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                "X-Shopify-Hmac-Sha256": self.sign(body), "X-Shopify-Shop-Domain": self.shop_domain,
                "X-Shopify-API-Version": self.api_version, "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-Triggered-At": iso(now()) or ""}

    def emit(self, wire_topic: str, payload: dict[str, Any]) -> None:
        """Queue a delivery of ``payload`` to every subscription of the topic."""
        if self.deliverer is not None:
            self.deliverer.emit(wire_topic, payload)

    @property
    def delivered(self) -> list[dict[str, Any]]:
        """Deliveries attempted: url, topic, status, headers, body."""
        if self.deliverer is None:
            return []
        with self.deliverer.lock:
            return [{"url": d["address"], "topic": d["topic"], "status": d["status"] or f"error: {d['error']}",
                     "headers": d["headers"], "body": d["body"]} for d in self.deliverer.log]

    def wait(self, timeout: float = 5.0) -> None:
        """Block until queued deliveries are sent (tests)."""
        if self.deliverer is not None:
            self.deliverer.flush(timeout)

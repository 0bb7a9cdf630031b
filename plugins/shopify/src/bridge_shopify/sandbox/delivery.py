"""Webhook subscriptions of the sandbox store and their delivery, signed as Shopify signs them.

Deliveries are POSTed from a background thread with httpx: JSON body, ``X-Shopify-Topic``,
``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body with the app's client secret),
``X-Shopify-Shop-Domain``, ``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id``,
``X-Shopify-Event-Id`` and ``X-Shopify-Triggered-At``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import uuid
from typing import Any

import httpx

from bridge_shopify.sandbox.state import gid, iso, now

TOPICS_ON_WIRE = {
    "PRODUCTS_CREATE": "products/create", "PRODUCTS_UPDATE": "products/update",
    "PRODUCTS_DELETE": "products/delete", "INVENTORY_LEVELS_UPDATE": "inventory_levels/update",
    "FULFILLMENTS_CREATE": "fulfillments/create", "FULFILLMENTS_UPDATE": "fulfillments/update",
    "ORDERS_CREATE": "orders/create", "ORDERS_CANCELLED": "orders/cancelled",
    "APP_UNINSTALLED": "app/uninstalled", "BULK_OPERATIONS_FINISH": "bulk_operations/finish",
}


class Webhooks:
    """Subscriptions (``webhookSubscriptionCreate``) and a delivery thread."""

    def __init__(self, secret: str, shop_domain: str, api_version: str = "2025-01") -> None:
        self.secret = secret
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.lock = threading.Lock()
        self.subs: dict[str, dict[str, Any]] = {}
        self.delivered: list[dict[str, Any]] = []
        self.queue: queue.Queue[tuple[str, str, bytes, str] | None] = queue.Queue()
        self.thread: threading.Thread | None = None
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
        return base64.b64encode(hmac.new(self.secret.encode(), body, hashlib.sha256).digest()).decode()

    def emit(self, wire_topic: str, payload: dict[str, Any]) -> None:
        """Queue a delivery of ``payload`` to every subscription of the topic."""
        targets = [s["callbackUrl"] for s in self.subscriptions()
                   if TOPICS_ON_WIRE.get(s["topic"]) == wire_topic]
        if not targets:
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        event_id = str(uuid.uuid4())
        for url in targets:
            self.queue.put((url, wire_topic, body, event_id))
        self._start()

    def _start(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="shopify-sandbox-webhooks",
                                               daemon=True)
                self.thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while True:
                job = self.queue.get()
                if job is None:
                    return
                url, topic, body, event_id = job
                headers = {
                    "Content-Type": "application/json", "X-Shopify-Topic": topic,
                    "X-Shopify-Hmac-Sha256": self.sign(body), "X-Shopify-Shop-Domain": self.shop_domain,
                    "X-Shopify-API-Version": self.api_version,
                    "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Event-Id": event_id,
                    "X-Shopify-Triggered-At": iso(now()) or "",
                }
                try:
                    status = client.post(url, content=body, headers=headers).status_code
                except httpx.HTTPError as exc:
                    status = f"error: {type(exc).__name__}"
                with self.lock:
                    self.delivered.append({"url": url, "topic": topic, "status": status,
                                           "headers": headers, "body": body})
                self.queue.task_done()

    def wait(self, timeout: float = 5.0) -> None:
        """Block until queued deliveries are sent (tests)."""
        done = threading.Event()

        def join() -> None:
            self.queue.join()
            done.set()

        threading.Thread(target=join, daemon=True).start()
        done.wait(timeout)

"""Webhooks: subscriptions for product, order and stock changes, and verifying deliveries.

Deliveries carry ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(raw body, secret)); the secret is
generated here, sent on creation (WooCommerce never returns it) and kept with the store's
credentials. Right after creation WooCommerce POSTs an unsigned ``webhook_id=<id>`` ping, which is
answered as a ``ping`` event and triggers nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.errors import Rejected, WebhookRejected
from bridge.models import WebhookDelivery, WebhookEvent, WebhookRequest, WebhookSubscription
from bridge_woocommerce.client import WooClient
from bridge_woocommerce.store import remote_id
from bridge_woocommerce.tracking import META_KEYS

SECRET_CREDENTIAL = "webhook_secret"
#: Stock changes made by orders fire no product.updated: WooCommerce's stock actions do.
TOPICS = ("product.created", "product.updated", "product.deleted", "product.restored",
          "order.created", "order.updated", "order.deleted",
          "action.woocommerce_product_set_stock", "action.woocommerce_variation_set_stock")
PING = re.compile(rb"^webhook_id=\d+$")


def signature(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def register(connection: Connection, url: str) -> list[str]:
    client = WooClient(connection)
    secret = connection.credentials.get(SECRET_CREDENTIAL)
    fresh = not secret
    if fresh:
        secret = secrets.token_urlsafe(32)  # no & < > " ' (WordPress decodes those entities)
        connection.save_credentials({SECRET_CREDENTIAL: secret})
    existing: dict[str, dict[str, Any]] = {}
    for _, items, _, _ in client.pages("/webhooks", {"status": "all"}, what="webhooks"):
        for hook in items:
            if hook.get("delivery_url") == url and hook.get("topic") in TOPICS:
                existing.setdefault(hook["topic"], hook)
    ids: list[str] = []
    for topic in TOPICS:
        hook = existing.get(topic)
        if hook is None:
            made = client.call("POST", "/wc/v3/webhooks", json={
                "name": f"bridge {topic}", "topic": topic, "delivery_url": url, "secret": secret,
                "status": "active"}, what=f"webhook {topic}")
            ids.append(str(made["id"]))
            continue
        update: dict[str, Any] = {}
        if fresh:
            update["secret"] = secret  # we no longer know the old one
        if hook.get("status") != "active":
            update["status"] = "active"  # disabled after failed deliveries
        if update:
            client.call("PUT", f"/wc/v3/webhooks/{hook['id']}", json=update, what=f"webhook {hook['id']}")
        ids.append(str(hook["id"]))
    return ids


def subscriptions(connection: Connection) -> list[WebhookSubscription]:
    """Every webhook of the site (``GET /webhooks?status=all``), disabled ones inactive."""
    client = WooClient(connection)
    return [WebhookSubscription(id=str(h["id"]), topic=str(h.get("topic") or ""),
                                address=str(h.get("delivery_url") or ""),
                                active=h.get("status") == "active")
            for _, items, _, _ in client.pages("/webhooks", {"status": "all"}, what="webhooks")
            for h in items]


def delete(connection: Connection, ids: list[str]) -> None:
    """``DELETE /webhooks/{id}?force=true`` (webhooks cannot be trashed); gone already is fine."""
    client = WooClient(connection)
    for hid in ids:
        try:
            client.request("DELETE", f"/wc/v3/webhooks/{hid}", params={"force": "true"},
                           what=f"webhook {hid}")
        except Rejected as exc:
            if exc.code != "woocommerce_rest_webhook_invalid_id":
                raise


def receive(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    source = request.header("X-WC-Webhook-Source")
    try:
        store = remote_id(source) if source else None
    except ValueError:  # not a URL (urlsplit refuses it)
        raise WebhookRejected("WooCommerce webhook: X-WC-Webhook-Source is not a site address") from None
    given = request.header("X-WC-Webhook-Signature")
    if given is None and request.header("X-WC-Webhook-Topic") is None and PING.match(request.body.strip()):
        return WebhookDelivery(store_remote_id=store, events=[WebhookEvent(kind="ping", topic="ping")])
    secret = (connection.credentials.get(SECRET_CREDENTIAL) if connection is not None else None)
    if not secret:
        raise WebhookRejected("WooCommerce webhook: no secret is kept for this store: register the webhooks again")
    if not given or not hmac.compare_digest(given.strip().encode("utf-8", "replace"),
                                            signature(request.body, str(secret)).encode()):
        raise WebhookRejected("WooCommerce webhook: X-WC-Webhook-Signature does not match the body")
    topic = request.header("X-WC-Webhook-Topic") or ""
    try:
        payload = json.loads(request.body)
    except ValueError:
        payload = {}
    return WebhookDelivery(store_remote_id=store, delivery_id=request.header("X-WC-Webhook-Delivery-ID"),
                           events=events(topic, payload if isinstance(payload, dict) else {}))


def events(topic: str, payload: dict[str, Any]) -> list[WebhookEvent]:
    """What a verified delivery tells of."""
    resource, _, event = topic.partition(".")
    rid = payload.get("id")
    rid = rid if isinstance(rid, int | str) else None
    if resource == "product":
        parent = payload.get("parent_id")
        pid = (parent if isinstance(parent, int | str) else None) or rid  # a variation's is its product's
        ids = [str(pid)] if pid else []
        out = [WebhookEvent(kind="product", remote_ids=ids, topic=topic)]
        if event == "updated":
            out.append(WebhookEvent(kind="inventory", remote_ids=[str(rid)] if rid else [], topic=topic))
        return out
    if resource == "order":
        ids = [str(rid)] if rid else []
        kind = "order_cancelled" if payload.get("status") == "cancelled" else "order"
        out = [WebhookEvent(kind=kind, remote_ids=ids, topic=topic)]
        meta = payload.get("meta_data")
        keys = {str(m.get("key")) for m in meta if isinstance(m, dict)} if isinstance(meta, list) else set()
        if keys & set(META_KEYS) or payload.get("status") == "completed":
            out.append(WebhookEvent(kind="fulfillment", remote_ids=ids, topic=topic))
        if payload.get("refunds"):  # order.updated fires on refunds (platform note §12.3)
            out.append(WebhookEvent(kind="refund", remote_ids=ids, topic=topic))
        return out
    if resource == "action" and event.endswith("_set_stock"):
        arg = payload.get("arg")
        vid = arg if isinstance(arg, int) or (isinstance(arg, str) and arg.isascii() and arg.isdigit()) \
            else (arg.get("id") if isinstance(arg, dict) else None)
        vid = vid if isinstance(vid, int | str) else None
        return [WebhookEvent(kind="inventory", remote_ids=[str(vid)] if vid else [], topic=topic)]
    return [WebhookEvent(kind="other", topic=topic)]

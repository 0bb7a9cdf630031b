"""Webhooks (v3 ``/hooks``): subscribe, and authenticate and parse deliveries.

Every hook bridge creates carries a secret header (``X-Bridge-Secret``, a random value per store
kept with the store's credentials); BigCommerce sends it with every delivery. Where BigCommerce
also signs deliveries (Standard Webhooks: ``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` = ``v1,`` base64 HMAC-SHA256 of ``id.timestamp.body`` keyed with the app's
client secret), the signature is verified too. Payloads are thin notifications: the events carry
ids, the core reads the resources.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

from bridge.connection import AppContext, Connection
from bridge.errors import WebhookRejected
from bridge.models import WebhookDelivery, WebhookEvent, WebhookRequest, WebhookSubscription
from bridge_bigcommerce.client import BigCommerceClient
from bridge_bigcommerce.payloads import CANCELLED, hook_post, hook_put

SECRET_HEADER = "X-Bridge-Secret"
SECRET_KEY = "webhook_secret"
#: Deliveries older than this (signature timestamp) are refused as replays.
TOLERANCE_S = 300
SCOPES = (
    "store/product/created", "store/product/updated", "store/product/deleted",
    "store/product/inventory/updated", "store/product/inventory/order/updated",
    "store/sku/created", "store/sku/updated", "store/sku/deleted",
    "store/sku/inventory/updated", "store/sku/inventory/order/updated",
    "store/order/created", "store/order/updated", "store/order/statusUpdated", "store/order/refund/created",
    "store/shipment/created", "store/shipment/updated",
    "store/app/uninstalled",
)


def register(connection: Connection, url: str) -> list[str]:
    """One hook per scope to ``url``; existing ones are kept (re-activated, secret refreshed)."""
    client = BigCommerceClient(connection)
    secret = connection.credentials.get(SECRET_KEY)
    if not secret:
        secret = secrets.token_urlsafe(32)
        connection.save_credentials({SECRET_KEY: secret})
    headers = {SECRET_HEADER: str(secret)}
    existing: dict[str, dict] = {}
    for data, _ in client.v3_pages("hooks", {"destination": url, "limit": 250}):
        for hook in data:
            if hook.get("destination") == url:
                existing.setdefault(str(hook.get("scope")), hook)
    ids: list[str] = []
    for scope in SCOPES:
        hook = existing.get(scope)
        if hook is None:
            created = client.call("POST", "v3", "hooks", json=hook_post(scope, url, headers), item=scope)
            ids.append(str((created or {}).get("data", {}).get("id")))
            continue
        if not hook.get("is_active") or (hook.get("headers") or {}).get(SECRET_HEADER) != secret:
            client.call("PUT", "v3", f"hooks/{hook['id']}", json=hook_put(headers), item=scope)
        ids.append(str(hook["id"]))
    return ids


def subscriptions(connection: Connection) -> list[WebhookSubscription]:
    """Every hook of this API account (``GET /v3/hooks``; others' hooks are invisible)."""
    client = BigCommerceClient(connection)
    return [WebhookSubscription(id=str(h["id"]), topic=str(h.get("scope") or ""),
                                address=str(h.get("destination") or ""),
                                active=bool(h.get("is_active")))
            for data, _ in client.v3_pages("hooks", {"limit": 250}) for h in data]


def delete(connection: Connection, ids: list[str]) -> None:
    """``DELETE /v3/hooks/{id}`` each; a hook already gone (404) is fine."""
    client = BigCommerceClient(connection)
    for hid in ids:
        client.call("DELETE", "v3", f"hooks/{hid}", item=hid, missing_ok=True)


# --------------------------------------------------------------------------- receiving


def verify_signature(request: WebhookRequest, client_secret: str) -> str:
    """Verify a Standard Webhooks signature; returns the ``webhook-id``."""
    msg_id = request.header("webhook-id") or ""
    stamp = request.header("webhook-timestamp") or ""
    given = request.header("webhook-signature") or ""
    if not msg_id or not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:
        raise WebhookRejected("BigCommerce delivery signature lacks its id or timestamp")
    if abs(time.time() - int(stamp)) > TOLERANCE_S:
        raise WebhookRejected("BigCommerce delivery timestamp is too old (replay?)")
    signed = f"{msg_id}.{stamp}.".encode() + request.body
    expected = base64.b64encode(hmac.new(client_secret.encode(), signed, hashlib.sha256).digest())
    for part in given.split():
        version, _, sig = part.partition(",")
        if version == "v1" and hmac.compare_digest(sig.encode(), expected):
            return msg_id
    raise WebhookRejected("BigCommerce delivery has a bad signature")


def _client_secret(app: AppContext | None, connection: Connection | None) -> str | None:
    if connection is not None and connection.credentials.get("client_secret"):
        return str(connection.credentials["client_secret"])
    if app is not None and app.settings.get("client_secret"):
        return str(app.settings["client_secret"])
    return None


def authenticate(app: AppContext | None, connection: Connection | None,
                 request: WebhookRequest) -> str | None:
    """Check the secret header (a store's endpoint) and the signature where one is sent;
    returns the delivery id of the signature, if any. :raises WebhookRejected: refused."""
    delivery_id = None
    if request.header("webhook-signature") is not None:
        secret = _client_secret(app, connection)
        if not secret:
            raise WebhookRejected("signed BigCommerce delivery but no client secret to verify it: "
                                  "set the app's client_secret")
        delivery_id = verify_signature(request, secret)
    if connection is not None:
        expected = str(connection.credentials.get(SECRET_KEY) or "")
        given = request.header(SECRET_HEADER) or ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise WebhookRejected("BigCommerce delivery without the secret header of this store")
    elif delivery_id is None:
        raise WebhookRejected("unsigned BigCommerce delivery to an app-wide endpoint")
    return delivery_id


def _event(scope: str, data: dict) -> WebhookEvent:
    """The event a scope and its thin ``data`` tell of."""
    def ids(*values: object) -> list[str]:
        return [str(v) for v in values if isinstance(v, int | str) and v != ""]

    def obj(value: object) -> dict:
        return value if isinstance(value, dict) else {}

    inventory = obj(data.get("inventory"))
    sku = obj(data.get("sku"))
    if scope.startswith("store/sku/inventory/"):
        return WebhookEvent(kind="inventory", remote_ids=ids(inventory.get("variant_id")), topic=scope)
    if scope.startswith("store/product/inventory/"):
        # product-level tracking: the stock of every variant of the product changed (the
        # inventory flow takes product ids as well as variant ids)
        return WebhookEvent(kind="inventory", remote_ids=ids(inventory.get("product_id") or data.get("id")),
                            topic=scope)
    if "/inventory/product/" in scope:  # store/channel/{id}/inventory/product/stock_changed
        return WebhookEvent(kind="inventory", remote_ids=ids(data.get("variant_id")), topic=scope)
    if scope.startswith("store/sku/"):
        return WebhookEvent(kind="product", remote_ids=ids(sku.get("product_id")), topic=scope)
    if scope.startswith("store/product/"):
        return WebhookEvent(kind="product", remote_ids=ids(data.get("id")), topic=scope)
    if scope == "store/order/refund/created":  # data.id: the order (webhooks.v3 spec)
        return WebhookEvent(kind="refund", remote_ids=ids(data.get("id")), topic=scope)
    if scope.startswith("store/order/"):
        status = obj(data.get("status"))
        kind = "order_cancelled" if status.get("new_status_id") == CANCELLED else "order"
        return WebhookEvent(kind=kind, remote_ids=ids(data.get("id")), topic=scope)
    if scope.startswith("store/shipment/"):
        return WebhookEvent(kind="fulfillment", remote_ids=ids(data.get("orderId")), topic=scope)
    if scope == "store/app/uninstalled":
        return WebhookEvent(kind="uninstalled", topic=scope)
    return WebhookEvent(kind="other", remote_ids=ids(data.get("id")), topic=scope)


def receive(app: AppContext | None, connection: Connection | None,
            request: WebhookRequest) -> WebhookDelivery:
    """Authenticate (before parsing), then turn the payload into events."""
    signature_id = authenticate(app, connection, request)
    try:
        payload = json.loads(request.body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WebhookRejected("BigCommerce delivery body is not JSON") from exc
    if not isinstance(payload, dict):
        raise WebhookRejected("BigCommerce delivery body is not an object")
    producer = str(payload.get("producer") or "")
    store_hash = producer.split("/", 1)[1] if producer.startswith("stores/") else None
    if connection is not None and store_hash and connection.setting("store_hash") not in (None, store_hash):
        raise WebhookRejected("BigCommerce delivery names another store")
    scope = str(payload.get("scope") or "")
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    # ``hash`` is identical for repeated deliveries of one event but also for two events with the
    # same thin data (an order updated twice): the event's time tells those apart.
    delivery_id = signature_id or (
        f"{scope}:{payload['hash']}:{payload.get('created_at')}" if payload.get("hash") else None)
    return WebhookDelivery(store_remote_id=store_hash, delivery_id=delivery_id,
                           events=[_event(scope, data)] if scope else [])

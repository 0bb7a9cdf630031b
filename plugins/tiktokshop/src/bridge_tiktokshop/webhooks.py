"""Webhooks: subscriptions through the Event API, verification before parsing, core events."""

from __future__ import annotations

import ipaddress
import json
from typing import Any
from urllib.parse import urlsplit

from bridge.connection import AppContext
from bridge.errors import Misconfigured, WebhookRejected
from bridge.http import is_loopback
from bridge.models import WebhookDelivery, WebhookEvent, WebhookRequest, WebhookSubscription
from bridge_tiktokshop import signing
from bridge_tiktokshop.client import TikTokClient

EVENT_TYPES = ("ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE", "RETURN_STATUS_CHANGE",
               "PRODUCT_STATUS_CHANGE",
               "SELLER_DEAUTHORIZATION", "UPCOMING_AUTHORIZATION_EXPIRATION", "PACKAGE_UPDATE")
TOPICS = {1: "ORDER_STATUS_CHANGE", 3: "RECIPIENT_ADDRESS_UPDATE", 4: "PACKAGE_UPDATE",
          5: "PRODUCT_STATUS_CHANGE", 6: "SELLER_DEAUTHORIZATION",
          7: "UPCOMING_AUTHORIZATION_EXPIRATION", 11: "CANCELLATION_STATUS_CHANGE",
          12: "RETURN_STATUS_CHANGE",
          15: "PRODUCT_INFORMATION_CHANGE", 16: "PRODUCT_CREATION", 18: "PRODUCT_CATEGORY_CHANGE",
          27: "INVENTORY_STATUS_CHANGE", 37: "PRODUCT_AUDIT_STATUS_CHANGE"}


MAX_ADDRESS = 255


def address_problem(url: str) -> str | None:
    """Why TikTok refuses ``url`` as a webhook address, or None: it delivers only to
    ``https://`` addresses with a domain name (no IP) and no port, at most 255 characters long
    (tiktokshop.md 9.1). A loopback address passes: bridge registers one only at a sandbox on the
    same machine (:mod:`bridge.subscriptions` never gives a real host a loopback address)."""
    if len(url) > MAX_ADDRESS:
        return f"it is longer than {MAX_ADDRESS} characters"
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host and is_loopback(host):
        return None
    if parts.scheme != "https":
        return "it is not https"
    if not host:
        return "it names no host"
    try:
        ipaddress.ip_address(host)
        return "it is an IP address, not a domain name"
    except ValueError:
        pass
    try:
        port = parts.port
    except ValueError:
        return "its port is not a number"
    return "it has a port" if port is not None or parts.netloc.endswith(":") else None


def register(client: TikTokClient, url: str) -> list[str]:
    """Subscribe each event type to ``url``, keeping subscriptions already there.

    :raises Misconfigured: TikTok would refuse ``url`` (see :func:`address_problem`).
    """
    problem = address_problem(url)
    if problem:
        raise Misconfigured(f"TikTok Shop cannot deliver webhooks to {url}: {problem}; set BRIDGE_PUBLIC_URL "
                            "to an https address with a domain name and no port, e.g. https://bridge.example.com")
    current = client.call("GET", "/event/202309/webhooks").get("webhooks") or []
    have = {w.get("event_type"): w.get("address") for w in current}
    for event in EVENT_TYPES:
        if have.get(event) != url:
            client.call("PUT", "/event/202309/webhooks", body={"address": url, "event_type": event})
    return list(EVENT_TYPES)


def subscriptions(client: TikTokClient) -> list[WebhookSubscription]:
    """The shop's subscriptions (``GET /event/202309/webhooks``): one address per event type,
    so the event type is the subscription's id."""
    current = client.call("GET", "/event/202309/webhooks").get("webhooks") or []
    return [WebhookSubscription(id=str(w.get("event_type")), topic=str(w.get("event_type")),
                                address=str(w.get("address") or "")) for w in current]


def delete(client: TikTokClient, ids: list[str]) -> None:
    """``DELETE /event/202309/webhooks`` per event type (succeeds when none is set)."""
    for event in ids:
        client.call("DELETE", "/event/202309/webhooks", body={"event_type": event})


def _events(kind: int, data: dict[str, Any]) -> list[WebhookEvent]:
    topic = TOPICS.get(kind, str(kind))
    if kind == 1:
        cancelled = data.get("order_status") in ("CANCEL", "CANCELLED")
        return [WebhookEvent(kind="order_cancelled" if cancelled else "order",
                             remote_ids=[str(data.get("order_id", ""))], topic=topic)]
    if kind == 3:
        return [WebhookEvent(kind="order", remote_ids=[str(data.get("order_id", ""))], topic=topic)]
    if kind == 11:  # a whole-order cancellation goes to the orders flow, item-level ones to refunds
        ids = [str(data.get("order_id", ""))]
        return [WebhookEvent(kind="order_cancelled", remote_ids=ids, topic=topic),
                WebhookEvent(kind="refund", remote_ids=ids, topic=topic)]
    if kind == 12:  # the payload has no amounts or lines: the refunds flow re-reads the order's returns
        return [WebhookEvent(kind="refund", remote_ids=[str(data.get("order_id", ""))], topic=topic)]
    if kind == 4:
        packages = data.get("package_list")
        ids = sorted({str(o) for p in (packages if isinstance(packages, list) else []) if isinstance(p, dict)
                      for o in (p.get("order_id_list") if isinstance(p.get("order_id_list"), list) else [])})
        return [WebhookEvent(kind="order", remote_ids=ids, topic=topic)]
    if kind in (5, 15, 16, 18, 37):
        return [WebhookEvent(kind="listing_status", remote_ids=[str(data.get("product_id", ""))], topic=topic)]
    if kind == 27:
        return [WebhookEvent(kind="inventory", remote_ids=[str(data.get("sku_id") or data.get("product_id", ""))],
                             topic=topic)]
    if kind == 6:
        return [WebhookEvent(kind="deauthorized", topic=topic)]
    return [WebhookEvent(kind="other", topic=topic)]


def receive(app: AppContext, request: WebhookRequest) -> WebhookDelivery:
    """Verify ``Authorization`` over the raw body with the app key and secret, then parse."""
    key, secret = str(app.require("app_key")), str(app.require("app_secret"))
    if not signing.verify_webhook(key, secret, request.body, request.header("Authorization")):
        raise WebhookRejected("TikTok Shop webhook refused: bad or missing signature")
    try:
        payload = json.loads(request.body)
        kind = int(payload["type"]) if isinstance(payload["type"], int | str) else None
    except (ValueError, KeyError, TypeError, OverflowError, UnicodeDecodeError):
        kind = None
    if kind is None or not isinstance(payload, dict):
        raise WebhookRejected("TikTok Shop webhook refused: not a TikTok notification")
    data = payload.get("data")
    return WebhookDelivery(store_remote_id=str(payload.get("shop_id") or "") or None,
                           delivery_id=str(payload.get("tts_notification_id") or "") or None,
                           events=_events(kind, data if isinstance(data, dict) else {}))

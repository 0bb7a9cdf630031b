"""Webhook delivery as WooCommerce's Hookshot sends it, on the kit's deliverer: JSON body,
``X-WC-Webhook-*`` headers, ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(body, secret)); the
ping right after creation is the unsigned form body ``webhook_id=<id>``. More than 5 failures in
a row disable a webhook."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING

from bridge.sandboxing import Subscription
from bridge.sandboxing.auth import hmac_sha256_b64
from bridge_woocommerce.sandbox.routes import WC_VERSION, WP_VERSION
from bridge_woocommerce.sandbox.state import SITE, SiteState

if TYPE_CHECKING:
    from bridge_woocommerce.sandbox import WooSandbox

MAX_FAILURES = 5
USER_AGENT = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"


def subscriptions(site: SiteState) -> list[Subscription]:
    """The site's webhooks (every status; only ``active`` ones receive deliveries)."""
    with site.lock:
        return [Subscription(id=str(h["id"]), topic=h["topic"], address=h["delivery_url"],
                             active=h["status"] == "active",
                             extra={"status": h["status"], "failure_count": h["failure_count"],
                                    "_secret": h["secret"]})
                for h in site.webhooks.values()]


def signer(sb: WooSandbox):  # noqa: ANN201 - returns the kit's Signer
    def sign(sub: Subscription, topic: str, body: bytes) -> dict[str, str]:
        resource, _, event = topic.partition(".")
        return {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                "X-WC-Webhook-Source": sb.home, "X-WC-Webhook-Topic": topic,
                "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": hmac_sha256_b64(str(sub.extra["_secret"]), body),
                "X-WC-Webhook-ID": sub.id,
                "X-WC-Webhook-Delivery-ID": hashlib.md5(f"{time.time_ns()}{sub.id}".encode()).hexdigest()}
    return sign


def counter(sb: WooSandbox):  # noqa: ANN201 - returns the kit's result handler
    """Counts failures per webhook; more than :data:`MAX_FAILURES` in a row disable it."""
    def on_result(sub: Subscription, status: int) -> None:
        site = sb.site  # the site now (a reset replaces it)
        with site.lock:
            live = site.webhooks.get(int(sub.id))
            if live is None:
                return
            if 200 <= status <= 302:
                live["failure_count"] = 0
                return
            if live["failure_count"] > MAX_FAILURES:
                live["status"] = "disabled"
            live["failure_count"] += 1
    return on_result


def pump(sb: WooSandbox) -> None:
    """Hand the site's pending events to the deliverer (pings go to their own webhook only)."""
    with sb.site.lock:
        events, sb.site.events = sb.site.events, []
    for topic, payload in events:
        if topic == "ping":
            sub = next((s for s in subscriptions(sb.site) if s.id == str(payload["webhook_id"])), None)
            if sub is not None:
                sb.deliverer.send(sub, "ping", f"webhook_id={sub.id}".encode(),
                                  {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": USER_AGENT})
        else:
            home = sb.home.rstrip("/")
            sb.deliverer.emit(topic, json.dumps(payload, separators=(",", ":")).replace(SITE, home).encode())

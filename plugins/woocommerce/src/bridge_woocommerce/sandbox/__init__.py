"""An emulator of a WooCommerce site's REST API (wc/v3), of the AfterShip Tracking and WooCommerce
Shipment Tracking plugins' data, and of webhook delivery, for tests, the demo and benchmarks.

Options: ``seed`` (products), ``variants`` (per product; 1 = simple products), ``latency_ms``,
``seed_random``, ``currency`` (GBP), ``tracking`` (``aftership``, ``shipment-tracking``, ``both``,
``none``), ``aftership_format`` (``items`` or ``legacy``), ``permalinks`` (``pretty``/``plain``),
``ssl`` (behave as if reached over TLS: Basic/query keys instead of OAuth 1.0a).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from bridge.models import Order, Product, Tracking, WebhookRequest
from bridge.sandboxing import SandboxKit, Subscription
from bridge_woocommerce import mapping
from bridge_woocommerce.sandbox import delivery
from bridge_woocommerce.sandbox import orders as order_ops
from bridge_woocommerce.sandbox.app import build_app, render_fault
from bridge_woocommerce.sandbox.state import SiteState, slugify
from bridge_woocommerce.tracking import COURIER_NAMES

TRACKING_OPTIONS = ("aftership", "shipment-tracking", "both", "none")


class WooSandbox:
    """The :class:`bridge.sandboxing.EcommerceSandbox` of WooCommerce."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        opts = dict(options or {})
        tracking = str(opts.get("tracking", "both"))
        if tracking not in TRACKING_OPTIONS:
            raise ValueError(f"tracking must be one of {', '.join(TRACKING_OPTIONS)}")
        self.site = SiteState(currency=str(opts.get("currency", "GBP")), tracking=tracking)
        self.site.search_lag = float(opts.get("search_lag") or 0)
        self.aftership_format = str(opts.get("aftership_format", "items"))
        self.permalinks = str(opts.get("permalinks", "pretty"))
        self.ssl = str(opts.get("ssl", "")).lower() in ("1", "true", "yes")
        self.kit = SandboxKit(self, platform="woocommerce", kind="ecommerce", render_error=render_fault,
                              latency_ms=float(opts.get("latency_ms", 0) or 0))
        self.stats = self.kit.stats
        self.faults = self.kit.faults
        self.home = "https://sandbox.example/"
        """The site's home URL as the last request reached it (``X-WC-Webhook-Source``)."""
        self.deliverer = self.kit.deliverer(self.subscriptions, delivery.signer(self),
                                            on_result=delivery.counter(self))
        self.app = self.kit.wrap(build_app(self))
        if int(opts.get("seed", 0) or 0):
            self.seed_catalog(int(opts["seed"]), int(opts.get("variants", 1) or 1),
                              seed=int(opts.get("seed_random", 0) or 0))

    # ------------------------------------------------------------------ Sandbox

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        # The loopback sandbox has no host-level rate limits: no client-side cap either.
        return {"base_url": server_url, "site_url": server_url, "requests_per_second": 0}

    def credentials(self) -> dict[str, Any]:
        return {"consumer_key": self.site.consumer_key, "consumer_secret": self.site.consumer_secret}

    def app_settings(self) -> dict[str, Any]:
        return {}

    def fail_next(self, count: int, status: int = 503) -> None:
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.kit.set_latency(ms)

    def subscriptions(self) -> list[Subscription]:
        return delivery.subscriptions(self.site)

    def pump(self) -> None:
        """Queue the deliveries of the events the site recorded."""
        delivery.pump(self)

    def reset(self) -> None:
        """An empty site (no products, orders, webhooks; the REST key stays valid)."""
        self.deliverer.flush(1.0)
        keys = self.site.keys
        self.site = SiteState(currency=self.site.currency, tracking=self.site.tracking)
        self.site.keys.update(keys)
        self.kit.reset()

    def set_tracking(self, tracking: str) -> None:
        """Switch which tracking plugin is active (as activating/deactivating in WordPress)."""
        if tracking not in TRACKING_OPTIONS:
            raise ValueError(f"tracking must be one of {', '.join(TRACKING_OPTIONS)}")
        self.site.tracking = tracking

    def new_key(self, scope: str, app_name: str) -> tuple[int, str, str]:
        """A REST API key as the key-generation flow creates it."""
        with self.site.lock:
            key_id = len(self.site.keys) + 1
            ck = "ck_" + hashlib.sha1(f"{app_name}{key_id}{time.time_ns()}".encode()).hexdigest()
            cs = "cs_" + hashlib.sha1(f"secret{key_id}{time.time_ns()}".encode()).hexdigest()
            self.site.keys[ck] = {"key_id": key_id, "secret": cs, "permissions": scope}
            return key_id, ck, cs

    # ------------------------------------------------------------------ EcommerceSandbox

    # ------------------------------------------------------------------ the connector test kit

    def catalog(self) -> list[Product]:
        """Every sellable product of the site, read from its records as the REST API gives them."""
        with self.site.lock:
            out = []
            for p in self.site.products.values():
                variations = [self.site.variations[v] for v in p.get("variations") or [] if v in self.site.variations]
                made = mapping.product(p, variations, self.site.currency, {"weight": "kg", "dimension": "cm"})
                if made is not None:
                    out.append(made)
            return out

    def edit_product(self, product_id: str, title: str) -> None:
        """The merchant renames a product (its ``date_modified`` moves to the sandbox clock)."""
        with self.site.lock:
            product = self.site.products[int(product_id)]
            product["name"] = title
            self.site.touch(product)

    def hold_clock(self, at: float | None) -> None:
        from bridge_woocommerce.sandbox import state

        state.hold_clock(at)

    def sample_webhook(self) -> WebhookRequest:
        """A product.updated delivery signed with the newest webhook's secret, as WooCommerce
        signs them (register the webhooks first: the secret is the subscription's)."""
        subs = self.subscriptions()
        if not subs:
            raise ValueError("no webhook is registered: the secret to sign with is a webhook's")
        with self.site.lock:
            product = next(iter(self.site.products.values()), None)
        body = json.dumps({"id": product["id"] if product else 1, "name": product["name"] if product else ""}).encode()
        return WebhookRequest(headers=delivery.signer(self)(subs[-1], "product.updated", body), body=body)

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        return self.site.seed(products, max(1, variants), seed, backdate=True)

    def set_quantity(self, sku: str, quantity: int) -> None:
        self.site.set_quantity(sku, quantity)
        self.pump()

    def quantity(self, sku: str) -> int:
        return self.site.quantity(sku)

    def fulfill_order(self, order_id: str, tracking: Tracking, *, complete: bool = False) -> str:
        """Record tracking in the active plugin's format (both: as AfterShip's migrator leaves it)."""
        with self.site.lock:
            order = self.site.orders[int(order_id)]
            made = ""
            if self.site.shipment_tracking:
                known = bool(order_ops._provider_link(tracking.carrier, "x")[1])
                item = order_ops.st_add(self.site, order, tracking.number,
                                        provider=tracking.carrier if known else "",
                                        custom="" if known else tracking.carrier, link=tracking.url or "")
                made = item["tracking_id"]
            if self.site.aftership:
                slug = next((s for s, n in COURIER_NAMES.items() if n.lower() == tracking.carrier.lower()),
                            slugify(tracking.carrier))
                as_id = order_ops.aftership_add(self.site, order, tracking.number, slug,
                                                self.aftership_format == "legacy")
                made = made or as_id
            if complete:
                order_ops.update(self.site, order, {"status": "completed"})
        self.pump()
        return made

    def cancel_order(self, order_id: str) -> None:
        with self.site.lock:
            order_ops.update(self.site, self.site.orders[int(order_id)], {"status": "cancelled"})
        self.pump()

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        """Refunds recorded on an order: id, amount, units per SKU, reason."""
        from decimal import Decimal

        with self.site.lock:
            return [{"id": str(r["id"]), "amount": Decimal(r["amount"]), "note": r["reason"],
                     "lines": {li["sku"]: abs(int(li["quantity"])) for li in r["line_items"] if li["quantity"]}}
                    for r in self.site.refunds.get(int(order_id), [])]

    def cancel_line(self, order_id: str, sku: str, quantity: int) -> None:
        """The merchant takes units of a line off an unshipped order, as WooCommerce's admin
        does it: a refund of those units with restock, no money through the gateway."""
        from decimal import Decimal

        with self.site.lock:
            order = self.site.orders[int(order_id)]
            item = next(li for li in order["line_items"] if li["sku"] == sku)
            unit = Decimal(item["total"]) / int(item["quantity"])
            order_ops.create_refund(self.site, order, {
                "amount": str(unit * quantity), "reason": "Out of stock", "api_refund": False,
                "line_items": [{"id": item["id"], "quantity": quantity, "refund_total": str(unit * quantity)}]})
        self.pump()

    def orders(self) -> list[Order]:
        with self.site.lock:
            return [mapping.order(o) for o in self.site.orders.values()]

    def order(self, order_id: str) -> dict[str, Any]:
        with self.site.lock:
            return self.site.orders[int(order_id)]

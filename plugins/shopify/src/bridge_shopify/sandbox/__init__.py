"""An emulator of the Shopify Admin API for tests, the demo and benchmarks.

``ShopifySandbox(options)`` holds one shop in memory and serves (``.app``, Starlette):

* ``POST /admin/api/{version}/graphql.json``: every document validated against the official
  2025-01 Admin schema, its cost computed and charged to a leaky bucket (``THROTTLED`` when it
  does not fit), executed by graphql-core over the shop's data;
* ``GET /admin/oauth/authorize`` (redirects straight back with a signed ``code``) and
  ``POST /admin/oauth/access_token`` (authorization code, refresh token, client credentials);
* ``GET /bulk/{n}.jsonl``: bulk operation results;
* webhooks to subscribed addresses, signed with the app's client secret.

Options: ``seed`` (products), ``variants`` (per product), ``latency_ms``, ``seed_random``,
``currency``, ``bucket_size``/``restore_rate`` (the cost bucket), ``token_ttl`` (seconds),
``protected_data`` (False: orders' customer fields answer ACCESS_DENIED), ``bulk_running_polls``
(how many status polls a bulk operation still reports RUNNING once its export is built),
``bulk_delay`` (seconds a bulk operation stays CREATED before its export is built in the
background; ``sandbox.bulk.release()`` builds it at once), ``bulk_shuffle`` (the export's
products in a random order), ``shop`` (the shop's myshopify.com domain: several sandboxes as
distinct shops).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from bridge.models import Money, Order, Product, Tracking, Variant, WebhookRequest
from bridge.sandboxing import SandboxKit, Subscription
from bridge_shopify.sandbox import orders as order_ops
from bridge_shopify.sandbox.auth import AuthState
from bridge_shopify.sandbox.bulk import BulkOperations
from bridge_shopify.sandbox.delivery import Webhooks
from bridge_shopify.sandbox.routes import (
    API_VERSION,
    LeakyBucket,
    ShopifyStats,
    build_app,
    render_fault,
)
from bridge_shopify.sandbox.state import StoreState

#: Seconds a new order stays out of ``orders(query:)`` results (option ``search_lag``): Shopify's
#: search index "may lag by a few seconds" (platform doc §7.1).
DEFAULT_SEARCH_LAG = 1.0


def _flag(value: Any) -> bool:
    """An on/off option, also as a command-line string (``0``, ``false``, ``no``, ``off``: off)."""
    return str(value).lower() not in ("0", "false", "no", "off")


class ShopifySandbox:
    """One emulated Shopify store (the :class:`bridge.sandboxing.EcommerceSandbox` interface)."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        options = dict(options or {})
        self.options = options
        seed_random = int(options.get("seed_random", 0))
        self.auth = AuthState(seed=seed_random, token_ttl=int(options.get("token_ttl", 3600)))
        self.state = StoreState(currency=str(options.get("currency", "GBP")), emit=self._emit,
                                search_lag=float(options.get("search_lag", DEFAULT_SEARCH_LAG)),
                                domain=str(options.get("shop", "bridge-sandbox.myshopify.com")))
        self.webhooks = Webhooks(self.auth.client_secret, self.state.shop["myshopifyDomain"], API_VERSION)
        self.bulk = BulkOperations(int(options.get("bulk_running_polls", 0)),
                                   delay=float(options.get("bulk_delay", 0) or 0),
                                   shuffle=_flag(options.get("bulk_shuffle", False)), seed=seed_random)
        self.bucket = LeakyBucket(float(options.get("bucket_size", 2000)),
                                  float(options.get("restore_rate", 100)))
        self.kit = SandboxKit(self, platform="shopify", kind="ecommerce", render_error=render_fault,
                              stats=ShopifyStats(), latency_ms=float(options.get("latency_ms", 0) or 0))
        self.stats: ShopifyStats = self.kit.stats  # type: ignore[assignment]
        self.faults = self.kit.faults
        self.webhooks.deliverer = self.kit.deliverer(self.webhooks.kit_subscriptions, self.webhooks.headers)
        self.protected_data = _flag(options.get("protected_data", True))
        self._switch = threading.Lock()
        self._throttles = 0
        if int(options.get("seed", 0) or 0):
            self.seed_catalog(int(options["seed"]), int(options.get("variants", 1) or 1),
                              seed=seed_random)
        self.app = self.kit.wrap(build_app(self))

    def _emit(self, topic: str, payload: dict[str, Any]) -> None:
        self.webhooks.emit(topic, payload)

    # ------------------------------------------------------------------ Sandbox interface

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        # lookup_lag: the lag this sandbox models (plus a margin), so that bridge waits it out
        # after a lost answer instead of Shopify's documented 30 s
        return {"shop": self.state.shop["myshopifyDomain"], "base_url": server_url,
                "lookup_lag": round(self.state.search_lag + 0.5, 3)}

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.auth.static_token}

    def app_settings(self) -> dict[str, Any]:
        return {"client_id": self.auth.client_id, "client_secret": self.auth.client_secret}

    def fail_next(self, count: int, status: int = 503) -> None:
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.kit.set_latency(ms)

    def subscriptions(self) -> list[Subscription]:
        return self.webhooks.kit_subscriptions()

    def reset(self) -> None:
        """An empty shop (no products, orders, subscriptions, bulk operations); tokens stay."""
        self.webhooks.wait(1.0)
        self.state.__init__(currency=self.state.currency, emit=self._emit,  # type: ignore[misc]
                            domain=self.state.shop["myshopifyDomain"])
        with self.webhooks.lock:
            self.webhooks.subs.clear()
        self.bulk.clear()
        self.bucket.available = self.bucket.maximum
        with self._switch:
            self._throttles = 0
        self.kit.reset()

    def throttle_next(self, count: int) -> None:
        """Answer the next ``count`` GraphQL requests THROTTLED."""
        with self._switch:
            self._throttles += count

    def take_throttle(self) -> bool:
        with self._switch:
            if self._throttles:
                self._throttles -= 1
                return True
            return False

    # ------------------------------------------------------------------ EcommerceSandbox

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        return self.state.seed(products, variants, seed=seed)

    def set_quantity(self, sku: str, quantity: int) -> None:
        self.state.set_available(self.state.by_sku[sku], quantity)

    def quantity(self, sku: str) -> int:
        return self.state.available(self.state.by_sku[sku])

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        return order_ops.fulfill_order(self.state, order_id, tracking.number, tracking.carrier,
                                       tracking.url)

    def cancel_order(self, order_id: str) -> None:
        errors = order_ops.cancel_order(self.state, order_id, reason="CUSTOMER", restock=True)
        if errors:
            raise ValueError(errors[0]["message"])

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        """Refunds recorded on an order: id, amount, units per SKU, note."""
        with self.state.lock:
            order = self.state.orders[order_id]
            lines = {ln["id"]: ln for ln in order["lineItems"]}
            return [{"id": r["id"], "amount": r["total"], "note": r["note"] or "",
                     "lines": {lines[x["line"]]["sku"]: x["quantity"] for x in r["lineItems"]}}
                    for r in order.get("refunds", [])]

    def cancel_line(self, order_id: str, sku: str, quantity: int) -> None:
        """The merchant removes units of an unfulfilled line (an order edit with restock)."""
        order_ops.remove_units(self.state, order_id, sku, quantity)

    def orders(self) -> list[Order]:
        from bridge_shopify import mapping
        from bridge_shopify.sandbox.resolvers import Context, Views

        views = Views(Context(state=self.state, scopes=self.auth.scopes))
        result = []
        for record in list(self.state.orders.values()):
            node = views.order(record)
            node["lineItems"] = node["lineItems"](None)
            lines = [mapping.order_line({**n, "variant": n["variant"](None), "product": None},
                                        record["currencyCode"]) for n in node["lineItems"]["nodes"]]
            result.append(mapping.order(node, lines))
        return result

    # ------------------------------------------------------------------ the connector test kit

    def catalog(self) -> list[Product]:
        """Every product as the store holds it (ids, variants, SKUs, prices)."""
        with self.state.lock:
            return [Product(remote_id=p["id"], title=p["title"], variants=[
                Variant(remote_id=v["id"], sku=v["sku"], price=Money(amount=v["price"], currency=self.state.currency))
                for v in (self.state.variants[vid] for vid in p["variants"])])
                for p in self.state.products.values()]

    def edit_product(self, product_id: str, title: str) -> None:
        self.update_product(product_id, title=title)

    def hold_clock(self, at: float | None) -> None:
        from bridge_shopify.sandbox import state

        state.hold_clock(at)

    def sample_webhook(self) -> WebhookRequest:
        """A products/update delivery signed with the app's client secret, as Shopify signs it."""
        pid = next(iter(self.state.products), None) or self.seed_catalog(1)[0]
        body = json.dumps(self.state.product_payload(pid)).encode()
        sub = Subscription(id="kit", topic="products/update", address="http://127.0.0.1/kit")
        return WebhookRequest(headers=self.webhooks.headers(sub, "products/update", body), body=body)

    # ------------------------------------------------------------------ more merchant acts

    def update_product(self, product_id: str, **changes: Any) -> None:
        """Edit a product (title, status, tags, …) as the merchant would."""
        self.state.touch_product(product_id, **changes)

    def uninstall(self) -> None:
        """The merchant uninstalls the app: tokens stop working, ``app/uninstalled`` is sent."""
        self.auth.revoke()
        shop = self.state.shop
        self._emit("app/uninstalled", {"id": 1, "name": shop["name"], "domain": shop["host"],
                                       "myshopify_domain": shop["myshopifyDomain"]})

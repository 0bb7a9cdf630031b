"""An emulator of the TikTok Shop Open API (202309) and auth host, with in-memory state.

``TikTokSandbox(options)`` offers :class:`bridge.sandboxing.ChannelSandbox`: ``.app`` (ASGI),
``.stats``, seeded shops (a local GB seller; a cross-border seller with SG and MY shops),
warehouses, delivery options, shipping providers, a category tree with attributes and rules,
brands, and products when ``seed`` asks. Options: ``seed`` (products), ``variants`` (max SKUs
per product), ``latency_ms``, ``seed_random``, ``rate_limit`` (QPS per API per shop; 0 turns
it off; default 50), ``audit_seconds`` (time a new product stays PENDING), ``redirect_url``.
"""

from __future__ import annotations

import json
import random
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.models import WebhookRequest
from bridge.sandboxing import SandboxKit, Subscription
from bridge_tiktokshop.markets import DEFAULT_QPS, uses_mark_shipped
from bridge_tiktokshop.sandbox import seed
from bridge_tiktokshop.sandbox.app import build
from bridge_tiktokshop.sandbox.gate import Limiter, render_fault
from bridge_tiktokshop.sandbox.orders import OrderMaker
from bridge_tiktokshop.sandbox.returns import ReturnMaker
from bridge_tiktokshop.sandbox.state import Shop, World
from bridge_tiktokshop.sandbox.webhooks import Deliverer, subscriptions


class TikTokSandbox(OrderMaker, ReturnMaker):
    """The TikTok Shop sandbox (see the module docstring)."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        options = dict(options or {})
        self.app_key, self.app_secret, self.service_id = seed.APP_KEY, seed.APP_SECRET, seed.SERVICE_ID
        self.redirect_url = options.get("redirect_url")
        self.audit_seconds = int(options.get("audit_seconds", 0))
        self.options = options
        self.world = World()
        self.kit = SandboxKit(self, platform="tiktokshop", kind="channel", render_error=render_fault,
                              latency_ms=float(options.get("latency_ms", 0) or 0))
        self.stats = self.kit.stats
        self.faults = self.kit.faults
        qps = options.get("rate_limit", DEFAULT_QPS)
        self.limiter = Limiter(float(qps or 0))
        self.deliverer = Deliverer(self)
        self.uploads = 0
        self.reviews = 0
        """Times a product went (back) to review: creates, content edits, activations."""
        self.edits = self.price_updates = self.activations = self.product_reads = 0
        self.rnd = random.Random(options.get("seed_random", 0))
        first = self.shops()[0]["id"]
        self._tokens = self.world.issue_tokens(self.world.shops[first].seller)
        count = int(options.get("seed", 0) or 0)
        if count:
            self.seed_catalog(count, int(options.get("variants", 1) or 1))
        self.app = self.kit.wrap(build(self))

    # ------------------------------------------------------------------ Sandbox

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        shop = self._first()
        return {"base_url": server_url, "shop_id": shop.id, "shop_cipher": shop.cipher, "region": shop.region}

    def credentials(self) -> dict[str, Any]:
        t = self._tokens
        return {"access_token": t["access_token"], "refresh_token": t["refresh_token"],
                "access_token_expires_at": t["access_token_expire_in"],
                "refresh_token_expires_at": t["refresh_token_expire_in"]}

    def connection(self, server_url: str, shop_index: int = 0, **credentials: Any) -> Connection:
        """A bridge connection to one seeded shop of this sandbox served at ``server_url``
        (tests, demos, benchmarks); ``credentials`` override the tokens."""
        shop = list(self.world.shops.values())[shop_index]
        settings = {"base_url": server_url, "shop_id": shop.id, "shop_cipher": shop.cipher,
                    "region": shop.region}
        if shop_index == 0:
            base = self.credentials()
        else:
            t = self.world.issue_tokens(shop.seller)
            base = {"access_token": t["access_token"], "refresh_token": t["refresh_token"],
                    "access_token_expires_at": t["access_token_expire_in"],
                    "refresh_token_expires_at": t["refresh_token_expire_in"]}
        return Connection(platform="tiktokshop", settings=settings, credentials={**base, **credentials},
                          app=self.app_context(server_url))

    def add_shop(self, region: str = "GB") -> int:
        """Add a local seller with one shop in ``region``; returns the shop's index for
        :meth:`connection` (benchmarks of many store pairs in one sandbox)."""
        shop = self.world.add_local_seller(region)
        return list(self.world.shops).index(shop.id)

    def app_context(self, server_url: str) -> AppContext:
        return AppContext(platform="tiktokshop", settings={**self.app_settings(), "base_url": server_url})

    def app_settings(self) -> dict[str, Any]:
        return {"app_key": self.app_key, "app_secret": self.app_secret, "service_id": self.service_id}

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` API requests with ``status`` (429: rate limit, 5xx: internal
        error, 105002: expired token) in TikTok's error shape."""
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.kit.set_latency(ms)

    def subscriptions(self) -> list[Subscription]:
        return subscriptions(self)

    def reset(self) -> None:
        """A fresh world: the seeded shops with no products, orders or webhooks, and new tokens
        (those of :meth:`credentials` change: connect again)."""
        self.deliverer.drain(1.0)
        self.world.__init__()  # type: ignore[misc]  # in place: the routes hold this world
        self.uploads = 0
        self.rnd = random.Random(self.options.get("seed_random", 0))
        self._tokens = self.world.issue_tokens(self._first().seller)
        self.kit.reset()

    def hold_clock(self, at: float | None) -> None:
        """Stamp every change at Unix time ``at`` (None: the real clock again)."""
        self.world.held = None if at is None else int(at)

    def sample_webhook(self) -> WebhookRequest:
        """An ORDER_STATUS_CHANGE notification of the first shop, signed as TikTok signs them
        (what the connector test kit checks ``receive_webhook`` against)."""
        shop = self._first()
        body = json.dumps({"type": 1, "tts_notification_id": "7327112393057371999", "shop_id": shop.id,
                           "timestamp": self.world.now(), "data": {
                               "order_id": "576461413038785752", "order_status": "AWAITING_SHIPMENT",
                               "update_time": self.world.now()}}).encode()
        return WebhookRequest(headers=self.deliverer._sign(
            Subscription(id="kit", topic="ORDER_STATUS_CHANGE", address="http://127.0.0.1/kit"),
            "ORDER_STATUS_CHANGE", body), body=body)

    def set_rate_limit(self, qps: float) -> None:
        """Requests per second per API per shop (0: no limit)."""
        self.limiter = Limiter(float(qps))

    def expire_tokens(self) -> None:
        """Make every issued access token expired (the next call answers 105002)."""
        with self.world.lock:
            for info in self.world.access.values():
                info["expires"] = self.world.now() - 1

    def revoke(self, shop_id: str | None = None) -> None:
        """The seller deauthorizes the app: tokens die, SELLER_DEAUTHORIZATION is sent."""
        shop = self.world.shops[shop_id] if shop_id else self._first()
        with self.world.lock:
            for table in (self.world.access, self.world.refresh):
                for k in [k for k, v in table.items() if v["seller"] == shop.seller]:
                    del table[k]
            self.notify(shop, "SELLER_DEAUTHORIZATION", {"message": "The seller deauthorized the app."})

    def fail_prerequisite(self, shop_id: str, item: str, reason: str) -> None:
        self.world.shops[shop_id].failed_checks[item] = reason

    def fail_audit(self, product_id: str, reasons: list[str]) -> None:
        """The next audit of ``product_id`` fails with ``reasons``."""
        self.world.audit_failures[product_id] = list(reasons)

    def lock_price(self, product_id: str, locked: bool = True) -> None:
        """A promotion starts (or ends) on ``product_id``: prices/update answers 12019045."""
        with self.world.lock:
            for shop in self.world.shops.values():
                if product_id in shop.products:
                    (shop.price_locks.add if locked else shop.price_locks.discard)(product_id)

    def set_product_status(self, product_id: str, status: str) -> None:
        """TikTok changes a product's status on its own (``FREEZE``, ``PLATFORM_DEACTIVATED``,
        ``DELETED`` by the seller in Seller Center, ``ACTIVATE`` again)."""
        with self.world.lock:
            for shop in self.world.shops.values():
                p = shop.products.get(product_id)
                if p is not None:
                    p["status"], p["update_time"] = status, self.world.now()
                    p.pop("pending", None)
                    if status == "DELETED":
                        for s in p["skus"]:
                            shop.sku_index.pop(s["seller_sku"], None)
                    self.notify(shop, "PRODUCT_STATUS_CHANGE", {
                        "product_id": int(product_id), "status": "PRODUCT_STATUS_CHANGED",
                        "suspended_reason": "Frozen by TikTok Shop" if status == "FREEZE" else "",
                        "update_time": p["update_time"]})

    def product(self, product_id: str, *, review_version: bool = False) -> dict[str, Any]:
        """Get Product's answer for ``product_id`` (tests)."""
        from bridge_tiktokshop.sandbox import listing

        with self.world.lock:
            for shop in self.world.shops.values():
                if product_id in shop.products:
                    p = listing.audited(self, shop, shop.products[product_id])
                    return listing.public(p, review_version=review_version)
        raise KeyError(product_id)

    def age_order(self, order_id: str, seconds: int) -> None:
        """Move an order's times (created, updated, shipped) ``seconds`` into the past."""
        with self.world.lock:
            _, o = self._find_order(order_id)
            o["create_time"] -= seconds
            o["update_time"] -= seconds
            for li in o["line_items"]:
                if li.get("shipped_time"):
                    li["shipped_time"] -= seconds

    # ------------------------------------------------------------------ ChannelSandbox

    def _first(self) -> Shop:
        return next(iter(self.world.shops.values()))

    def shops(self) -> list[dict[str, Any]]:
        return [{**s.public(), "currency": s.currency} for s in self.world.shops.values()]

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0, shop_id: str | None = None) -> list[str]:
        shop = self.world.shops[shop_id] if shop_id else self._first()
        rnd = random.Random(seed) if seed else self.rnd
        with self.world.lock:
            return self.world.seed_products(shop, products, variants, rnd)

    def products(self, shop_id: str) -> list[dict[str, Any]]:
        shop = self.world.shops[shop_id]
        with self.world.lock:
            return [{"id": p["id"], "title": p["title"], "status": p["status"], "skus": [
                {"id": s["id"], "seller_sku": s["seller_sku"], "price": s["price"]["sale_price"],
                 "quantity": sum(i["quantity"] for i in s["inventory"])} for s in p["skus"]]}
                for p in shop.products.values() if p["status"] != "DELETED"]

    def notify(self, shop: Shop, event_type: str, data: dict[str, Any]) -> None:
        self.deliverer.emit(shop, event_type, data, self.world.now())

    def mark_shipped_market(self, shop: Shop) -> bool:
        return uses_mark_shipped(shop.region)

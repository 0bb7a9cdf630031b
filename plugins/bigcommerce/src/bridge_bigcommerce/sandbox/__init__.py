"""An emulator of the BigCommerce API for tests, the demo and benchmarks.

``BigCommerceSandbox(options)`` holds an in-memory store and a Starlette ``app`` serving the same
paths as ``api.bigcommerce.com/stores/{store_hash}/v2|v3`` (and ``/oauth2/token`` of
login.bigcommerce.com), with token checks, ``meta.pagination``, the quota headers and 429s, both
error shapes, webhook deliveries and signed app callbacks. It offers the methods of
:class:`bridge.sandboxing.EcommerceSandbox`.

Options: ``seed`` (products), ``variants`` (per product), ``latency_ms``, ``seed_random``,
``quota`` (requests per window, default 10000) and ``window_ms`` (default 30000), ``currency``,
``store_hash``, ``sign_webhooks`` (default True).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.applications import Starlette
from starlette.routing import Route

from bridge.models import Order, Product, Tracking, WebhookRequest
from bridge.sandboxing import SandboxKit, Subscription
from bridge_bigcommerce.mapping import to_order
from bridge_bigcommerce.sandbox.delivery import Deliverer, signed_payload_jwt, subscriptions
from bridge_bigcommerce.sandbox.gate import Gate, render_fault
from bridge_bigcommerce.sandbox.routes_catalog import CatalogRoutes
from bridge_bigcommerce.sandbox.routes_orders import OrderRoutes
from bridge_bigcommerce.sandbox.routes_refunds import RefundRoutes
from bridge_bigcommerce.sandbox.routes_store import StoreRoutes
from bridge_bigcommerce.sandbox.state import DEFAULT_LOCATION, StoreState

S = "/stores/{store_hash}"


class BigCommerceSandbox:
    """One sandboxed BigCommerce store (see the module docstring)."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        opts = dict(options or {})
        self.options = opts
        self.store_hash = str(opts.get("store_hash") or "sbx4tk1")
        self.token = "sbx-token-" + self.store_hash
        self.client_id = "sbx-client-" + self.store_hash
        self.client_secret = "sbx-secret-" + self.store_hash
        self.state = StoreState(self.store_hash, str(opts.get("currency") or "GBP"))
        self.kit = SandboxKit(self, platform="bigcommerce", kind="ecommerce", render_error=render_fault,
                              latency_ms=float(opts.get("latency_ms") or 0))
        self.stats = self.kit.stats
        self.faults = self.kit.faults
        self.state.search_lag = float(opts.get("search_lag") or 0)
        self.gate = Gate(token=self.token, store_hash=self.store_hash,
                         quota=int(opts.get("quota", 10_000)), window_ms=int(opts.get("window_ms", 30_000)),
                         stats=self.stats)
        self.deliverer = Deliverer(self.state, self.client_secret, self.kit,
                                   sign=bool(opts.get("sign_webhooks", True)))
        self.catalog_routes = CatalogRoutes(self.state)
        self.order_routes = OrderRoutes(self.state, self.deliverer.emit)
        self.refund_routes = RefundRoutes(self.state, self.deliverer.emit)
        self.store_routes = StoreRoutes(self.state, client_id=self.client_id,
                                        client_secret=self.client_secret, token=self.token)
        self.app = self.kit.wrap(Starlette(routes=self._routes()))
        if int(opts.get("seed", 0) or 0) > 0:
            self.seed_catalog(int(opts["seed"]), int(opts.get("variants", 1) or 1),
                              seed=int(opts.get("seed_random", 0) or 0))

    def _routes(self) -> list[Route]:
        g, c, o, s, r = self.gate, self.catalog_routes, self.order_routes, self.store_routes, self.refund_routes
        table = [
            ("POST", "/v3/orders/{order_id:int}/payment_actions/refund_quotes", r.quote),
            ("POST", "/v3/orders/{order_id:int}/payment_actions/refunds", r.create),
            ("GET", "/v3/orders/{order_id:int}/payment_actions/refunds", r.list),
            ("POST", "/v3/inventory/adjustments/relative", r.adjust),
            ("GET", "/v3/catalog/products", c.products), ("GET", "/v3/catalog/products/{product_id:int}", c.product),
            ("GET", "/v3/catalog/products/{product_id:int}/variants", c.product_variants),
            ("GET", "/v3/catalog/variants", c.variants), ("GET", "/v3/inventory/items", c.items),
            ("GET", "/v3/inventory/locations", c.locations),
            ("GET", "/v3/hooks", s.hooks), ("POST", "/v3/hooks", s.create_hook),
            ("GET", "/v3/hooks/{hook_id:int}", s.hook), ("PUT", "/v3/hooks/{hook_id:int}", s.update_hook),
            ("DELETE", "/v3/hooks/{hook_id:int}", s.delete_hook),
            ("GET", "/v2/store", s.store), ("GET", "/v2/time", s.time),
            ("GET", "/v2/orders", o.list), ("POST", "/v2/orders", o.create),
            ("GET", "/v2/orders/{order_id:int}", o.one), ("PUT", "/v2/orders/{order_id:int}", o.update),
            ("GET", "/v2/orders/{order_id:int}/products", o.products),
            ("GET", "/v2/orders/{order_id:int}/shipping_addresses", o.addresses),
            ("GET", "/v2/orders/{order_id:int}/shipments", o.shipments),
            ("POST", "/v2/orders/{order_id:int}/shipments", o.create_shipment),
            ("GET", "/v2/order_statuses", o.statuses),
        ]
        routes = [Route(S + path, g.wrap(handler, path, path.split("/")[1]), methods=[method])
                  for method, path, handler in table]
        routes.append(Route("/oauth2/token", g.wrap(s.token_exchange, "/oauth2/token", "v3",
                                                    store_api=False), methods=["POST"]))
        routes.append(Route("/product_images/{w:int}x{h:int}/{name}.png", c.image))
        return routes

    # ------------------------------------------------------------------ Sandbox

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        return {"base_url": server_url.rstrip("/"), "store_hash": self.store_hash}

    def credentials(self) -> dict[str, Any]:
        return {"access_token": self.token}

    def app_settings(self) -> dict[str, Any]:
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    def fail_next(self, count: int, status: int = 503) -> None:
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.kit.set_latency(ms)

    def subscriptions(self) -> list[Subscription]:
        return subscriptions(self.state)

    # ------------------------------------------------------------------ EcommerceSandbox

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        return self.state.seed(products, variants, seed=seed)

    def _variant(self, sku: str) -> dict[str, Any]:
        v = self.state.sku_index.get(sku)
        if v is None:
            raise KeyError(f"no variant with SKU {sku!r}")
        return v

    def set_quantity(self, sku: str, quantity: int) -> None:
        with self.state.lock:
            v = self._variant(sku)
            key = self.state.stock_key(v, DEFAULT_LOCATION)
            self.state.stock[key] = int(quantity)
            mode = self.state.products[v["product_id"]]["inventory_tracking"]
        if mode == "product":
            self.deliverer.emit("store/product/inventory/updated", {"type": "product", "id": v["product_id"],
                                "inventory": {"product_id": v["product_id"], "method": "absolute",
                                              "value": int(quantity)}})
        else:
            self.deliverer.emit("store/sku/inventory/updated", {"type": "sku", "id": v["id"], "inventory": {
                "product_id": v["product_id"], "variant_id": v["id"], "method": "absolute",
                "value": int(quantity)}})

    def quantity(self, sku: str) -> int:
        with self.state.lock:
            return self.state.available(self._variant(sku))

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", tracking.carrier.lower()).strip("-")
        with self.state.lock:
            shipment = self.order_routes.ship(int(order_id), tracking.number, slug)
        self.deliverer.emit("store/shipment/created", {"type": "shipment", "id": shipment["id"],
                                                       "orderId": int(order_id)})
        return str(shipment["id"])

    def cancel_order(self, order_id: str) -> None:
        from bridge_bigcommerce.sandbox.routes_orders import STATUS_NAMES
        from bridge_bigcommerce.sandbox.state import now, rfc2822

        with self.state.lock:
            order = self.state.orders[int(order_id)]
            previous = order["status_id"]
            if previous == 5:
                return
            order.update(status_id=5, status=STATUS_NAMES[5], date_modified=rfc2822(now()))
            self.order_routes._move_stock(self.state.order_lines[order["id"]], +1)
        self.deliverer.emit("store/order/statusUpdated", {"type": "order", "id": int(order_id), "status": {
            "previous_status_id": previous, "new_status_id": 5}})

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        """Refunds recorded on an order: id, amount, units per SKU, reason."""
        from decimal import Decimal

        with self.state.lock:
            lines = {ln["id"]: ln for ln in self.state.order_lines[int(order_id)]}
            return [{"id": str(r["id"]), "amount": Decimal(str(r["total_amount"])).quantize(Decimal("0.01")),
                     "note": r["reason"], "lines": {lines[i["item_id"]]["sku"]: i["quantity"] for i in r["items"]
                                                    if i["item_type"] == "PRODUCT"}}
                    for r in self.state.refunds.get(int(order_id), [])]

    def cancel_line(self, order_id: str, sku: str, quantity: int) -> None:
        """The merchant takes units of a line off an unshipped order, as the control panel's
        refund does it: an offline refund of those units, then the stock adjusted back."""
        from decimal import Decimal

        from bridge_bigcommerce.sandbox.routes_refunds import MANUAL

        with self.state.lock:
            order = self.state.orders[int(order_id)]
            line = next(ln for ln in self.state.order_lines[order["id"]] if ln["sku"] == sku)
            amount = Decimal(line["price_inc_tax"]) * quantity
            self.refund_routes.create(_Req(order["id"]), {  # type: ignore[arg-type]
                "items": [{"item_type": "PRODUCT", "item_id": line["id"], "quantity": quantity,
                           "reason": "Out of stock"}],
                "payments": [{"provider_id": MANUAL, "amount": float(amount), "offline": True}]})
            self.state.adjust(self.state.variant_index[line["variant_id"]], quantity)

    def catalog(self) -> list[Product]:
        """Every product of the store, from the v3 JSON the API gives (variants and images)."""
        from bridge_bigcommerce.mapping import StoreFacts, to_product

        facts = StoreFacts(currency=self.state.currency)
        with self.state.lock:
            raw = [self.catalog_routes.product_json(p, {"variants", "images"}, None, "")
                   for p in self.state.products.values()]
        return [to_product(p, facts) for p in raw]

    def edit_product(self, product_id: str, title: str) -> None:
        """The merchant renames a product (its ``date_modified`` moves to the sandbox clock)."""
        from bridge_bigcommerce.sandbox.state import iso, now

        with self.state.lock:
            self.state.products[int(product_id)].update(name=title, date_modified=iso(now()))
        self.deliverer.emit("store/product/updated", {"type": "product", "id": int(product_id)})

    def hold_clock(self, at: float | None) -> None:
        from bridge_bigcommerce.sandbox import state

        state.hold_clock(at)

    def sample_webhook(self) -> WebhookRequest:
        """A store/product/updated delivery to the newest hook, with its headers and the
        Standard Webhooks signature BigCommerce adds (register the webhooks first)."""
        import hashlib
        import json
        import time

        subs = self.subscriptions()
        if not subs:
            raise ValueError("no webhook is registered: a delivery carries its hook's headers")
        data = {"type": "product", "id": next(iter(self.state.products), 1)}
        body = json.dumps({"scope": "store/product/updated", "store_id": "1001",
                           "producer": f"stores/{self.state.store_hash}", "data": data,
                           "created_at": int(time.time()),
                           "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()}).encode()
        return WebhookRequest(headers=self.deliverer._headers(subs[-1], "store/product/updated", body), body=body)

    def orders(self) -> list[Order]:
        with self.state.lock:
            return [to_order(o, self.state.order_lines[i], self.state.order_addresses[i])
                    for i, o in self.state.orders.items()]

    # ------------------------------------------------------------------ extras

    def install_params(self, redirect_uri: str,
                       scope: str = "store_v2_products_read_only store_v2_orders "
                                    "store_inventory_read_only store_v2_information_read_only "
                                    "store_locations_read_only") -> dict[str, str]:
        """The query of the install callback (``GET /auth``) BigCommerce would send."""
        return self.store_routes.issue_code(redirect_uri, scope)

    def signed_payload_jwt(self, **kw: Any) -> str:
        """A ``signed_payload_jwt`` for the ``load``/``uninstall`` callbacks."""
        return signed_payload_jwt(self.client_id, self.client_secret, self.store_hash, **kw)

    def written_bodies(self) -> list[tuple[str, str, Any]]:
        """(method, route, JSON body) of every POST/PUT served."""
        with self.gate.lock:
            return list(self.gate.bodies)

    def reset(self, products: int = 0, variants: int = 1, *, seed: int = 0) -> None:
        """Empty the store (and the quota, faults, stats and delivery log); seed again."""
        self.deliverer.flush()
        with self.state.lock:
            self.state.__init__(self.store_hash, self.state.currency)  # type: ignore[misc]
        with self.gate.lock:
            self.gate.bodies.clear()
            self.gate.used = 0
        self.kit.reset()
        if products:
            self.seed_catalog(products, variants, seed=seed)


class _Req:
    """Just enough of a request for the refund routes called from the control methods."""

    def __init__(self, order_id: int) -> None:
        self.path_params = {"order_id": order_id}

"""An emulator of the Magento 2.4 REST API for tests, the demo and benchmarks.

``MagentoSandbox.from_options({"seed": 20, "variants": 3, "msi": True, "bearer": False})`` holds
one store (website ``base``, store view ``default``) with a seeded catalog; ``.app`` serves the
REST routes bridge uses with Magento's paths, OAuth 1.0a / Bearer checks, searchCriteria with
the last-page repetition, and Magento's error shapes. It offers the
:class:`bridge.sandboxing.EcommerceSandbox` methods to act as the merchant.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bridge.models import Order, Product, Tracking, Variant
from bridge.sandboxing import SandboxKit, Subscription
from bridge_magento2 import mapping
from bridge_magento2.catalog import TYPES, VISIBLE
from bridge_magento2.sandbox import app as app_module
from bridge_magento2.sandbox import catalog_routes, creditmemo_routes, sales_routes
from bridge_magento2.sandbox.auth import AuthError, Gate, Integration
from bridge_magento2.sandbox.state import State, now


class MagentoSandbox:
    """The sandbox: state, authentication gate, request stats and the ASGI ``app``."""

    def __init__(self, *, currency: str = "GBP", msi: bool = True, bearer: bool = False,
                 latency_ms: float = 0) -> None:
        self.state = State(currency=currency, msi=msi)
        self.integration = Integration()
        self.gate = Gate(self.integration, bearer=bearer)
        self._started = {"msi": msi, "bearer": bearer}
        self.kit = SandboxKit(self, platform="magento2", kind="ecommerce", render_error=app_module.render_fault,
                              latency_ms=float(latency_ms))
        self.stats = self.kit.stats
        self.faults = self.kit.faults
        self.app = self.kit.wrap(app_module.build(self, [*catalog_routes.routes(self), *sales_routes.routes(self),
                                                         *creditmemo_routes.routes(self),
                                                         *self._oauth_routes()]))

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> MagentoSandbox:
        def flag(name: str, default: bool) -> bool:
            value = options.get(name, default)
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")

        sb = cls(currency=str(options.get("currency") or "GBP"), msi=flag("msi", True),
                 bearer=flag("bearer", False), latency_ms=float(options.get("latency_ms") or 0))
        sb.state.search_lag = float(options.get("search_lag") or 0)
        count = int(options.get("seed") or 0)
        if count:
            sb.seed_catalog(count, int(options.get("variants") or 1), seed=int(options.get("seed_random") or 0))
        return sb

    # ------------------------------------------------------------------ Sandbox

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        return {"base_url": server_url}

    def credentials(self) -> dict[str, Any]:
        i = self.integration
        return {"consumer_key": i.consumer_key, "consumer_secret": i.consumer_secret,
                "access_token": i.access_token, "access_token_secret": i.access_token_secret}

    def app_settings(self) -> dict[str, Any]:
        return {}

    def fail_next(self, count: int, status: int = 503) -> None:
        self.kit.fail_next(count, status)

    def set_latency(self, ms: float) -> None:
        self.kit.set_latency(ms)

    def subscriptions(self) -> list[Subscription]:
        """None: Magento Open Source has no webhook subscriptions over REST (bridge polls it)."""
        return []

    def reset(self, *, msi: bool | None = None, bearer: bool | None = None) -> None:
        """Empty the store (catalog, stock, orders), clear faults, latency and stats; MSI and
        standalone Bearer tokens back to how the sandbox started unless given."""
        self.state.__init__(currency=self.state.currency,  # type: ignore[misc]
                            msi=self._started["msi"] if msi is None else msi)
        self.gate.bearer = self._started["bearer"] if bearer is None else bearer
        self.kit.reset()

    def set_msi(self, enabled: bool) -> None:
        """Turn Multi-Source Inventory on or off (its routes then answer 404)."""
        self.state.msi = enabled

    def set_bearer(self, allowed: bool) -> None:
        """Magento's "Allow OAuth Access Tokens to be used as standalone Bearer tokens"."""
        self.gate.bearer = allowed

    def activation_form(self, store_base_url: str) -> bytes:
        """The form Magento POSTs to the integration's Callback URL on activation."""
        i = self.integration
        return urlencode({"oauth_consumer_key": i.consumer_key, "oauth_consumer_secret": i.consumer_secret,
                          "store_base_url": store_base_url.rstrip("/") + "/",
                          "oauth_verifier": i.verifier}).encode()

    # ------------------------------------------------------------------ EcommerceSandbox

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        return self.state.seed(products, variants, seed=seed)

    def set_quantity(self, sku: str, quantity: int) -> None:
        with self.state.lock:
            if sku not in self.state.by_sku:
                raise KeyError(sku)
            self.state.quantity[sku] = int(quantity)

    def quantity(self, sku: str) -> int:
        return self.state.salable(sku)

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        """Ship every line of an order with one track (carrier ``custom``, title = carrier)."""
        st = self.state
        with st.lock:
            order = st.orders[int(order_id)]
            sid = st.new_id("shipment")
            stamp = now()
            items = []
            for it in order["items"]:
                qty = float(it.get("qty_ordered") or 0) - float(it.get("qty_shipped") or 0)
                if qty <= 0:
                    continue
                it["qty_shipped"] = float(it.get("qty_shipped") or 0) + qty
                if it["sku"] in st.quantity:
                    st.quantity[it["sku"]] -= int(qty)  # MSI source deduction at shipment
                items.append({"entity_id": st.new_id("item"), "parent_id": sid, "order_item_id": it["item_id"],
                              "sku": it["sku"], "name": it.get("name"), "qty": qty, "price": it.get("price"),
                              "product_id": it.get("product_id")})
            st.shipments[sid] = {
                "entity_id": sid, "increment_id": f"{sid:09d}", "order_id": int(order_id), "store_id": 1,
                "created_at": stamp, "updated_at": stamp, "total_qty": sum(i["qty"] for i in items),
                "items": items, "comments": [], "extension_attributes": {"source_code": "default"},
                "tracks": [{"entity_id": st.new_id("track"), "parent_id": sid, "order_id": int(order_id),
                            "track_number": tracking.number, "title": tracking.carrier or "Custom",
                            "carrier_code": "custom", "description": None, "qty": None, "weight": None,
                            "created_at": stamp, "updated_at": stamp}],
            }
            order["updated_at"] = stamp
            if order["state"] in ("new", "processing"):
                order["state"], order["status"] = "processing", "processing"
            return str(sid)

    def cancel_order(self, order_id: str) -> None:
        with self.state.lock:
            self.state.orders[int(order_id)].update(state="canceled", status="canceled", updated_at=now())

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        """Credit memos of an order: id, amount, units per SKU, comment."""
        from decimal import Decimal

        with self.state.lock:
            return [{"id": str(m["entity_id"]), "amount": Decimal(str(m["grand_total"])).quantize(Decimal("0.01")),
                     "note": " ".join(c["comment"] for c in m["comments"]),
                     "lines": {i["sku"]: int(i["qty"]) for i in m["items"] if i["qty"]}}
                    for m in self.state.creditmemos.values() if m["order_id"] == int(order_id)]

    def cancel_line(self, order_id: str, sku: str, quantity: int) -> None:
        """The merchant takes units of an unshipped order off, as the admin does it: invoice if
        needed, then an offline credit memo of those units (the API's own routes, called
        directly)."""
        st = self.state
        with st.lock:
            order = st.orders[int(order_id)]
            item = next(it for it in order["items"] if it["sku"] == sku)
            if not float(order.get("total_paid") or 0):
                creditmemo_routes.invoice(st, order)
            creditmemo_routes.credit_memo(st, order, {
                "items": [{"order_item_id": item["item_id"], "qty": quantity}], "notify": False,
                "comment": {"comment": "Out of stock", "is_visible_on_front": 0}})

    # ------------------------------------------------------------------ the connector test kit

    def catalog(self) -> list[Product]:
        """Every product ``GET /V1/products`` lists (simple, virtual and configurable products
        visible in the catalog or search), as the store holds it: a configurable's variants are
        its enabled children, a simple product is its own variant; each at the price the store
        charges (an active ``special_price`` below ``price``)."""
        today = datetime.now(UTC).date()
        currency = self.state.currency

        def variant(row: dict[str, Any]) -> Variant:
            price, compare = mapping.prices(row, mapping.attributes(row), currency, today)
            return Variant(remote_id=str(row["id"]), sku=row["sku"], title=row["name"], price=price,
                           compare_at_price=compare)

        with self.state.lock:
            out = []
            for row in self.state.products.values():
                if row["type_id"] not in TYPES.split(",") or str(row["visibility"]) not in VISIBLE.split(","):
                    continue
                if row["type_id"] == "configurable":
                    children = [self.state.products[i] for i in
                                row["extension_attributes"].get("configurable_product_links") or []
                                if i in self.state.products]
                    variants = [variant(c) for c in children if int(c.get("status") or 1) == 1]
                else:
                    variants = [variant(row)]
                out.append(Product(remote_id=str(row["id"]), title=row["name"], product_type=row["type_id"],
                                   variants=variants))
            return out

    def edit_product(self, product_id: str, title: str) -> None:
        """The merchant renames a product (its ``updated_at`` moves to the sandbox clock)."""
        from bridge_magento2.sandbox.state import now

        with self.state.lock:
            self.state.products[int(product_id)].update(name=title, updated_at=now())

    def hold_clock(self, at: float | None) -> None:
        from bridge_magento2.sandbox import state

        state.hold_clock(at)

    def orders(self) -> list[Order]:
        with self.state.lock:
            return [mapping.order(o) for o in self.state.orders.values()]

    def order_json(self, order_id: str) -> dict[str, Any]:
        """An order as stored (for tests)."""
        return self.state.orders[int(order_id)]

    # ------------------------------------------------------------------ activation routes

    def _oauth_routes(self) -> list[tuple[str, str, Any, bool]]:
        def handler(step: str) -> Any:
            async def run(request: Request) -> Response:
                url = app_module.signed_url(request)
                try:
                    if step == "request":
                        body = self.gate.request_token(url, request.headers.get("authorization"))
                    else:
                        body = self.gate.access_token(url, request.headers.get("authorization"))
                except AuthError as exc:
                    return PlainTextResponse(urlencode({"oauth_problem": exc.message}), status_code=401)
                return PlainTextResponse(body, media_type="application/x-www-form-urlencoded")
            return run

        return [("POST", "/oauth/token/request", handler("request"), False),
                ("POST", "/oauth/token/access", handler("access"), False)]

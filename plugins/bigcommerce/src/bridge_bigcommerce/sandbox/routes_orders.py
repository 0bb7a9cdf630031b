"""Sandbox routes of v2 orders: create/read/update, order products, shipping addresses,
shipments (204 when none), order statuses; stock moves and webhooks as BigCommerce does."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge_bigcommerce.sandbox.gate import ApiError
from bridge_bigcommerce.sandbox.state import StoreState, now, rfc2822

STATUS_NAMES = {0: "Incomplete", 1: "Pending", 2: "Shipped", 3: "Partially Shipped", 4: "Refunded",
                5: "Cancelled", 6: "Declined", 7: "Awaiting Payment", 8: "Awaiting Pickup",
                9: "Awaiting Shipment", 10: "Completed", 11: "Awaiting Fulfillment",
                12: "Manual Verification Required", 13: "Disputed", 14: "Partially Refunded"}
MONEY_FIELDS = ("shipping_cost_inc_tax", "shipping_cost_ex_tax", "discount_amount",
                "subtotal_inc_tax", "subtotal_ex_tax", "total_inc_tax", "total_ex_tax")
WRITABLE = ("external_order_id", "staff_notes", "customer_message", "payment_method",
            "external_source", "channel_id")
Notify = Callable[[str, dict], None]


def money(v: Any) -> str:
    return f"{Decimal(str(v)).quantize(Decimal('0.0001'))}"


def _dec(v: Any, field: str) -> Decimal:
    try:
        return Decimal(str(v))
    except InvalidOperation as exc:
        raise ApiError(400, f"The field '{field}' is invalid.") from exc


def parse_when(value: str) -> datetime:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ApiError(400, f"The date '{value}' is invalid.") from exc


ADDRESS_BASE = ("first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip",
                "country", "country_iso2", "phone", "email")
"""A shipment's addresses carry these fields only (``shippingAddress_Base``/``billingAddress_Base``
of the orders v2 schema), not the order address's ``id``, ``order_id``, ``items_total`` ..."""


def _address_base(address: dict[str, Any]) -> dict[str, Any]:
    return {k: address.get(k, "") for k in ADDRESS_BASE}


class OrderRoutes:
    def __init__(self, state: StoreState, notify: Notify) -> None:
        self.st = state
        self.notify = notify

    # ------------------------------------------------------------------ create

    def _line(self, item: dict, oid: int) -> dict[str, Any]:
        qty = int(item.get("quantity") or 0)
        if qty <= 0:
            raise ApiError(400, "The field 'quantity' is invalid.")
        if "product_id" not in item:
            if not item.get("name"):
                raise ApiError(400, "The field 'name' is required for a custom product.")
            product, variant = None, None
            price = _dec(item.get("price_inc_tax", 0), "price_inc_tax")
        else:
            product = self.st.products.get(int(item["product_id"]))
            if product is None:
                raise ApiError(400, f"The product id {item['product_id']} does not exist.")
            variants = self.st.variants[product["id"]]
            if item.get("variant_id") is not None:
                variant = next((v for v in variants if v["id"] == int(item["variant_id"])), None)
                if variant is None:
                    raise ApiError(400, f"The variant id {item['variant_id']} is not a variant of "
                                        f"product {product['id']}.")
            elif len(variants) == 1:
                variant = variants[0]
            else:
                chosen = {str(o.get("value")) for o in item.get("product_options") or []}
                variant = next((v for v in variants if chosen and {
                    str(ov["id"]) for ov in v["option_values"]} == chosen), None)
                if variant is None:
                    raise ApiError(400, "The product has options: give variant_id or product_options.")
            if ("price_inc_tax" in item) != ("price_ex_tax" in item):
                raise ApiError(400, "Give both price_inc_tax and price_ex_tax, or neither.")
            default = variant["price"] if variant["price"] is not None else product["price"]
            price = _dec(item.get("price_inc_tax", default), "price_inc_tax")
        ex = _dec(item.get("price_ex_tax", price), "price_ex_tax")
        return {"id": self.st.next_id("line"), "order_id": oid,
                "product_id": product["id"] if product else 0,
                "variant_id": variant["id"] if variant else 0,
                "sku": item.get("sku") or (variant["sku"] if variant else ""),
                "name": item.get("name") or (product["name"] if product else ""),
                "type": "physical", "quantity": qty, "quantity_shipped": 0,
                "price_inc_tax": money(price), "price_ex_tax": money(ex),
                "total_inc_tax": money(price * qty), "total_ex_tax": money(ex * qty),
                "product_options": [], "order_address_id": 0, "is_refunded": False,
                "quantity_refunded": 0, "refund_amount": "0.0000"}

    def create(self, request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be an object.")
        billing = body.get("billing_address")
        if not isinstance(billing, dict) or len(str(billing.get("zip") or "")) < 2:
            raise ApiError(400, "The field 'billing_address.zip' is invalid.")
        if not body.get("products"):
            raise ApiError(400, "The field 'products' is required.")
        for field in MONEY_FIELDS:
            if field in body:
                _dec(body[field], field)
        with self.st.lock:
            oid = self.st.next_id("order")
            lines = [self._line(item, oid) for item in body["products"]]
            addresses = []
            for a in body.get("shipping_addresses") or [billing]:
                addresses.append({**a, "id": self.st.next_id("address"), "order_id": oid,
                                  "items_total": sum(ln["quantity"] for ln in lines),
                                  "items_shipped": 0, "shipping_method": a.get("shipping_method", "")})
            for ln in lines:
                ln["order_address_id"] = addresses[0]["id"]
            subtotal = sum((Decimal(ln["total_inc_tax"]) for ln in lines), Decimal(0))
            shipping = Decimal(str(body.get("shipping_cost_inc_tax", 0)))
            discount = Decimal(str(body.get("discount_amount", 0)))
            total = Decimal(str(body.get("total_inc_tax", subtotal + shipping - discount)))
            total_ex = Decimal(str(body.get("total_ex_tax", total)))
            stamp = rfc2822(now())
            status = int(body.get("status_id", 1))
            order = {
                "id": oid, "customer_id": int(body.get("customer_id", 0)), "date_created": stamp,
                "date_modified": stamp, "date_shipped": "", "status_id": status,
                "status": STATUS_NAMES.get(status, "Pending"),
                "subtotal_inc_tax": money(body.get("subtotal_inc_tax", subtotal)),
                "subtotal_ex_tax": money(body.get("subtotal_ex_tax", subtotal)),
                "shipping_cost_inc_tax": money(shipping),
                "shipping_cost_ex_tax": money(body.get("shipping_cost_ex_tax", shipping)),
                "discount_amount": money(discount), "total_inc_tax": money(total),
                "total_ex_tax": money(total_ex), "total_tax": money(total - total_ex),
                "items_total": sum(ln["quantity"] for ln in lines), "items_shipped": 0,
                "payment_method": body.get("payment_method", "Manual"), "payment_status": "",
                "refunded_amount": "0.0000", "currency_code": self.st.currency,
                "default_currency_code": self.st.currency, "channel_id": int(body.get("channel_id", 1)),
                "external_source": body.get("external_source", ""), "external_id": None,
                "external_order_id": str(body.get("external_order_id") or ""),
                "external_merchant_id": body.get("external_merchant_id", ""),
                "staff_notes": body.get("staff_notes", ""),
                "customer_message": body.get("customer_message", ""),
                "billing_address": billing, "is_deleted": False, "order_source": "external",
            }
            self.st.orders[oid] = order
            self.st.indexed_at[oid] = time.monotonic() + self.st.search_lag
            self.st.order_lines[oid] = lines
            self.st.order_addresses[oid] = addresses
            self._move_stock(lines, -1)
        self.notify("store/order/created", {"type": "order", "id": oid})
        return JSONResponse(self.render(request, order), status_code=201)

    def _move_stock(self, lines: list[dict], sign: int) -> None:
        for ln in lines:
            v = self.st.variant_index.get(ln["variant_id"])
            if v is None:
                continue
            self.st.adjust(v, sign * ln["quantity"])
            mode = self.st.products[v["product_id"]]["inventory_tracking"]
            if mode == "variant":
                self.notify("store/sku/inventory/order/updated", {"type": "sku", "id": v["id"], "inventory": {
                    "product_id": v["product_id"], "variant_id": v["id"], "method": "relative",
                    "value": sign * ln["quantity"]}})
            elif mode == "product":
                self.notify("store/product/inventory/order/updated", {
                    "type": "product", "id": v["product_id"], "inventory": {
                        "product_id": v["product_id"], "method": "relative",
                        "value": sign * ln["quantity"]}})

    # ------------------------------------------------------------------ read / update

    def render(self, request: Request, order: dict) -> dict[str, Any]:
        base = f"{str(request.base_url).rstrip('/')}/stores/{self.st.store_hash}/v2/orders/{order['id']}"
        return {**order, "products": {"url": f"{base}/products", "resource": f"/orders/{order['id']}/products"},
                "shipping_addresses": {"url": f"{base}/shipping_addresses",
                                       "resource": f"/orders/{order['id']}/shipping_addresses"},
                "coupons": {"url": f"{base}/coupons", "resource": f"/orders/{order['id']}/coupons"}}

    def _get(self, request: Request) -> dict:
        order = self.st.orders.get(int(request.path_params["order_id"]))
        if order is None:
            raise ApiError(404, "The requested resource was not found.")
        return order

    def list(self, request: Request) -> Response:
        q = request.query_params
        with self.st.lock:
            rows = list(self.st.orders.values())
            if self.st.search_lag:  # option search_lag: lists see a new order that much later
                now = time.monotonic()
                rows = [o for o in rows if self.st.indexed_at.get(o["id"], 0) <= now]
            if q.get("external_order_id"):
                rows = [o for o in rows if o["external_order_id"] == q["external_order_id"]]
            if q.get("status_id"):
                rows = [o for o in rows if o["status_id"] == int(q["status_id"])]
            if q.get("min_id"):
                rows = [o for o in rows if o["id"] >= int(q["min_id"])]
            for key, op in (("min_date_modified", 1), ("max_date_modified", -1)):
                if q.get(key):
                    edge = parse_when(q[key])
                    rows = [o for o in rows
                            if (parse_when(o["date_modified"]) - edge).total_seconds() * op >= 0]
            field, _, direction = (q.get("sort") or "id:asc").partition(":")
            if field not in ("id", "date_created", "date_modified", "status_id", "customer_id"):
                raise ApiError(400, f"The sort field '{field}' is invalid.")
            sort_key = (lambda o: (parse_when(o[field]), o["id"])) if field.startswith("date") else (
                lambda o: (o[field], o["id"]))
            rows.sort(key=sort_key, reverse=direction == "desc")
            page, limit = int(q.get("page", 1)), min(250, int(q.get("limit", 50)))
            chunk = rows[(page - 1) * limit: page * limit]
            data = [self.render(request, o) for o in chunk]
        return JSONResponse(data) if data else Response(status_code=204)

    def one(self, request: Request) -> dict[str, Any]:
        with self.st.lock:
            return self.render(request, self._get(request))

    def update(self, request: Request, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be an object.")
        with self.st.lock:
            order = self._get(request)
            if body.get("external_merchant_id") and order.get("external_merchant_id"):
                raise ApiError(400, "The field 'external_merchant_id' cannot be written again.")
            previous = order["status_id"]
            for field in WRITABLE:
                if field in body:
                    order[field] = body[field]
            if "billing_address" in body:
                order["billing_address"] = {**order["billing_address"], **body["billing_address"]}
            new = int(body.get("status_id", previous))
            if new not in STATUS_NAMES:
                raise ApiError(400, "The field 'status_id' is invalid.")
            order.update(status_id=new, status=STATUS_NAMES[new], date_modified=rfc2822(now()))
            if new in (5, 6) and previous not in (5, 6):
                self._move_stock(self.st.order_lines[order["id"]], +1)
            out = self.render(request, order)
        self.notify("store/order/updated", {"type": "order", "id": order["id"]})
        if new != previous:
            self.notify("store/order/statusUpdated", {"type": "order", "id": order["id"], "status": {
                "previous_status_id": previous, "new_status_id": new}})
        return out

    def products(self, request: Request) -> Response:
        with self.st.lock:
            lines = self.st.order_lines.get(int(request.path_params["order_id"]))
            if lines is None:
                raise ApiError(404, "The requested resource was not found.")
            q = request.query_params
            page, limit = int(q.get("page", 1)), min(250, int(q.get("limit", 50)))
            chunk = lines[(page - 1) * limit: page * limit]
        return JSONResponse(chunk) if chunk else Response(status_code=204)

    def addresses(self, request: Request) -> Response:
        with self.st.lock:
            rows = self.st.order_addresses.get(int(request.path_params["order_id"]))
            if rows is None:
                raise ApiError(404, "The requested resource was not found.")
            return JSONResponse(list(rows))

    def shipments(self, request: Request) -> Response:
        with self.st.lock:
            self._get(request)
            rows = self.st.shipments.get(int(request.path_params["order_id"]), [])
        return JSONResponse(rows) if rows else Response(status_code=204)

    def create_shipment(self, request: Request, body: Any) -> Response:
        with self.st.lock:
            order = self._get(request)
            shipment = self.ship(order["id"], body.get("tracking_number", ""),
                                 body.get("tracking_carrier", ""), body.get("shipping_provider", ""),
                                 body.get("items"), body.get("order_address_id"))
        self.notify("store/shipment/created", {"type": "shipment", "id": shipment["id"],
                                               "orderId": order["id"]})
        return JSONResponse(shipment, status_code=201)

    def ship(self, oid: int, number: str, carrier: str, provider: str = "",
             items: list[dict] | None = None, address_id: int | None = None) -> dict[str, Any]:
        """Add a shipment (all unshipped items by default) and move the order's status."""
        order, lines = self.st.orders[oid], self.st.order_lines[oid]
        address = self.st.order_addresses[oid][0]
        if items is None:
            items = [{"order_product_id": ln["id"], "quantity": ln["quantity"] - ln["quantity_shipped"]}
                     for ln in lines if ln["quantity"] > ln["quantity_shipped"]]
        by_id = {ln["id"]: ln for ln in lines}
        for it in items:
            ln = by_id.get(int(it["order_product_id"]))
            if ln is None:
                raise ApiError(400, f"The order product id {it['order_product_id']} is invalid.")
            ln["quantity_shipped"] += int(it["quantity"])
            it["product_id"] = ln["product_id"]
        shipment = {
            "id": self.st.next_id("shipment"), "order_id": oid, "customer_id": order["customer_id"],
            "order_address_id": address_id or address["id"], "date_created": rfc2822(now()),
            "tracking_number": number, "shipping_method": address.get("shipping_method", ""),
            "shipping_provider": provider, "shipping_provider_display_name": provider.upper(),
            "tracking_carrier": carrier, "tracking_link": "",
            "generated_tracking_link": f"https://track.aftership.com/{carrier}/{number}" if carrier else "",
            "merchant_shipping_cost": "0.0000", "comments": "",
            "billing_address": _address_base(order["billing_address"]),
            "shipping_address": _address_base(address), "items": items,
        }
        self.st.shipments.setdefault(oid, []).append(shipment)
        shipped = sum(ln["quantity_shipped"] for ln in lines)
        order["items_shipped"] = shipped
        status = 2 if shipped >= order["items_total"] else 3
        order.update(status_id=status, status=STATUS_NAMES[status], date_modified=rfc2822(now()),
                     date_shipped=rfc2822(now()) if status == 2 else "")
        return shipment

    def statuses(self, request: Request) -> list[dict[str, Any]]:
        return [{"id": k, "name": v, "system_label": v, "custom_label": v, "system_description": "",
                 "order": k} for k, v in STATUS_NAMES.items()]

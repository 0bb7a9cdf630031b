"""Sandbox routes of v3 payment actions (refund quotes and refunds, platform note §15) and of
relative inventory adjustments, as BigCommerce behaves:

* a quote computes the refundable amount of the items and offers refund methods; for an order
  created through the API (payment method not a BigCommerce gateway) the sandbox offers store
  credit first (refused for a guest customer, the spec's 422) and a manual offline method second
  — which ``provider_id`` a real store offers such an order is UNCONFIRMED (§15.3), so bridge
  must choose the offline option from the quote, never assume a name;
* a refund needs ``payments`` whose amounts equal the quote (or the merchant override); refunds
  of one order are one after another; more units than are left, or an order not paid, is a 422;
* a refund never restocks (§15.3): stock comes back only through an inventory adjustment;
* order products carry ``quantity_refunded`` / ``refund_amount`` / ``is_refunded`` and the order
  moves to 14 (Partially Refunded) or 4 (Refunded).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bridge_bigcommerce.sandbox.gate import ApiError
from bridge_bigcommerce.sandbox.routes_orders import STATUS_NAMES, Notify, money
from bridge_bigcommerce.sandbox.state import StoreState, now, rfc2822

PAID = {2, 3, 8, 9, 10, 11, 14}
MANUAL = "custom"


def _d(v: Any) -> Decimal:
    return Decimal(str(v or 0))


class RefundRoutes:
    def __init__(self, state: StoreState, notify: Notify) -> None:
        self.st = state
        self.notify = notify

    def _order(self, request: Request) -> dict[str, Any]:
        order = self.st.orders.get(int(request.path_params["order_id"]))
        if order is None:
            raise ApiError(404, "The requested resource was not found.")
        return order

    def _total(self, order: dict[str, Any], items: Any) -> tuple[Decimal, list[dict[str, Any]]]:
        """The refundable amount of ``items`` (422 for anything not refundable)."""
        if order["status_id"] not in PAID:
            raise ApiError(422, "The order must be paid before it can be refunded.")
        if not isinstance(items, list) or not items:
            raise ApiError(422, "items is required.")
        lines = {ln["id"]: ln for ln in self.st.order_lines[order["id"]]}
        addresses = {a["id"] for a in self.st.order_addresses[order["id"]]}
        total, out = Decimal(0), []
        for it in items:
            kind = it.get("item_type")
            if kind == "PRODUCT":
                ln = lines.get(int(it.get("item_id") or 0))
                qty = int(it.get("quantity") or 0)
                if ln is None:
                    raise ApiError(422, f"Order product {it.get('item_id')} does not belong to order {order['id']}.")
                if qty <= 0 or qty > ln["quantity"] - ln["quantity_refunded"]:
                    raise ApiError(422, f"Quantity {qty} of order product {ln['id']} is more than is left to refund "
                                        f"({ln['quantity'] - ln['quantity_refunded']}).")
                amount = _d(ln["price_inc_tax"]) * qty + sum((_d(a.get("amount")) for a in it.get("adjustments") or []),
                                                             Decimal(0))
            elif kind in ("SHIPPING", "HANDLING"):
                if int(it.get("item_id") or 0) not in addresses:
                    raise ApiError(422, f"Order address {it.get('item_id')} does not belong to order {order['id']}.")
                amount = _d(it.get("amount"))
                if amount > _d(order["shipping_cost_inc_tax"]) - _d(order.get("_shipping_refunded")):
                    raise ApiError(422, "The shipping amount is more than is left to refund.")
            elif kind == "ORDER":
                amount = _d(it.get("amount"))
            else:
                raise ApiError(422, f"item_type {kind} is not refundable here.")
            total += amount
            out.append({**it, "_amount": amount})
        return total, out

    def quote(self, request: Request, body: Any) -> Any:
        with self.st.lock:
            order = self._order(request)
            total, _ = self._total(order, (body or {}).get("items"))
            left = _d(order["total_inc_tax"]) - _d(order["refunded_amount"])
            refundable = min(total, left)
            offline_reason = "The order was paid outside BigCommerce."
            methods = [[{"provider_id": "storecredit", "provider_description": "Store Credit",
                         "amount": float(refundable), "offline": False, "offline_provider": False,
                         "offline_reason": ""}],
                       [{"provider_id": MANUAL, "provider_description": str(order.get("payment_method") or "Manual"),
                         "amount": float(refundable), "offline": True, "offline_provider": True,
                         "offline_reason": offline_reason}]]
            data = {"order_id": order["id"], "total_refund_amount": float(refundable),
                    "total_refund_tax_amount": 0.0, "order_level_refund_amount": 0.0, "rounding": 0.0,
                    "adjustment": float(refundable - total), "tax_inclusive": True, "refund_methods": methods}
        return JSONResponse({"data": data, "meta": {}}, status_code=201)

    def create(self, request: Request, body: Any) -> Any:
        if not isinstance(body, dict):
            raise ApiError(400, "The request body must be an object.")
        with self.st.lock:
            order = self._order(request)
            total, items = self._total(order, body.get("items"))
            left = _d(order["total_inc_tax"]) - _d(order["refunded_amount"])
            override = body.get("merchant_calculated_override") or None
            if isinstance(override, list):
                override = override[0] if override else None
            expected = _d(override["total_amount"]) if override else min(total, left)
            payments = body.get("payments")
            if not isinstance(payments, list) or not payments:
                raise ApiError(422, "payments is required.")
            paid = sum((_d(p.get("amount")) for p in payments), Decimal(0))
            if paid.quantize(Decimal("0.01")) != expected.quantize(Decimal("0.01")):
                raise ApiError(422, f"The payment amounts ({paid}) must equal the refund amount ({expected}).")
            if expected > left:
                raise ApiError(422, f"The refund amount {expected} is more than is left to refund ({left}).")
            for p in payments:
                if p.get("provider_id") == "storecredit" and not order["customer_id"]:
                    raise ApiError(422, "Unable to provide store credit for a guest customer.")
                if p.get("provider_id") not in ("storecredit", MANUAL):
                    raise ApiError(422, f"Payment provider {p.get('provider_id')} is not available for this order.")
                if p.get("provider_id") == MANUAL and not p.get("offline"):
                    raise ApiError(422, "This payment provider can only refund offline.")
            lines = {ln["id"]: ln for ln in self.st.order_lines[order["id"]]}
            for it in items:
                if it.get("item_type") == "PRODUCT":
                    ln = lines[int(it["item_id"])]
                    ln["quantity_refunded"] += int(it["quantity"])
                    ln["refund_amount"] = money(_d(ln["refund_amount"]) + it["_amount"])
                    ln["is_refunded"] = ln["quantity_refunded"] >= ln["quantity"]
                elif it.get("item_type") in ("SHIPPING", "HANDLING"):
                    order["_shipping_refunded"] = str(_d(order.get("_shipping_refunded")) + it["_amount"])
            order["refunded_amount"] = money(_d(order["refunded_amount"]) + expected)
            status = 4 if _d(order["refunded_amount"]) >= _d(order["total_inc_tax"]) else 14
            order.update(status_id=status, status=STATUS_NAMES[status], date_modified=rfc2822(now()))
            rid = self.st.next_id("refund")
            refund = {"id": rid, "order_id": order["id"], "user_id": 0,
                      "created": datetime.now(UTC).isoformat(timespec="seconds"),
                      "reason": next((str(it.get("reason")) for it in items if it.get("reason")), ""),
                      "total_amount": float(expected), "total_tax": 0.0,
                      "uses_merchant_override_values": bool(override),
                      "items": [{"item_type": it["item_type"], "item_id": int(it["item_id"]),
                                 "reason": str(it.get("reason") or ""), "quantity": it.get("quantity"),
                                 "requested_amount": float(it["_amount"]) if it["item_type"] != "PRODUCT" else None}
                                for it in items],
                      "payments": [{"id": self.st.next_id("refund_payment"), "provider_id": p["provider_id"],
                                    "amount": float(_d(p["amount"])), "offline": bool(p.get("offline")),
                                    "is_declined": False, "declined_message": ""} for p in payments]}
            self.st.refunds.setdefault(order["id"], []).append(refund)
        self.notify("store/order/refund/created", {"type": "order", "id": order["id"], "refund": {"refund_id": rid}})
        return JSONResponse({"data": refund, "meta": {}}, status_code=201)

    def list(self, request: Request) -> Any:
        with self.st.lock:
            order = self._order(request)
            return {"data": list(self.st.refunds.get(order["id"], [])), "meta": {}}

    def adjust(self, request: Request, body: Any) -> Any:
        """``POST /v3/inventory/adjustments/relative``: add ``quantity`` (may be negative)."""
        items = (body or {}).get("items")
        if not isinstance(items, list) or not items:
            raise ApiError(422, "items is required.")
        with self.st.lock:
            for it in items:
                v = self.st.variant_index.get(int(it.get("variant_id") or 0)) if it.get("variant_id") else \
                    self.st.sku_index.get(str(it.get("sku") or ""))
                if v is None:
                    raise ApiError(422, f"Unknown item {it}.")
            for it in items:
                v = self.st.variant_index.get(int(it.get("variant_id") or 0)) if it.get("variant_id") else \
                    self.st.sku_index[str(it["sku"])]
                self.st.adjust(v, int(it.get("quantity") or 0), int(it.get("location_id") or 1))
        return {"transaction_id": f"adj-{self.st.next_id('adjustment')}"}

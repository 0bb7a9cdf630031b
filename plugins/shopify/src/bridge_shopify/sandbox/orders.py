"""Orders in the sandbox store: ``orderCreate``, ``orderCancel`` and the merchant's fulfilments,
with the stock claims and restocks and the webhooks a real store would send."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from bridge_shopify.sandbox.state import StoreState, gid, iso, now, num_of


def _err(field: list[str], message: str, code: str = "INVALID") -> dict[str, Any]:
    return {"field": field, "message": message, "code": code}


def _money(node: dict[str, Any] | None) -> Decimal:
    return Decimal(str(((node or {}).get("shopMoney") or {}).get("amount") or "0"))


def create_order(state: StoreState, order_in: dict[str, Any],
                 options: dict[str, Any] | None) -> tuple[dict | None, list[dict]]:
    """Validate and create an order; returns (order, userErrors)."""
    options = options or {}
    behaviour = options.get("inventoryBehaviour") or "BYPASS"
    lines_in = order_in.get("lineItems") or []
    errors = []
    if not lines_in:
        errors.append(_err(["order", "lineItems"], "Line items can't be blank"))
    customer = order_in.get("customer") or {}
    if customer.get("toAssociate") and customer.get("toUpsert"):
        errors.append(_err(["order", "customer"], "Only one of toAssociate or toUpsert may be given",
                           "REDUNDANT_CUSTOMER_FIELDS"))
    with state.lock:
        for i, line in enumerate(lines_in):
            vid = line.get("variantId")
            if vid and vid not in state.variants:
                errors.append(_err(["order", "lineItems", str(i), "variantId"],
                                   f"Variant {vid} does not exist"))
            elif vid and behaviour == "DECREMENT_OBEYING_POLICY":
                variant = state.variants[vid]
                if variant["inventoryPolicy"] == "DENY" and state.available(vid) < line["quantity"]:
                    errors.append(_err(["order", "lineItems", str(i), "quantity"],
                                       f"Not enough stock for {variant['sku']}",
                                       "INVENTORY_CLAIM_FAILED"))
            currency = ((line.get("priceSet") or {}).get("shopMoney") or {}).get("currencyCode")
            if currency and currency != state.currency:
                errors.append(_err(["order", "lineItems", str(i), "priceSet"],
                                   f"Currency {currency} does not match the shop currency"))
        if errors:
            return None, errors
        num = state.next_num()
        state.order_number += 1
        stamp = now()
        lines = []
        for line in lines_in:
            vid = line.get("variantId")
            variant = state.variants.get(vid) if vid else None
            ln = state.next_num()
            lines.append({
                "_num": ln, "id": gid("LineItem", ln), "variant": vid,
                "product": variant["product"] if variant else None,
                "title": (state.products[variant["product"]]["title"] if variant else line.get("title")),
                "sku": variant["sku"] if variant else line.get("sku"),
                "quantity": int(line["quantity"]), "price": str(_money(line.get("priceSet"))),
                "claimed": bool(variant) and behaviour != "BYPASS",
            })
        shipping = sum((_money(s.get("priceSet")) for s in order_in.get("shippingLines") or []),
                       Decimal(0))
        tax = sum((_money(t.get("priceSet")) for t in order_in.get("taxLines") or []), Decimal(0))
        subtotal = sum((Decimal(ln["price"]) * ln["quantity"] for ln in lines), Decimal(0))
        upsert = customer.get("toUpsert") or {}
        order = {
            "_num": num, "id": gid("Order", num), "name": f"#{state.order_number}",
            "_searchable_at": time.monotonic() + state.search_lag,
            "createdAt": stamp, "updatedAt": stamp, "processedAt": order_in.get("processedAt"),
            "cancelledAt": None, "cancelReason": None,
            "sourceName": order_in.get("sourceName"), "sourceIdentifier": order_in.get("sourceIdentifier"),
            "tags": list(order_in.get("tags") or []), "note": order_in.get("note"),
            "email": order_in.get("email") or upsert.get("email"),
            "customAttributes": list(order_in.get("customAttributes") or []),
            "shippingAddress": order_in.get("shippingAddress"),
            "billingAddress": order_in.get("billingAddress"),
            "currencyCode": order_in.get("currency") or state.currency,
            "financialStatus": order_in.get("financialStatus") or "PENDING",
            "lineItems": lines, "fulfillments": [],
            "subtotal": subtotal, "shipping": shipping, "tax": tax,
            "total": subtotal + shipping + tax,
        }
        order["transactions"] = sale_transactions(state, order, order_in.get("transactions"))
        order["refunds"] = []
        state.orders[order["id"]] = order
        for line in lines:
            if line["claimed"]:
                state.adjust(line["variant"], -line["quantity"])
    state.emit("orders/create", {"id": num, "admin_graphql_api_id": order["id"],
                                 "name": order["name"], "created_at": iso(stamp)})
    return order, []


def fulfillment_status(order: dict[str, Any]) -> str:
    shipped = sum(1 for f in order["fulfillments"] if f["status"] == "SUCCESS")
    if not shipped:
        return "UNFULFILLED"
    return "FULFILLED"


def cancel_order(state: StoreState, order_id: str, *, reason: str, restock: bool,
                 staff_note: str | None = None) -> list[dict[str, Any]]:
    """Cancel an order; returns orderCancelUserErrors (empty on success)."""
    with state.lock:
        order = state.orders.get(order_id)
        if order is None:
            return [_err(["orderId"], "Order does not exist", "NOT_FOUND")]
        if order["cancelledAt"]:
            return [_err(["orderId"], "Order has already been cancelled")]
        if fulfillment_status(order) != "UNFULFILLED":
            return [_err(["orderId"], "Cannot cancel a fulfilled order")]
        order["cancelledAt"] = order["updatedAt"] = now()
        order["cancelReason"] = reason
        order["staffNote"] = staff_note
        if restock:
            for line in order["lineItems"]:
                if line["claimed"]:
                    state.adjust(line["variant"], line["quantity"])
                    line["claimed"] = False
    state.emit("orders/cancelled", {"id": order["_num"], "admin_graphql_api_id": order_id,
                                    "cancelled_at": iso(order["cancelledAt"]),
                                    "cancel_reason": reason.lower()})
    return []


def fulfill_order(state: StoreState, order_id: str, number: str, company: str,
                  url: str | None) -> str:
    """Ship every line of an order with one tracking number (the merchant's act)."""
    with state.lock:
        order = state.orders[order_id]
        fn = state.next_num()
        for ln in order["lineItems"]:
            ln["shipped"] = ln["quantity"] - ln.get("removed", 0) - ln.get("cancelled", 0)
        fulfillment = {"_num": fn, "id": gid("Fulfillment", fn), "status": "SUCCESS",
                       "createdAt": now(), "trackingInfo": [{"company": company, "number": number,
                                                             "url": url}],
                       "lineItems": [ln["id"] for ln in order["lineItems"]]}
        order["fulfillments"].append(fulfillment)
        order["updatedAt"] = now()
    state.emit("fulfillments/create", {
        "id": fn, "order_id": order["_num"], "status": "success", "tracking_company": company,
        "tracking_number": number, "tracking_numbers": [number], "tracking_url": url,
        "tracking_urls": [url] if url else [], "admin_graphql_api_id": fulfillment["id"],
        "line_items": [{"id": num_of(i)} for i in fulfillment["lineItems"]],
        "created_at": iso(fulfillment["createdAt"])})
    return fulfillment["id"]


# --------------------------------------------------------------------------- transactions and refunds


def sale_transactions(state: StoreState, order: dict[str, Any], given: list[dict[str, Any]] | None) -> list[dict]:
    """The order's payment transactions: those given to ``orderCreate``, else — for an order
    created ``PAID`` without any — one successful SALE of the total on the manual gateway
    (how Shopify records a paid order without transactions is UNCONFIRMED; see the README)."""
    out = []
    for t in given or []:
        n = state.next_num()
        out.append({"_num": n, "id": gid("OrderTransaction", n), "kind": t.get("kind") or "SALE",
                    "status": t.get("status") or "SUCCESS", "gateway": t.get("gateway") or "manual",
                    "manualPaymentGateway": (t.get("gateway") or "manual") not in ("shopify_payments", "paypal"),
                    "amount": _money(t.get("amountSet")), "parent": None, "createdAt": now()})
    if not out and order["financialStatus"] == "PAID":
        n = state.next_num()
        out.append({"_num": n, "id": gid("OrderTransaction", n), "kind": "SALE", "status": "SUCCESS",
                    "gateway": "manual", "manualPaymentGateway": True, "amount": order["total"], "parent": None,
                    "createdAt": now()})
    return out


def fulfillable(state: StoreState, line: dict[str, Any]) -> int:
    """Units still to ship: ordered, minus shipped, removed by edits, and — when the store
    releases them, as bridge expects (``cancel_refunds_release_units``) — refunded with CANCEL."""
    cancelled = line.get("cancelled", 0) if state.cancel_refunds_release_units else 0
    return max(0, line["quantity"] - line.get("shipped", 0) - line.get("removed", 0) - cancelled)


def refundable(line: dict[str, Any]) -> int:
    return line["quantity"] - line.get("refunded", 0) - line.get("removed", 0)


def fulfilled(order: dict[str, Any], line: dict[str, Any]) -> int:
    return sum(line["quantity"] for f in order["fulfillments"] if f["status"] == "SUCCESS" and line["id"] in f["lineItems"])


def create_refund(state: StoreState, data: dict[str, Any]) -> tuple[dict | None, list[dict]]:
    """``refundCreate``: validate everything first (nothing is half-written), then record the
    refund, its transactions, the restocks, and send ``refunds/create``."""
    errors: list[dict] = []
    with state.lock:
        order = state.orders.get(data.get("orderId") or "")
        if order is None:
            return None, [_err(["orderId"], "Order does not exist", "NOT_FOUND")]
        if data.get("currency") and data["currency"] != order["currencyCode"]:
            errors.append(_err(["currency"], "Currency must match the order's presentment currency"))
        lines = {ln["id"]: ln for ln in order["lineItems"]}
        wanted: dict[str, int] = {}
        for i, rl in enumerate(data.get("refundLineItems") or []):
            ln = lines.get(rl.get("lineItemId"))
            path = ["refundLineItems", str(i)]
            if ln is None:
                errors.append(_err([*path, "lineItemId"], "Line item does not exist", "NOT_FOUND"))
                continue
            qty = int(rl.get("quantity") or 0)
            wanted[ln["id"]] = wanted.get(ln["id"], 0) + qty
            kind = rl.get("restockType") or "RETURN"
            if qty <= 0 or wanted[ln["id"]] > refundable(ln):
                errors.append(_err([*path, "quantity"], "Quantity cannot refund more items than were purchased",
                                   "INVALID"))
            if kind == "LEGACY_RESTOCK":
                errors.append(_err([*path, "restockType"], "LEGACY_RESTOCK is deprecated"))
            shipped = fulfilled(order, ln) - ln.get("returned", 0)
            if kind == "RETURN" and qty > shipped:
                errors.append(_err([*path, "restockType"], "Cannot return items that have not been fulfilled"))
            if kind == "CANCEL" and qty > ln["quantity"] - fulfilled(order, ln) - ln.get("removed", 0) - \
                    ln.get("cancelled", 0):
                errors.append(_err([*path, "restockType"], "Cannot cancel items that have been fulfilled"))
        shipping = _money({"shopMoney": (data.get("shipping") or {}).get("amount")}) \
            if isinstance((data.get("shipping") or {}).get("amount"), dict) else \
            Decimal(str((data.get("shipping") or {}).get("amount") or 0))
        if (data.get("shipping") or {}).get("fullRefund"):
            shipping = order["shipping"] - order.get("shippingRefunded", Decimal(0))
        if shipping > order["shipping"] - order.get("shippingRefunded", Decimal(0)):
            errors.append(_err(["shipping", "amount"], "Shipping refund amount exceeds the refundable shipping"))
        txns = {t["id"]: t for t in order.get("transactions", [])}
        money = Decimal(0)
        for i, t in enumerate(data.get("transactions") or []):
            path = ["transactions", str(i)]
            parent = txns.get(t.get("parentId") or "")
            amount = Decimal(str(t.get("amount") or 0))
            money += amount
            if t.get("kind") != "REFUND":
                errors.append(_err([*path, "kind"], "Refund transactions must be of kind REFUND"))
            if parent is None or parent["kind"] not in ("SALE", "CAPTURE") or parent["status"] != "SUCCESS":
                errors.append(_err([*path, "parentId"], "Parent transaction must be a successful sale or capture"))
                continue
            if t.get("gateway") != parent["gateway"]:
                errors.append(_err([*path, "gateway"], "Gateway must match the parent transaction's gateway"))
            if not parent["manualPaymentGateway"]:  # a real gateway would move money: not in the sandbox
                errors.append(_err([*path, "gateway"], f"The {parent['gateway']} gateway cannot refund here"))
            done = sum((x["amount"] for x in order["transactions"] if x["parent"] == parent["id"]), Decimal(0))
            if amount > parent["amount"] - done:
                errors.append(_err([*path, "amount"], f"Amount cannot exceed {parent['amount'] - done}"))
        if errors:
            return None, errors
        stamp = now()
        rn = state.next_num()
        refund = {"_num": rn, "id": gid("Refund", rn), "note": data.get("note"), "createdAt": stamp,
                  "lineItems": [], "transactions": [], "shipping": shipping}
        for rl in data.get("refundLineItems") or []:
            ln = lines[rl["lineItemId"]]
            qty, kind = int(rl["quantity"]), rl.get("restockType") or "RETURN"
            ln["refunded"] = ln.get("refunded", 0) + qty
            restocked = kind in ("RETURN", "CANCEL") and bool(ln["variant"])
            if kind == "RETURN":
                ln["returned"] = ln.get("returned", 0) + qty
            if kind == "CANCEL":
                ln["cancelled"] = ln.get("cancelled", 0) + qty
            if restocked and (kind == "RETURN" or ln["claimed"]):
                state.adjust(ln["variant"], qty)
            refund["lineItems"].append({"line": ln["id"], "quantity": qty, "restockType": kind,
                                        "restocked": restocked, "price": ln["price"]})
        for t in data.get("transactions") or []:
            n = state.next_num()
            parent = txns[t["parentId"]]
            tx = {"_num": n, "id": gid("OrderTransaction", n), "kind": "REFUND", "status": "SUCCESS",
                  "gateway": parent["gateway"], "manualPaymentGateway": parent["manualPaymentGateway"],
                  "amount": Decimal(str(t["amount"])), "parent": parent["id"], "createdAt": stamp}
            order["transactions"].append(tx)
            refund["transactions"].append(tx["id"])
        refund["total"] = money
        order.setdefault("refunds", []).append(refund)
        order["shippingRefunded"] = order.get("shippingRefunded", Decimal(0)) + shipping
        refunded = sum((r["total"] for r in order["refunds"]), Decimal(0))
        received = sum((t["amount"] for t in order["transactions"] if t["kind"] in ("SALE", "CAPTURE")
                        and t["status"] == "SUCCESS"), Decimal(0))
        if refunded:
            order["financialStatus"] = "REFUNDED" if refunded >= received else "PARTIALLY_REFUNDED"
        order["updatedAt"] = stamp
    state.emit("refunds/create", {"id": rn, "order_id": order["_num"], "note": refund["note"],
                                  "created_at": iso(stamp), "admin_graphql_api_id": refund["id"]})
    return refund, []


def remove_units(state: StoreState, order_id: str, sku: str, quantity: int) -> None:
    """The merchant edits an unfulfilled order: fewer units of a line (orderEditSetQuantity with
    restock, then orderEditCommit), the units go back to stock."""
    with state.lock:
        order = state.orders[order_id]
        ln = next(x for x in order["lineItems"] if x["sku"] == sku)
        if quantity > ln["quantity"] - fulfilled(order, ln) - ln.get("removed", 0) - ln.get("cancelled", 0):
            raise ValueError("cannot remove fulfilled units")
        ln["removed"] = ln.get("removed", 0) + quantity
        if ln["claimed"]:
            state.adjust(ln["variant"], quantity)
        order["updatedAt"] = now()
    state.emit("orders/edited", {"order_edit": {"order_id": order["_num"], "line_items": {"removals": [
        {"id": num_of(ln["id"]), "delta": quantity}]}}})

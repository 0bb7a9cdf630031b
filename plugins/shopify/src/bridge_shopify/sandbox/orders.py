"""Orders in the sandbox store: ``orderCreate``, ``orderCancel`` and the merchant's fulfilments,
with the stock claims and restocks and the webhooks a real store would send."""

from __future__ import annotations

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

"""Refunds recorded on BigCommerce orders (platform note §15): quote first
(``POST /v3/orders/{id}/payment_actions/refund_quotes``), then
``POST /v3/orders/{id}/payment_actions/refunds`` paying the quoted amount through an **offline**
option of the quote — TikTok has paid the buyer, so no money moves through a gateway; which
``provider_id`` the quote offers an API-created order is unconfirmed, so it is read from the
quote, never assumed. TikTok's own amount is imposed with ``merchant_calculated_override``.

bridge's key travels in each item's ``reason`` (no idempotency key, no free-form id on refunds):
``GET /v3/orders/{id}/payment_actions/refunds`` is matched after an unknown outcome. A refund
never restocks (§15.3): the units come back with ``POST /v3/inventory/adjustments/relative``
after the refund, its reason carrying the key. That adjustment is not idempotent: a refund found
after an interruption reports ``restocked=False`` (the core says so instead of adjusting twice).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import LineCancel, LineCancelResult, Money, RefundDraft, RefundLine, StoreRefund
from bridge.refunding import StoreLine, allocate, cancel_as_refund, carries, check_amount
from bridge_bigcommerce.catalog import location_id
from bridge_bigcommerce.client import V2_MAX_LIMIT, BigCommerceClient

PA = "orders/{oid}/payment_actions"


def _oid(order_id: str) -> str:
    if not str(order_id).isdigit():
        raise Rejected(f"'{order_id}' is not a BigCommerce order id", code="invalid_id", item=order_id)
    return str(order_id)


def _refunds(client: BigCommerceClient, oid: str) -> list[dict[str, Any]]:
    body = client.call("GET", "v3", PA.format(oid=oid) + "/refunds") or {}
    return list(body.get("data") or [])


def _store_refund(ref: dict[str, Any], oid: str, currency: str, key: str | None, existed: bool,
                  lines: dict[int, dict[str, Any]]) -> StoreRefund:
    out = []
    for it in ref.get("items") or []:
        if it.get("item_type") == "PRODUCT" and int(it.get("item_id") or 0) in lines:
            ln = lines[int(it["item_id"])]
            out.append(RefundLine(variant_id=str(ln.get("variant_id") or ln.get("product_id")), sku=ln.get("sku"),
                                  quantity=int(it.get("quantity") or 1), line_ids=[str(ln["id"])]))
    return StoreRefund(remote_id=str(ref["id"]), order_id=oid, key=key,
                       total=Money(amount=Decimal(str(ref.get("total_amount") or 0)), currency=currency),
                       lines=out, existed=existed)


def _key_of(ref: dict[str, Any], key: str) -> bool:
    return carries(ref.get("reason"), key) or any(carries(it.get("reason"), key) for it in ref.get("items") or [])


def _lines(client: BigCommerceClient, oid: str) -> dict[int, dict[str, Any]]:
    out: dict[int, dict[str, Any]] = {}
    for _, items in client.v2_pages(f"orders/{oid}/products", {"limit": V2_MAX_LIMIT}):
        out.update({int(ln["id"]): ln for ln in items})
    return out


def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    client = BigCommerceClient(connection)
    oid = _oid(order_id)
    for ref in _refunds(client, oid):
        if _key_of(ref, key):
            order = client.call("GET", "v2", f"orders/{oid}") or {}
            return _store_refund(ref, oid, str(order.get("currency_code") or "USD"), key, True, _lines(client, oid))
    return None


def _offline_option(quote: dict[str, Any], oid: str) -> dict[str, Any]:
    for method in quote.get("refund_methods") or []:
        if len(method) == 1 and method[0].get("offline"):
            return method[0]
    offered = ", ".join(o.get("provider_id", "?") for m in quote.get("refund_methods") or [] for o in m) or "none"
    raise Rejected(f"BigCommerce offers no offline refund method for order {oid} (offered: {offered}): "
                   "bridge never refunds through a payment gateway — record this refund in the control panel",
                   code="NO_OFFLINE_METHOD", item=oid)


def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    client = BigCommerceClient(connection)
    oid = _oid(refund.order_id)
    order = client.call("GET", "v2", f"orders/{oid}", missing_ok=True)
    if order is None:
        raise Rejected(f"BigCommerce order {oid} does not exist", code="ORDER_NOT_FOUND", item=oid)
    lines = _lines(client, oid)
    store_lines = [StoreLine(id=str(ln["id"]), variant_id=str(ln.get("variant_id") or "") or None,
                             product_id=str(ln.get("product_id") or "") or None, quantity=int(ln.get("quantity") or 0),
                             refunded=int(ln.get("quantity_refunded") or 0)) for ln in lines.values()]
    parts = allocate(oid, refund.lines, store_lines)
    left = Decimal(str(order.get("total_inc_tax") or 0)) - Decimal(str(order.get("refunded_amount") or 0))
    check_amount(oid, refund.total, left)
    reason = refund.note[:1000]
    items: list[dict[str, Any]] = [{"item_type": "PRODUCT", "item_id": int(p.line.id), "quantity": p.quantity,
                                    "reason": reason} for p in parts]
    if refund.shipping and refund.shipping.amount:
        addresses = client.call("GET", "v2", f"orders/{oid}/shipping_addresses") or []
        if addresses:
            items.append({"item_type": "SHIPPING", "item_id": int(addresses[0]["id"]),
                          "amount": float(refund.shipping.amount), "reason": reason})
    if not items:
        items.append({"item_type": "ORDER", "item_id": int(oid), "amount": float(refund.total.amount),
                      "reason": reason})
    quote = (client.call("POST", "v3", PA.format(oid=oid) + "/refund_quotes", json={"items": items}, item=oid)
             or {}).get("data") or {}
    option = _offline_option(quote, oid)
    amount = float(refund.total.amount)
    body = {"items": items, "payments": [{"provider_id": option["provider_id"], "amount": amount, "offline": True}],
            "merchant_calculated_override": {"total_amount": amount, "total_tax": 0}}
    made = (client.call("POST", "v3", PA.format(oid=oid) + "/refunds", json=body, item=oid) or {}).get("data") or {}
    if "id" not in made:
        raise Rejected(f"BigCommerce accepted the refund of order {oid} but returned no id", item=oid)
    restocked = False
    if refund.restock and parts:
        location = location_id(client) or 1
        client.call("POST", "v3", "inventory/adjustments/relative", item=oid, json={
            "reason": reason[:255], "items": [{"location_id": location, "variant_id": int(p.line.variant_id or 0),
                                                "quantity": p.quantity} for p in parts if p.line.variant_id]})
        restocked = True
    out = _store_refund(made, oid, str(order.get("currency_code") or refund.total.currency), refund.key, False, lines)
    return out.model_copy(update={"restocked": restocked})


def cancel_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    """A line cancelled before shipment: an offline refund of its units, stock adjusted back."""
    made = create_refund(connection, cancel_as_refund(cancel))
    return LineCancelResult(order_id=cancel.order_id, remote_id=made.remote_id)

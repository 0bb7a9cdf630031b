"""Refunds recorded on WooCommerce orders (platform note §12): ``POST /orders/{id}/refunds``
with ``api_refund: false`` (TikTok has paid the buyer: no gateway call) and an explicit
``api_restock``; bridge's key in the refund's ``meta_data`` and ``reason`` (no idempotency header
exists; after an unknown outcome ``GET /orders/{id}/refunds`` is matched client-side).

A TikTok line cancelled before shipment is recorded the same way (§12.2 option (a): the line
stays on the order, shown as refunded, its units restocked).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import LineCancel, LineCancelResult, Money, RefundDraft, RefundLine, StoreRefund
from bridge.refunding import StoreLine, allocate, cancel_as_refund, carries, check_amount
from bridge_woocommerce import mapping
from bridge_woocommerce.client import API, WooClient

KEY_META = "_bridge_refund_key"


def order_refunds(client: WooClient, order_id: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, items, _, _ in client.pages(f"/orders/{order_id}/refunds", {}, what=f"order {order_id} refunds"):
        out += items
    return out


def refunded_units(refunds: list[dict[str, Any]]) -> dict[str, int]:
    """Order line item id -> units refunded (refund line items carry ``_refunded_item_id``)."""
    out: dict[str, int] = {}
    for ref in refunds:
        for li in ref.get("line_items") or []:
            item = str(mapping.meta_value(li, "_refunded_item_id") or "")
            if item:
                out[item] = out.get(item, 0) + abs(int(li.get("quantity") or 0))
    return out


def _store_refund(ref: dict[str, Any], order_id: str, currency: str, existed: bool) -> StoreRefund:
    key = mapping.meta_value(ref, KEY_META)
    lines = [RefundLine(variant_id=str(li.get("variation_id") or li.get("product_id")), sku=li.get("sku") or None,
                        quantity=abs(int(li.get("quantity") or 0)), line_ids=[str(mapping.meta_value(
                            li, "_refunded_item_id") or "")],
                        amount=Money(amount=abs(Decimal(str(li.get("total") or 0))), currency=currency))
             for li in ref.get("line_items") or [] if int(li.get("quantity") or 0)]
    return StoreRefund(remote_id=str(ref["id"]), order_id=order_id, key=str(key) if key else None,
                       total=Money(amount=Decimal(str(ref.get("amount") or 0)), currency=currency), lines=lines,
                       existed=existed, created_at=mapping.gmt(ref.get("date_created_gmt")))


def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    client = WooClient(connection)
    order = client.get(f"/orders/{order_id}", {"_fields": "id,currency"}, what=f"order {order_id}")
    for ref in order_refunds(client, order_id):
        if str(mapping.meta_value(ref, KEY_META) or "") == key or carries(ref.get("reason"), key):
            return _store_refund(ref, order_id, order.get("currency") or "USD", existed=True)
    return None


def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    """Check lines and amount against what is left (WooCommerce checks the amount only), then
    one ``POST /orders/{id}/refunds``."""
    client = WooClient(connection)
    oid = refund.order_id
    order = client.get(f"/orders/{oid}", {"_fields": "id,status,currency,total,line_items,shipping_lines"},
                       what=f"order {oid}")
    previous = order_refunds(client, oid)
    done = refunded_units(previous)
    store_lines = [StoreLine(id=str(li["id"]), variant_id=str(li.get("variation_id") or "") or None,
                             product_id=str(li.get("product_id") or "") or None, quantity=int(li.get("quantity") or 0),
                             refunded=done.get(str(li["id"]), 0)) for li in order.get("line_items") or []]
    parts = allocate(oid, refund.lines, store_lines)
    already = sum((Decimal(str(r.get("amount") or 0)) for r in previous), Decimal(0))
    check_amount(oid, refund.total, Decimal(str(order.get("total") or 0)) - already)
    items: list[dict[str, Any]] = [{"id": int(p.line.id), "quantity": p.quantity, "refund_total": str(p.amount)}
                                   for p in parts]
    shipping_lines = order.get("shipping_lines") or []
    if refund.shipping and refund.shipping.amount and shipping_lines:
        items.append({"id": int(shipping_lines[0]["id"]), "quantity": 0, "refund_total": str(refund.shipping.amount)})
    body = {"amount": str(refund.total.amount), "reason": refund.note, "api_refund": False,
            "api_restock": refund.restock, "line_items": items,
            "meta_data": [{"key": KEY_META, "value": refund.key}]}
    try:
        ref = client.call("POST", f"{API}/orders/{oid}/refunds", json=body, what=f"refund of order {oid}")
    except Rejected as exc:
        exc.item = oid
        raise
    out = _store_refund(ref, oid, order.get("currency") or refund.total.currency, existed=False)
    return out.model_copy(update={"restocked": refund.restock})


def cancel_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    """A line cancelled before shipment: a record-only refund of its units, restocked."""
    made = create_refund(connection, cancel_as_refund(cancel))
    return LineCancelResult(order_id=cancel.order_id, remote_id=made.remote_id)

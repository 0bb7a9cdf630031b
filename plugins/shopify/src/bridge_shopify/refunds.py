"""Refunds recorded on Shopify orders (platform note §13): ``refundCreate`` with the refunded
line items (``restockType`` RETURN for units that came back, CANCEL for units never fulfilled,
NO_RESTOCK otherwise), the shipping refunded, and one REFUND transaction on the order's
**manual** gateway, parented to its successful SALE — TikTok has paid the buyer, so Shopify only
records it; an order whose payment sits on a real gateway is refused rather than refunded
through it. ``notify: false``.

2025-01 has no idempotency key on ``refundCreate`` and refunds have no metafields: bridge's key
goes into the refund's ``note``, and after an unknown outcome the order's ``refunds`` are read
and matched on it (§13.4).

A TikTok line cancelled before fulfilment is also a ``refundCreate`` (restock CANCEL), not an
order edit: one call takes the units off the order (``currentQuantity``) and records TikTok's
refund, and it is found again by its note — an edit's staff note cannot be read back (Order has
no such field in the 2025-01 schema).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import LineCancel, LineCancelResult, Money, RefundDraft, RefundLine, StoreRefund
from bridge.refunding import StoreLine, allocate, cancel_as_refund, carries, check_amount
from bridge_shopify import queries
from bridge_shopify.catalog import chosen_locations
from bridge_shopify.client import ShopifyClient
from bridge_shopify.mapping import parse_time


def _amount(bag: dict[str, Any] | None) -> Decimal:
    return Decimal(str(((bag or {}).get("shopMoney") or {}).get("amount") or 0))


def _state(client: ShopifyClient, order_id: str) -> dict[str, Any]:
    order = client.execute("RefundState", queries.REFUND_STATE, {"id": order_id}).get("order")
    if order is None:
        raise Rejected(f"shopify: order {order_id} does not exist", code="ORDER_NOT_FOUND", item=order_id)
    return order


def _store_refund(ref: dict[str, Any], order: dict[str, Any], key: str | None, existed: bool) -> StoreRefund:
    lines = [RefundLine(variant_id=((n.get("lineItem") or {}).get("variant") or {}).get("id"),
                        quantity=int(n["quantity"]), line_ids=[(n.get("lineItem") or {}).get("id", "")])
             for n in (ref.get("refundLineItems") or {}).get("nodes") or [] if int(n.get("quantity") or 0) > 0]
    return StoreRefund(remote_id=ref["id"], order_id=order["id"], key=key,
                       total=Money(amount=_amount(ref.get("totalRefundedSet")), currency=order["currencyCode"]),
                       lines=lines, restocked=any(n.get("restocked") for n in (ref.get("refundLineItems") or {})
                                                  .get("nodes") or []),
                       existed=existed, created_at=parse_time(ref.get("createdAt")))


def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    client = ShopifyClient(connection)
    order = _state(client, order_id)
    for ref in order.get("refunds") or []:
        if carries(ref.get("note"), key):
            return _store_refund(ref, order, key, True)
    return None


def _sale(order: dict[str, Any], oid: str) -> dict[str, Any]:
    for t in order.get("transactions") or []:
        if t.get("kind") in ("SALE", "CAPTURE") and t.get("status") == "SUCCESS" and t.get("manualPaymentGateway"):
            return t
    raise Rejected(f"shopify: order {oid} has no payment on a manual gateway: bridge never refunds through a "
                   "payment gateway — record TikTok's refund in Shopify admin", code="NO_MANUAL_PAYMENT", item=oid)


def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    client = ShopifyClient(connection)
    return _create(client, refund, _state(client, refund.order_id))


def _create(client: ShopifyClient, refund: RefundDraft, order: dict[str, Any]) -> StoreRefund:
    """``refundCreate`` of ``refund`` on ``order`` (its RefundState, read just before)."""
    oid = refund.order_id
    if order.get("cancelledAt"):
        raise Rejected(f"shopify: order {oid} is cancelled: nothing is left to refund", code="ORDER_CANCELLED",
                       item=oid)
    nodes = (order.get("lineItems") or {}).get("nodes") or []
    store_lines = [StoreLine(id=n["id"], variant_id=(n.get("variant") or {}).get("id"),
                             product_id=(n.get("product") or {}).get("id"), quantity=int(n["quantity"]),
                             refunded=int(n["quantity"]) - int(n.get("refundableQuantity") or 0)) for n in nodes]
    parts = allocate(oid, refund.lines, store_lines)
    left = _amount(order.get("totalPriceSet")) - _amount(order.get("totalRefundedSet"))
    check_amount(oid, refund.total, left)
    sale = _sale(order, oid)
    restock = "CANCEL" if refund.cancel else "RETURN"
    location = sorted(chosen_locations(client))[0] if refund.restock else None
    items = []
    for p in parts:
        item: dict[str, Any] = {"lineItemId": p.line.id, "quantity": p.quantity,
                                "restockType": restock if refund.restock else "NO_RESTOCK"}
        if location:
            item["locationId"] = location
        items.append(item)
    data: dict[str, Any] = {
        "orderId": oid, "note": refund.note, "notify": False, "currency": order["currencyCode"],
        "refundLineItems": items,
        "transactions": [{"orderId": oid, "parentId": sale["id"], "gateway": sale["gateway"], "kind": "REFUND",
                          "amount": str(refund.total.amount)}],
    }
    if refund.shipping and refund.shipping.amount:
        data["shipping"] = {"amount": str(refund.shipping.amount)}
    payload = client.mutate("RefundCreate", queries.REFUND_CREATE, {"input": data}, "refundCreate", item=oid)
    made = payload.get("refund")
    if not made:
        raise Rejected(f"shopify: no refund was created on order {oid}", code="NO_REFUND", item=oid)
    out = _store_refund(made, order, refund.key, False)
    lines = [RefundLine(variant_id=p.line.variant_id, quantity=p.quantity, line_ids=[p.line.id]) for p in parts]
    return out.model_copy(update={"lines": lines, "restocked": refund.restock and bool(parts)})


def cancel_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    """A TikTok line cancelled before fulfilment: ``refundCreate`` with restock CANCEL.

    Whether such a refund also takes the units off what is left to ship is unconfirmed (platform
    note §13.2): the lines' ``fulfillableQuantity`` is read before and after, and a result whose
    units are still to ship says so (``status="still_fulfillable"``: the core warns the merchant
    to take them off before the order is packed)."""
    client = ShopifyClient(connection)
    order = _state(client, cancel.order_id)  # one read: the refund's checks and "before"
    before = _fulfillable(order)
    made = _create(client, cancel_as_refund(cancel), order)
    after = _fulfillable(_state(client, cancel.order_id))
    cancelled: dict[str, int] = {}
    for ln in made.lines:
        for line_id in ln.line_ids:
            cancelled[line_id] = cancelled.get(line_id, 0) + ln.quantity
    still = any(after.get(i, 0) > before.get(i, 0) - n for i, n in cancelled.items())
    return LineCancelResult(order_id=cancel.order_id, remote_id=made.remote_id,
                            status="still_fulfillable" if still else "done")


def _fulfillable(order: dict[str, Any]) -> dict[str, int]:
    return {n["id"]: int(n.get("fulfillableQuantity") or 0) for n in (order.get("lineItems") or {}).get("nodes") or []}

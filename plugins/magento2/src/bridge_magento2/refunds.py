"""Offline refunds on Magento orders: credit memos by ``POST /V1/order/{id}/refund`` (platform
note §14.1) — the order endpoint, since TikTok orders carry an offline payment method, so no
money moves through a gateway.

A credit memo refunds invoiced units, and the orders bridge creates through ``POST /V1/orders``
are not invoiced: the first refund of such an order invoices it (``POST /V1/order/{id}/invoice``,
``capture: false`` — TikTok has collected the money, §8.5). bridge's key goes into the memo's
comment (``is_visible_on_front: 0``); no idempotency key or external id exists, so after an
unknown outcome ``GET /V1/creditmemos`` (filtered on the order) is matched on the comments.
``arguments.adjustment_positive``/``adjustment_negative`` make the memo's grand total equal
TikTok's refund. ``return_to_stock_items`` names only items that were shipped: an order created
through the repository never took its units from a source, so there is nothing to put back for
units not shipped (asking would make them salable twice).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import LineCancel, LineCancelResult, Money, RefundDraft, RefundLine, StoreRefund
from bridge.refunding import StoreLine, allocate, cancel_as_refund, carries, check_amount
from bridge_magento2.client import MagentoClient
from bridge_magento2.search import MAX_PAGE_SIZE, Criteria


def _f(v: Any) -> Decimal:
    return Decimal(str(v or 0))


def _order(client: MagentoClient, order_id: str) -> dict[str, Any]:
    raw = client.get(f"orders/{int(order_id)}", missing_ok=True) if str(order_id).isdigit() else None
    if raw is None:
        raise Rejected(f"Magento has no order {order_id}", code="ORDER_NOT_FOUND", item=order_id)
    return raw


def _memos(client: MagentoClient, order_id: str) -> list[dict[str, Any]]:
    criteria = Criteria(page_size=MAX_PAGE_SIZE).where("order_id", str(int(order_id)), "eq")
    return list(client.search_all("creditmemos", criteria))


def _store_refund(memo: dict[str, Any], order: dict[str, Any], key: str | None, existed: bool) -> StoreRefund:
    currency = str(order.get("order_currency_code") or "USD")
    items = {int(i["item_id"]): i for i in order.get("items") or []}
    lines = [RefundLine(variant_id=str(items[int(i["order_item_id"])].get("product_id")), sku=i.get("sku"),
                        quantity=int(_f(i.get("qty"))), line_ids=[str(i["order_item_id"])])
             for i in memo.get("items") or [] if _f(i.get("qty")) > 0 and int(i["order_item_id"]) in items]
    return StoreRefund(remote_id=str(memo["entity_id"]), order_id=str(order["entity_id"]), key=key,
                       total=Money(amount=_f(memo.get("grand_total")), currency=currency), lines=lines, existed=existed)


def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    client = MagentoClient(connection)
    order = _order(client, order_id)
    for memo in _memos(client, order_id):
        comments = memo.get("comments")
        if comments is None:
            comments = client.get(f"creditmemo/{int(memo['entity_id'])}/comments").get("items") or []
        if any(carries(c.get("comment"), key) for c in comments):
            return _store_refund(memo, order, key, True)
    return None


def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    client = MagentoClient(connection)
    oid = refund.order_id
    order = _order(client, oid)
    if order.get("state") in ("canceled", "closed"):
        raise Rejected(f"Magento order {order.get('increment_id') or oid} is {order.get('state')}: nothing is left "
                       "to refund", code="ORDER_CLOSED", item=oid)
    items = [i for i in order.get("items") or [] if not i.get("parent_item_id")]
    store_lines = [StoreLine(id=str(i["item_id"]), variant_id=str(i.get("product_id") or "") or None, product_id=None,
                             quantity=int(_f(i.get("qty_ordered"))),
                             refunded=int(_f(i.get("qty_refunded")) + _f(i.get("qty_canceled")))) for i in items]
    parts = allocate(oid, refund.lines, store_lines)
    paid = _f(order.get("total_paid")) or _f(order.get("grand_total"))
    check_amount(oid, refund.total, paid - _f(order.get("total_refunded")))
    if not _f(order.get("total_paid")):
        client.post(f"order/{int(oid)}/invoice", {"capture": False, "notify": False}, item=oid)
    by_id = {str(i["item_id"]): i for i in items}
    subtotal = sum((_f(by_id[p.line.id].get("price_incl_tax") or by_id[p.line.id].get("price")) * p.quantity
                    for p in parts), Decimal(0))
    shipping = refund.shipping.amount if refund.shipping else Decimal(0)
    diff = refund.total.amount - subtotal - shipping
    restock = [int(p.line.id) for p in parts if refund.restock and _f(by_id[p.line.id].get("qty_shipped")) > 0]
    arguments: dict[str, Any] = {"shipping_amount": float(shipping),
                                 "adjustment_positive": float(max(diff, Decimal(0))),
                                 "adjustment_negative": float(max(-diff, Decimal(0)))}
    if restock:
        arguments["extension_attributes"] = {"return_to_stock_items": restock}
    body = {"items": [{"order_item_id": int(p.line.id), "qty": p.quantity} for p in parts], "notify": False,
            "appendComment": True, "comment": {"comment": refund.note, "is_visible_on_front": 0},
            "arguments": arguments}
    memo_id = client.post(f"order/{int(oid)}/refund", body, item=oid)
    lines = [RefundLine(variant_id=p.line.variant_id, quantity=p.quantity, line_ids=[p.line.id]) for p in parts]
    return StoreRefund(remote_id=str(memo_id), order_id=oid, key=refund.key, total=refund.total, lines=lines,
                       restocked=bool(restock))


def cancel_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    """A line cancelled before shipment (core REST has no line cancel, §14.3): an offline credit
    memo of its units."""
    made = create_refund(connection, cancel_as_refund(cancel))
    return LineCancelResult(order_id=cancel.order_id, remote_id=made.remote_id)

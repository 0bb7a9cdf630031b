"""A merchant's retry of one order (the admin pages' Retry): the order's flows run for it now."""

from __future__ import annotations

from bridge import db, scheduler
from bridge.statuses import OrderStatus
from bridge.tables import OrderLink, Store

#: Statuses a retry puts back to pending (the orders flow then tries the order again).
RETRYABLE: tuple[str, ...] = (OrderStatus.HELD, OrderStatus.PENDING, "failed")
#: The flows that act on one TikTok order, queued for it by a retry.
FLOWS = ("orders", "tracking", "refunds")


def retry(link_id: int, shop: Store) -> str:
    """Queue the orders, tracking and refunds flows of ``shop`` for this order, due now; a held
    order goes back to pending first. Returns the order's status after the retry was asked."""
    with db.session() as s:
        row = s.get(OrderLink, link_id)
        if row is None or row.channel_store_id != shop.id:
            raise ValueError(f"order link {link_id} is not an order of store {shop.id}")
        if row.status in RETRYABLE:
            row.status = OrderStatus.PENDING
            s.add(row)
        status, order_id = row.status, row.channel_order_id
    for flow in FLOWS:
        scheduler.trigger(flow, shop.org_id, shop.id, [order_id])
    return status

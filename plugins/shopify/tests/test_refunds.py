"""Refunds on Shopify against the sandbox: a TikTok line cancellation is a restock-CANCEL
refund on the manual gateway; if the store still lists the units to ship, the result says so."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.errors import Rejected
from bridge.models import Address, LineCancel, Money, OrderDraft, OrderLine, RefundDraft, RefundLine
from bridge_shopify import orders, refunds


def _order(served, conn, source_id: str) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    state = served.sandbox.state
    vid = list(state.variants)[1]
    sku = state.variants[vid]["sku"]
    served.sandbox.set_quantity(sku, 10)
    d = OrderDraft(source="TikTok Shop", source_order_id=source_id, currency="GBP",
                   lines=[OrderLine(remote_id="L1", variant_id=vid, sku=sku, quantity=3,
                                    unit_price=Money(amount="10.00", currency="GBP"))],
                   shipping_address=Address(name="Ada L", line1="1 St", city="London", postal_code="N1",
                                            country_code="GB"),
                   shipping=Money(amount="2.00", currency="GBP"), total=Money(amount="32.00", currency="GBP"))
    return orders.create_order(conn, d).remote_id, vid, sku


def _cancel(order_id: str, vid: str, key: str) -> LineCancel:
    return LineCancel(order_id=order_id, key=key, reason=f"TikTok cancellation ({key})",
                      lines=[RefundLine(variant_id=vid, quantity=1, amount=Money(amount=Decimal("10"), currency="GBP"))])


def test_line_cancellation_is_a_cancel_refund_on_the_manual_gateway(served, conn) -> None:
    order_id, vid, sku = _order(served, conn, "576500000000001")
    res = refunds.cancel_lines(conn, _cancel(order_id, vid, "tiktok-cancel-1"))
    assert res.status == "done" and res.remote_id
    order = served.sandbox.state.orders[order_id]
    [refund] = order["refunds"]
    assert refund["lineItems"][0]["restockType"] == "CANCEL" and refund["total"] == Decimal("10")
    assert [(t["kind"], t["gateway"]) for t in order["transactions"]] == [("SALE", "manual"), ("REFUND", "manual")]
    assert served.sandbox.quantity(sku) == 8  # 10 - 3 ordered + 1 cancelled
    assert refunds.find_refund(conn, order_id, "tiktok-cancel-1").remote_id == res.remote_id
    # the same units again: more than is left is refused before anything is sent
    with pytest.raises(Rejected):
        refunds.create_refund(conn, RefundDraft(order_id=order_id, key="k", note="k", total=Money(
            amount=Decimal("30"), currency="GBP"), lines=[RefundLine(variant_id=vid, quantity=3)]))


def test_units_still_to_ship_after_a_cancel_refund_are_reported(served, conn) -> None:
    order_id, vid, _ = _order(served, conn, "576500000000002")
    served.sandbox.state.cancel_refunds_release_units = False
    try:
        res = refunds.cancel_lines(conn, _cancel(order_id, vid, "tiktok-cancel-2"))
    finally:
        served.sandbox.state.cancel_refunds_release_units = True
    assert res.status == "still_fulfillable"


def test_units_the_merchant_takes_off_are_read_as_cancelled(served, conn) -> None:
    order_id, _, sku = _order(served, conn, "576500000000003")
    served.sandbox.cancel_line(order_id, sku, 1)
    [got] = orders.get_orders(conn, [order_id])
    assert [ln.cancelled_quantity for ln in got.lines] == [1]

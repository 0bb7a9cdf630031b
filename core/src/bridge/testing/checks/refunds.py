"""Refunds and line cancellations: eCommerce refunds recorded with bridge's key and found by it,
refused whole when more is asked than is left, units cancelled before fulfilment read back;
channel returns and cancellations read with their lines and amounts."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from bridge.errors import Rejected
from bridge.models import LineCancel, Money, RefundDraft, RefundLine
from bridge.testing.checks import check
from bridge.testing.checks.orders import create, held_order
from bridge.testing.harness import Harness

_keys = itertools.count(1)


def _key(tag: str) -> str:
    return f"kit-{tag.lower()}-{next(_keys)}"


def _refunds(h: Harness, order_id: str) -> list[dict[str, Any]]:
    return list(h.sb("refunds")(order_id))


def _draft(order_id: str, variant_id: str, quantity: int, unit: Money, key: str, *, restock: bool = False,
           cancel: bool = False) -> RefundDraft:
    amount = Money(amount=unit.amount * quantity, currency=unit.currency)
    return RefundDraft(order_id=order_id, key=key, note=f"Kit Channel refund ({key})", restock=restock, cancel=cancel,
                       lines=[RefundLine(variant_id=variant_id, quantity=quantity, amount=amount)], total=amount)


@check("refunds", "ecommerce")
def check_refund_is_recorded_and_found_by_its_key(h: Harness) -> None:
    """A refund of one returned unit of a fulfilled order: recorded with its amount, restocked,
    found by bridge's key (and not by another key)."""
    h.need("create_order", "create_refund", "find_refund")
    from bridge.models import Tracking

    order_id, d = create(h, "REFUND")
    line = d.lines[0]
    h.sb("fulfill_order")(order_id, Tracking(number="KIT0000001", carrier="Royal Mail"))
    quantity = h.sb("quantity")
    before = quantity(line.sku) if line.sku else None
    key = _key("refund")
    with h.connected() as conn:
        made = h.call("create_refund", connection=conn,
                      refund=_draft(order_id, line.variant_id or "", 1, line.unit_price, key, restock=True))
        found = h.call("find_refund", connection=conn, order_id=order_id, key=key)
        other = h.call("find_refund", connection=conn, order_id=order_id, key=_key("other"))
    held = _refunds(h, order_id)
    assert len(held) == 1, f"the sandbox holds {len(held)} refunds on the order, not 1"
    assert held[0]["lines"] == {line.sku: 1}, f"the refund is of {held[0]['lines']}, not 1 x {line.sku}"
    assert Decimal(held[0]["amount"]) == line.unit_price.amount, (
        f"the refund is of {held[0]['amount']}, the channel refunded {line.unit_price.amount}")
    assert found is not None and found.remote_id == made.remote_id, (
        "find_refund must find the refund by the key create_refund stored with it")
    assert other is None, "find_refund found a refund for a key nobody stored"
    if before is not None:
        after = quantity(line.sku)
        assert after == before + 1, f"a restocked return of 1 must put 1 back: stock went {before} -> {after}"


@check("refunds", "ecommerce")
def check_refund_of_more_than_is_left_is_refused_whole(h: Harness) -> None:
    """More units than the order has, or more money than it is worth: Rejected, nothing written."""
    h.need("create_order", "create_refund")
    order_id, d = create(h, "OVER")
    line = d.lines[0]
    with h.connected() as conn:
        for draft in (_draft(order_id, line.variant_id or "", line.quantity + 1, line.unit_price, _key("units")),
                      RefundDraft(order_id=order_id, key=_key("money"), note="Kit Channel refund",
                                  lines=[RefundLine(variant_id=line.variant_id, quantity=1, amount=line.unit_price)],
                                  total=Money(amount=d.total.amount + 100, currency=d.currency))):
            try:
                h.call("create_refund", connection=conn, refund=draft)
            except Rejected:
                pass
            else:
                raise AssertionError(f"create_refund accepted {draft.lines[0].quantity} unit(s) for "
                                     f"{draft.total} on an order of {line.quantity} for {d.total}")
    assert _refunds(h, order_id) == [], "a refused refund left something written at the store"


@check("refunds", "ecommerce")
def check_cancelled_lines_are_taken_off_and_read_back(h: Harness) -> None:
    """cancel_order_lines takes a unit off an unfulfilled order; get_orders then reports it as a
    cancelled unit, and so does a unit the merchant takes off."""
    h.need("create_order", "cancel_order_lines", "get_orders")
    order_id, d = create(h, "LINES")
    line = d.lines[0]
    with h.connected() as conn:
        h.call("cancel_order_lines", connection=conn, cancel=LineCancel(
            order_id=order_id, key=_key("cancel"), reason="Kit Channel cancellation",
            lines=[RefundLine(variant_id=line.variant_id, quantity=1, amount=line.unit_price)],
            total=line.unit_price))
        got = h.call("get_orders", connection=conn, order_ids=[order_id])
    cancelled = sum(ln.cancelled_quantity for o in got for ln in o.lines)
    assert cancelled == 1, f"after one unit was cancelled, get_orders reports {cancelled} cancelled"
    assert held_order(h, order_id).status != "cancelled", "cancelling one line cancelled the whole order"
    h.sb("cancel_line")(order_id, line.sku, 1)
    with h.connected() as conn:
        got = h.call("get_orders", connection=conn, order_ids=[order_id])
    cancelled = sum(ln.cancelled_quantity for o in got for ln in o.lines)
    assert cancelled == 2, f"after the merchant took another unit off, get_orders reports {cancelled} cancelled"


@check("refunds", "channel")
def check_returns_and_cancellations_are_read_with_lines_and_amounts(h: Harness) -> None:
    """A completed refund and a line cancellation: get_refunds and list_refunds give both, with
    their units, amounts and whether the order goes on."""
    h.need("get_refunds", "list_refunds")
    shop = h.sb("shops")()[0]["id"]
    products = h.sb("products")(shop)
    if not products:
        h.sb("seed_catalog")(2, 1)
        products = h.sb("products")(shop)
    sku = products[0]["skus"][0]["seller_sku"]
    order = h.sb("create_order")(shop, [(sku, 3)])
    rid = h.sb("create_return")(order, [(sku, 1)], status="RETURN_OR_REFUND_REQUEST_COMPLETE")
    cid = h.sb("cancel_lines")(order, [(sku, 1)])
    with h.connected() as conn:
        got = {(r.kind, r.remote_id): r for r in h.call("get_refunds", connection=conn, order_ids=[order])}
        listed = {(r.kind, r.remote_id) for page in h.stream("list_refunds", connection=conn, cursor=None)
                  for r in page.refunds}
    assert {("return", rid), ("cancel", cid)} <= set(got), f"get_refunds answered {sorted(got)}"
    assert {("return", rid), ("cancel", cid)} <= listed, "list_refunds misses the new return or cancellation"
    r, c = got[("return", rid)], got[("cancel", cid)]
    assert r.status == "completed" and [ln.quantity for ln in r.lines] == [1], f"the return reads {r}"
    assert r.total.amount > 0, "the return's total refunded must be read"
    assert c.status == "completed" and [ln.quantity for ln in c.lines] == [1] and not c.whole_order, (
        f"the line cancellation reads {c}")

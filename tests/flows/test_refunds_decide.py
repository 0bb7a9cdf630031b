"""The refunds flow's decisions, pure: what each TikTok record and each store cancellation leads
to, with the restock setting and what bridge remembers."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from bridge.errors import Misconfigured
from bridge.models import ChannelRefund, Money, Order, OrderLine, RefundLine
from bridge.sync.refunds.verdicts import (
    CancelLines,
    CancelOnChannel,
    Close,
    Hold,
    Memory,
    Refund,
    Wait,
    decide_channel,
    decide_store,
    restock_setting,
)
from bridge.tables import OrderLink, SkuLink


def gbp(x: str) -> Money:
    return Money(amount=Decimal(x), currency="GBP")


def record(kind: str = "return", status: str = "completed", **kw) -> ChannelRefund:  # type: ignore[no-untyped-def]
    base = dict(remote_id="R1", kind=kind, order_id="T1", status=status, raw_status=status.upper(),
                currency="GBP", total=gbp("12.99"), return_type="refund_only" if kind == "return" else "cancel",
                lines=[RefundLine(variant_id="TTSKU1", sku="S-1", quantity=1, amount=gbp("10.00"))],
                shipping=gbp("2.99"))
    return ChannelRefund(**{**base, **kw})


def memory(link_status: str = "created") -> Memory:
    link = OrderLink(channel_store_id=1, channel_order_id="T1", ecommerce_order_id="E1", status=link_status)
    sku = SkuLink(channel_store_id=1, source_product_id="P1", source_variant_id="V1", seller_sku="S-1",
                  remote_sku_id="TTSKU1")
    return Memory(link, {"TTSKU1": sku, "S-1": sku})


@pytest.mark.parametrize(("status", "verdict"), [("requested", Wait), ("approved", Wait), ("rejected", Close),
                                                 ("closed", Close), ("other", Hold)])
def test_only_a_completed_refund_is_written(status: str, verdict: type) -> None:
    assert isinstance(decide_channel(record(status=status), memory(), "returned"), verdict)


def test_a_completed_refund_becomes_a_store_refund_with_tiktoks_amounts() -> None:
    v = decide_channel(record(), memory(), "returned")
    assert isinstance(v, Refund)
    d = v.draft
    assert d.order_id == "E1" and d.key == "tiktok-return-R1" and d.key in d.note
    assert d.total == gbp("12.99") and d.shipping == gbp("2.99")
    assert [(ln.variant_id, ln.quantity, ln.amount) for ln in d.lines] == [("V1", 1, gbp("10.00"))]
    assert d.restock is False and v.units == {"V1": 1}  # nothing came back


@pytest.mark.parametrize(("setting", "returned", "restock"), [
    ("returned", True, True), ("returned", False, False), ("always", False, True), ("never", True, False)])
def test_restock_follows_the_setting(setting: str, returned: bool, restock: bool) -> None:
    v = decide_channel(record(return_type="return_and_refund", item_returned=returned), memory(), setting)
    assert isinstance(v, Refund) and v.draft.restock is restock


def test_a_line_cancellation_changes_the_store_order_and_restocks_unless_never() -> None:
    v = decide_channel(record(kind="cancel"), memory(), "returned")
    assert isinstance(v, CancelLines) and v.cancel.restock and v.cancel.order_id == "E1"
    never = decide_channel(record(kind="cancel"), memory(), "never")
    assert isinstance(never, CancelLines) and not never.cancel.restock
    whole = decide_channel(record(kind="cancel", whole_order=True), memory(), "returned")
    assert isinstance(whole, Close) and whole.status == "skipped"


def test_what_cannot_be_applied_is_held_with_the_reason() -> None:
    none = decide_channel(record(), Memory(None), "returned")
    assert isinstance(none, Hold) and none.code == "ORDER_NOT_FOUND"
    mem = memory("held")
    assert mem.link is not None
    mem.link.ecommerce_order_id = None  # the order is held: not in the store
    held = decide_channel(record(), mem, "returned")
    assert isinstance(held, Hold) and held.code == "ORDER_NOT_FOUND"
    unknown = decide_channel(record(lines=[RefundLine(variant_id="NOPE", sku="X", quantity=1)]), memory(), "returned")
    assert isinstance(unknown, Hold) and unknown.code == "UNMATCHED_LINE" and "X" in unknown.why
    assert isinstance(decide_channel(record(), memory("cancelled"), "returned"), Close)


def test_the_restock_setting_is_checked() -> None:
    assert restock_setting(None) == "returned"
    with pytest.raises(Misconfigured, match="refunds.restock"):
        restock_setting({"refunds": {"restock": "sometimes"}})


def test_store_cancellations_beyond_bridges_own_go_to_the_channel() -> None:
    link = OrderLink(channel_store_id=1, channel_order_id="T1", ecommerce_order_id="E1")
    sku = SkuLink(channel_store_id=1, source_product_id="P1", source_variant_id="V1", seller_sku="S-1",
                  remote_sku_id="TTSKU1")
    order = Order(remote_id="E1", status="processing", currency="GBP", lines=[
        OrderLine(remote_id="L1", variant_id="V1", quantity=3, unit_price=gbp("5"), cancelled_quantity=2),
        OrderLine(remote_id="L2", variant_id="V2", quantity=1, unit_price=gbp("5"), cancelled_quantity=1)])
    out = decide_store(link, order, Counter({"V1": 1}), Counter(), {"V1": sku})
    go = [a for a in out if isinstance(a, CancelOnChannel)]
    assert [(a.channel_sku_id, a.quantity, a.key) for a in go] == [("TTSKU1", 1, "store-cancel-E1-V1-1")]
    assert [a.code for a in out if isinstance(a, Hold)] == ["UNMATCHED_LINE"]  # V2 has no TikTok SKU
    # once pushed, nothing more; a further unit cancelled gets its own key
    assert decide_store(link, order, Counter({"V1": 1}), Counter({"V1": 1}), {"V1": sku})[:-1] == []
    order.lines[0].cancelled_quantity = 3
    again = [a for a in decide_store(link, order, Counter({"V1": 1}), Counter({"V1": 1}), {"V1": sku})
             if isinstance(a, CancelOnChannel)]
    assert [(a.quantity, a.key) for a in again] == [(1, "store-cancel-E1-V1-2")]

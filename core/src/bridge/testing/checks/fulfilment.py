"""Fulfilments read from the eCommerce store: tracking number, carrier and URL as the merchant
entered them."""

from __future__ import annotations

import re

from bridge.models import Tracking
from bridge.testing.checks import check
from bridge.testing.checks.orders import create
from bridge.testing.harness import Harness


def _plain(name: str) -> str:
    """A carrier name as carriers are matched: letters and digits, case-folded."""
    return re.sub(r"[^0-9a-z]", "", name.casefold())


@check("fulfilment", "ecommerce")
def check_fulfilment_carries_tracking_and_carrier(h: Harness) -> None:
    """list_fulfillments gives each tracking number once, with its carrier."""
    h.need("list_fulfillments")
    order_id, _ = create(h, "SHIP")
    h.sb("fulfill_order")(order_id, Tracking(number="KITTRACK0001", carrier="Royal Mail",
                                             url="https://track.example/KITTRACK0001"))
    with h.connected() as conn:
        fulfilments = h.call("list_fulfillments", connection=conn, order_ids=[order_id])
    tracking = [t for f in fulfilments for t in f.tracking]
    assert [t.number for t in tracking] == ["KITTRACK0001"], f"tracking numbers read: {[t.number for t in tracking]}"
    assert all(f.order_id == order_id for f in fulfilments), "a fulfilment names another order"
    assert _plain(tracking[0].carrier) == "royalmail", (
        f"the fulfilment's carrier reads {tracking[0].carrier!r}, the merchant entered 'Royal Mail'")


@check("fulfilment", "ecommerce")
def check_fulfilments_of_an_unshipped_order_are_none(h: Harness) -> None:
    """An order not fulfilled has no tracking."""
    h.need("list_fulfillments")
    order_id, _ = create(h, "NOSHIP")
    with h.connected() as conn:
        fulfilments = h.call("list_fulfillments", connection=conn, order_ids=[order_id])
    assert not [t for f in fulfilments for t in f.tracking], "an unshipped order has tracking"

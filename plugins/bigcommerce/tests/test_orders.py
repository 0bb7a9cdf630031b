"""Orders and shipments against the sandbox: create (idempotent), read, list, cancel, tracking."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.errors import Rejected
from bridge.models import Money, Tracking
from bridge_bigcommerce import orders


def test_create_order_with_the_channel_prices_and_ids(sandbox, conn, make_draft):
    stock_before = sandbox.quantity("SBX-7-00001-2")
    created = orders.create(conn, make_draft(total="40.99"))
    assert not created.existed
    raw = sandbox.state.orders[int(created.remote_id)]
    assert raw["external_order_id"] == "576000000000000001"
    assert raw["external_source"] == "Marketplace (TikTok Shop)"
    assert raw["status_id"] == 11 and raw["customer_id"] == 0
    assert raw["total_inc_tax"] == "40.9900" and raw["shipping_cost_inc_tax"] == "4.9900"
    assert raw["billing_address"]["country"] == "United Kingdom"
    line = sandbox.state.order_lines[int(created.remote_id)][0]
    assert (line["variant_id"], line["quantity"], line["price_inc_tax"]) == (1001, 2, "19.0000")
    assert sandbox.quantity("SBX-7-00001-2") == stock_before - 2
    address = sandbox.state.order_addresses[int(created.remote_id)][0]
    assert (address["zip"], address["street_1"], address["first_name"]) == ("SW1A 1AA", "1 Test Street", "Jane")


def test_create_order_is_idempotent_by_external_order_id(sandbox, conn, make_draft):
    first = orders.create(conn, make_draft("A-1"))
    second = orders.create(conn, make_draft("A-1"))
    assert second.existed and second.remote_id == first.remote_id
    assert len(sandbox.state.orders) == 1
    assert orders.find_id(conn, "A-1") == first.remote_id
    assert orders.find_id(conn, "A-2") is None
    assert sandbox.stats.by_route["POST /v2/orders"] == 1


def test_discount_when_the_channel_charged_less(sandbox, conn, make_draft):
    created = orders.create(conn, make_draft("D-1", total="35.99"))
    raw = sandbox.state.orders[int(created.remote_id)]
    assert raw["discount_amount"] == "7.0000"  # 2 x 19.00 + 4.99 - 35.99 and raw["total_inc_tax"] == "35.9900"


def test_unknown_variant_is_rejected_with_the_platform_message(sandbox, conn, make_draft):
    with pytest.raises(Rejected) as err:
        orders.create(conn, make_draft("R-1", variant="999999"))
    assert err.value.code == "400"
    assert "999999" in err.value.message


def test_get_orders_maps_lines_status_and_source(sandbox, conn, make_draft):
    created = orders.create(conn, make_draft("G-1"))
    (order,) = orders.read(conn, [created.remote_id, "999999"])
    assert order.status == "awaiting_shipment"
    assert order.source_order_id == "G-1"
    assert order.total == Money(amount=Decimal("40.99"), currency="GBP")
    assert [(ln.variant_id, ln.quantity) for ln in order.lines] == [("1001", 2)]
    assert order.shipping_address.postal_code == "SW1A 1AA"
    assert order.created_at is not None and order.created_at.tzinfo is not None


def test_list_orders_streams_bridge_orders_and_is_incremental(sandbox, conn, make_draft):
    a = orders.create(conn, make_draft("L-1"))
    pages = list(orders.stream(conn, None))
    assert [o.remote_id for p in pages for o in p.orders] == [a.remote_id]
    cursor = pages[-1].cursor
    sandbox.cancel_order(a.remote_id)
    again = [o for p in orders.stream(conn, cursor) for o in p.orders]
    assert [(o.remote_id, o.status) for o in again] == [(a.remote_id, "cancelled")]


def test_cancel_is_idempotent_and_restocks(sandbox, conn, make_draft):
    before = sandbox.quantity("SBX-7-00001-2")
    created = orders.create(conn, make_draft("C-1"))
    assert orders.cancel(conn, created.remote_id, "buyer cancelled") is True
    assert orders.cancel(conn, created.remote_id, "buyer cancelled") is False
    assert sandbox.state.orders[int(created.remote_id)]["status_id"] == 5
    notes = sandbox.state.orders[int(created.remote_id)]["staff_notes"]
    assert notes.endswith("Cancelled by bridge: buyer cancelled")
    assert sandbox.quantity("SBX-7-00001-2") == before
    assert sandbox.stats.by_route["PUT /v2/orders/{order_id:int}"] == 1


def test_a_shipped_order_cannot_be_cancelled(sandbox, conn, make_draft):
    created = orders.create(conn, make_draft("S-1"))
    sandbox.fulfill_order(created.remote_id, Tracking(number="RM123", carrier="Royal Mail"))
    with pytest.raises(Rejected) as err:
        orders.cancel(conn, created.remote_id, "late")
    assert err.value.code == "shipped"
    with pytest.raises(Rejected):
        orders.cancel(conn, "999999", "gone")


def test_fulfillments_carry_tracking_and_carrier(sandbox, conn, make_draft):
    created = orders.create(conn, make_draft("F-1"))
    assert orders.shipments(conn, [created.remote_id]) == []  # 204: no shipment yet
    sandbox.fulfill_order(created.remote_id, Tracking(number="RM123456789GB", carrier="Royal Mail"))
    (ful,) = orders.shipments(conn, [created.remote_id, "999999"])
    assert ful.order_id == created.remote_id
    assert [(t.number, t.carrier) for t in ful.tracking] == [("RM123456789GB", "royal-mail")]
    line_id = sandbox.state.order_lines[int(created.remote_id)][0]["id"]
    assert ful.line_ids == [str(line_id)]
    (order,) = orders.read(conn, [created.remote_id])
    assert order.status == "in_transit"

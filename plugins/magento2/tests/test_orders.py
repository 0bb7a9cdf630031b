"""Orders in the sandbox: creation with TikTok's prices, idempotency, cancel, tracking."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bridge.errors import Rejected
from bridge.models import Address, Money, OrderDraft, OrderLine, Tracking
from bridge_magento2 import connector
from bridge_magento2.sandbox import MagentoSandbox


def draft(conn: Any, source_id: str, variant_id: str | None = None) -> OrderDraft:
    page = next(iter(connector.list_products(conn, None)))
    product = page.products[0]
    variant = product.variants[0]
    addr = Address(name="Ada Lovelace", first_name="Ada", last_name="Lovelace", line1="1 Test St",
                   line2="Flat 2", city="London", region="Greater London", postal_code="SW1A 1AA",
                   country_code="GB", phone="+440000000000")
    gbp = "GBP"
    return OrderDraft(
        source="TikTok Shop", source_order_id=source_id, currency=gbp,
        lines=[OrderLine(remote_id="TT-L1", product_id=product.remote_id, variant_id=variant_id or variant.remote_id,
                         sku=variant.sku, title=product.title, quantity=2,
                         unit_price=Money(amount="7.25", currency=gbp))],
        shipping_address=addr, buyer_email="buyer@example.com", buyer_name="Ada Lovelace",
        shipping=Money(amount="2.50", currency=gbp), tax=Money(amount="0", currency=gbp),
        total=Money(amount="15.00", currency=gbp), note="",
    )


def test_create_order_carries_tiktok_prices_id_addresses_and_comment(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(2, 2)
    created = connector.create_order(conn, draft(conn, "576000000000001"))
    raw = sandbox.order_json(created.remote_id)
    assert raw["ext_order_id"] == "576000000000001"
    assert raw["grand_total"] == 15.0 and raw["subtotal"] == 14.5 and raw["shipping_amount"] == 2.5
    assert raw["discount_amount"] == -2.0  # 14.50 + 2.50 charged 15.00: a TikTok discount of 2.00
    assert raw["items"][0]["price"] == 7.25 and raw["items"][0]["qty_ordered"] == 2
    ship = raw["extension_attributes"]["shipping_assignments"][0]["shipping"]["address"]
    assert ship["street"] == ["1 Test St", "Flat 2"] and ship["postcode"] == "SW1A 1AA"
    assert ship["region"] == "Greater London" and ship["country_id"] == "GB"
    assert raw["billing_address"]["address_type"] == "billing"
    [comment] = raw["status_histories"]
    assert comment["comment"] == "TikTok Shop order 576000000000001"
    assert created.number == raw["increment_id"]
    order = connector.get_orders(conn, [created.remote_id])[0]
    assert order.source_order_id == "576000000000001" and order.total.amount == Decimal("15")


def test_create_order_is_idempotent_by_external_id(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(1, 1)
    first = connector.create_order(conn, draft(conn, "T-2"))
    second = connector.create_order(conn, draft(conn, "T-2"))
    assert (second.remote_id, second.existed) == (first.remote_id, True)
    assert len(sandbox.orders()) == 1
    assert connector.find_order(conn, "T-2") == first.remote_id
    assert connector.find_order(conn, "T-3") is None


def test_unknown_variant_is_rejected(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(1, 1)
    with pytest.raises(Rejected, match="no product with id 424242"):
        connector.create_order(conn, draft(conn, "T-4", variant_id="424242"))
    assert sandbox.orders() == []


def test_cancel_is_idempotent_and_refused_once_shipped(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(1, 1)
    a = connector.create_order(conn, draft(conn, "T-5")).remote_id
    assert connector.cancel_order(conn, a, "buyer cancelled") is True
    assert connector.cancel_order(conn, a, "buyer cancelled") is False
    assert sandbox.order_json(a)["state"] == "canceled"
    b = connector.create_order(conn, draft(conn, "T-6")).remote_id
    sandbox.fulfill_order(b, Tracking(number="RM123", carrier="Royal Mail"))
    with pytest.raises(Rejected, match="refused to cancel"):
        connector.cancel_order(conn, b, "late")


def test_fulfillments_carry_tracks(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(1, 1)
    oid = connector.create_order(conn, draft(conn, "T-7")).remote_id
    sid = sandbox.fulfill_order(oid, Tracking(number="JT0001", carrier="J&T Express"))
    [f] = connector.list_fulfillments(conn, [oid])
    assert (f.remote_id, f.order_id) == (sid, oid)
    assert [(t.number, t.carrier) for t in f.tracking] == [("JT0001", "J&T Express")]
    assert f.line_ids == [str(sandbox.order_json(oid)["items"][0]["item_id"])]


def test_list_orders_streams_bridge_orders_since_cursor(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(1, 1)
    ids = [connector.create_order(conn, draft(conn, f"T-L{i}")).remote_id for i in range(3)]
    pages = list(connector.list_orders(conn, None))
    assert [o.remote_id for p in pages for o in p.orders] == ids
    assert all(o.source_order_id for p in pages for o in p.orders)
    sandbox.cancel_order(ids[1])
    later = [o for p in connector.list_orders(conn, pages[-1].cursor) for o in p.orders]
    assert ids[1] in [o.remote_id for o in later]
    assert next(o for o in later if o.remote_id == ids[1]).status == "cancelled"

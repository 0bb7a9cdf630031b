"""Orders, cancellation, shipping providers and tracking against the sandbox."""

from __future__ import annotations

import pytest

from bridge.errors import Rejected
from bridge.models import TrackingPush
from bridge_tiktokshop import connector


def _sku(sandbox, shop_index: int = 0) -> str:
    shop = sandbox.shops()[shop_index]["id"]
    if not sandbox.products(shop):
        sandbox.seed_catalog(3, 2, seed=5, shop_id=shop)
    return sandbox.products(shop)[0]["skus"][0]["seller_sku"]


def test_list_orders_pages_and_cursor(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    sku = _sku(sandbox)
    ids = [sandbox.create_order(shop, [(sku, 2)]) for _ in range(3)]
    for oid in ids:
        sandbox.age_order(oid, 400)
    mid = sandbox.create_order(shop, [(sku, 1)], released=False)
    pages = list(connector.list_orders(connection=conn, cursor=None))
    seen = {o.remote_id: o for p in pages for o in p.orders}
    fresh = sandbox.create_order(shop, [(sku, 1)], fulfilled_by="platform")
    after = {o.remote_id: o for p in connector.list_orders(connection=conn, cursor=pages[-1].cursor)
             for o in p.orders}
    assert set(ids) | {mid} <= set(seen)
    o = seen[ids[0]]
    assert o.status == "awaiting_shipment" and o.released and o.fulfilled_by == "seller"
    assert len(o.lines) == 1 and o.lines[0].quantity == 2 and o.currency == "GBP"
    assert o.total.amount == o.subtotal.amount + o.shipping.amount
    assert seen[mid].released is False and seen[mid].status == "on_hold"
    # incremental: orders older than the cursor (minus its overlap) are not read again
    assert fresh in after and mid in after and not set(ids) & set(after)
    assert after[fresh].fulfilled_by == "platform"
    held = connector.get_orders(connection=conn, order_ids=[mid, "404"])
    assert [h.remote_id for h in held] == [mid] and held[0].released is False
    sandbox.release_order(mid)
    assert connector.get_orders(connection=conn, order_ids=[mid])[0].released is True


def test_order_pages_follow_tokens(sandbox, conn) -> None:
    from bridge_tiktokshop import orders

    shop = sandbox.shops()[0]["id"]
    sku = _sku(sandbox)
    for _ in range(5):
        sandbox.create_order(shop, [(sku, 1)])
    old = orders.PAGE_SIZE
    orders.PAGE_SIZE = 2
    try:
        pages = list(connector.list_orders(connection=conn, cursor=None))
        resumed = list(connector.list_orders(connection=conn, cursor=pages[0].cursor))
    finally:
        orders.PAGE_SIZE = old
    assert len(pages) >= 3 and all(len(p.orders) <= 2 for p in pages)
    ids = [o.remote_id for p in pages for o in p.orders]
    assert len(ids) == len(set(ids))
    assert [o.remote_id for p in resumed for o in p.orders] == ids[2:]


def test_cancel_order_idempotent_and_refused_after_shipping(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    oid = sandbox.create_order(shop, [(_sku(sandbox), 1)])
    assert connector.cancel_order(connection=conn, order_id=oid, reason="out of stock") is True
    assert connector.cancel_order(connection=conn, order_id=oid, reason="out of stock") is False
    assert sandbox.order(oid)["status"] == "CANCELLED"
    cancelled = connector.get_orders(connection=conn, order_ids=[oid])[0]
    assert cancelled.status == "cancelled" and cancelled.cancel_reason


def _push(conn, oid: str, number: str, carrier: str = "", provider_id: str = "") -> TrackingPush:
    order = connector.get_orders(connection=conn, order_ids=[oid])[0]
    return TrackingPush(order_id=oid, tracking_number=number, provider_id=provider_id, carrier=carrier,
                        package_id=order.package_ids[0] if order.package_ids else None,
                        line_ids=[ln.remote_id for ln in order.lines])


def test_gb_mark_shipped_by_carrier_name_idempotent_and_corrected(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    oid = sandbox.create_order(shop, [(_sku(sandbox), 2)])
    first = connector.push_tracking(connection=conn, push=_push(conn, oid, "RM123456789GB", carrier="Royal Mail"))
    assert first.pushed and first.package_id
    state = sandbox.order(oid)
    assert state["status"] == "IN_TRANSIT" and state["packages"][0]["provider"] == "Royal Mail"
    again = connector.push_tracking(connection=conn, push=_push(conn, oid, "RM123456789GB", carrier="Royal Mail"))
    assert again.pushed is False
    fixed = connector.push_tracking(connection=conn, push=_push(conn, oid, "EV000111222", carrier="Hermes"))
    assert fixed.pushed and sandbox.order(oid)["packages"][0]["tracking_number"] == "EV000111222"
    assert sandbox.order(oid)["packages"][0]["provider"] == "Evri"
    with pytest.raises(Rejected, match="Carrier Pigeon") as err:
        connector.push_tracking(connection=conn, push=_push(conn, oid, "X1234567", carrier="Carrier Pigeon"))
    assert "Royal Mail" in err.value.message and err.value.code == "UNMAPPED_CARRIER"
    sandbox.age_order(oid, 73 * 3600)
    with pytest.raises(Rejected) as late:
        connector.push_tracking(connection=conn, push=_push(conn, oid, "DPD99887766", carrier="DPD"))
    assert late.value.code == "21011049"


def test_sea_ships_the_package_with_self_shipment(sandbox, sg_conn) -> None:
    shop = sandbox.shops()[1]["id"]
    oid = sandbox.create_order(shop, [(_sku(sandbox, 1), 1)])
    providers = connector.shipping_providers(connection=sg_conn, order_id=oid)
    assert "Ninja Van" in {p.name for p in providers}
    push = _push(sg_conn, oid, "NV-SG-000123", carrier="ninjavan")
    assert push.package_id
    before = sandbox.stats.snapshot()["by_route"].get("POST /fulfillment/202309/packages/{package_id}/ship", 0)
    assert connector.push_tracking(connection=sg_conn, push=push).pushed
    assert sandbox.stats.snapshot()["by_route"]["POST /fulfillment/202309/packages/{package_id}/ship"] == before + 1
    assert sandbox.order(oid)["packages"][0]["tracking_number"] == "NV-SG-000123"
    assert connector.push_tracking(connection=sg_conn, push=push).pushed is False


def test_tiktok_shipped_and_on_hold_orders_get_no_store_tracking(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    sku = _sku(sandbox)
    fbt = sandbox.create_order(shop, [(sku, 1)], fulfilled_by="platform")
    with pytest.raises(Rejected, match="TikTok's own logistics"):
        connector.push_tracking(connection=conn, push=_push(conn, fbt, "ABC12345", provider_id="1"))
    labelled = sandbox.create_order(shop, [(sku, 1)], shipping_type="TIKTOK")
    seller = sandbox.create_order(shop, [(sku, 1)])
    got = {o.remote_id: o for o in connector.get_orders(connection=conn, order_ids=[labelled, seller, fbt])}
    assert got[labelled].fulfilled_by == "seller" and got[labelled].shipping_label_by == "platform"
    assert got[seller].shipping_label_by == "seller" and got[fbt].shipping_label_by == "platform"
    held = sandbox.create_order(shop, [(sku, 1)], released=False)
    with pytest.raises(Rejected, match="ON_HOLD"):
        connector.push_tracking(connection=conn, push=_push(conn, held, "ABC12345", provider_id="1"))
    all_providers = connector.shipping_providers(connection=conn, order_id=None)
    assert "Royal Mail" in {p.name for p in all_providers}

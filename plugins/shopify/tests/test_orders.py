"""Orders and fulfilments against the sandbox: idempotent creation, stock, cancel, tracking."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from bridge.errors import Rejected
from bridge.models import Address, Money, OrderDraft, OrderLine, Tracking
from bridge_shopify import orders
from bridge_shopify.client import ShopifyClient
from bridge_shopify.queries import ORDER_CREATE


def _draft(served, source_id: str, qty: int = 2, variant_index: int = 0) -> OrderDraft:
    state = served.sandbox.state
    vid = list(state.variants)[variant_index]
    v = state.variants[vid]
    price = Money(amount="12.34", currency="GBP")
    masked = Address(name="J*** D***", line1="1** M*** St", city="London", postal_code="SW1A 1AA",
                     country_code="GB", phone="+44*******00")
    return OrderDraft(
        source="TikTok Shop", source_order_id=source_id, currency="GBP",
        lines=[OrderLine(remote_id="L1", product_id=v["product"], variant_id=vid, sku=v["sku"],
                         quantity=qty, unit_price=price)],
        shipping_address=masked, buyer_email="a1b2c3@scs.tiktokw.com", buyer_name="J*** D***",
        shipping=Money(amount="3.00", currency="GBP"), tax=Money(amount="4.94", currency="GBP"),
        total=Money(amount="32.62", currency="GBP"),
    )


def test_create_order_with_tiktok_prices_and_stock(served, conn) -> None:
    sku = served.sandbox.state.variants[list(served.sandbox.state.variants)[0]]["sku"]
    served.sandbox.set_quantity(sku, 10)
    created = orders.create_order(conn, _draft(served, "576400000000001"))
    assert not created.existed and created.number.startswith("#")
    assert served.sandbox.quantity(sku) == 8
    record = served.sandbox.state.orders[created.remote_id]
    assert created.admin_url == f"{served.url}/admin/orders/{record['_num']}"
    assert record["sourceIdentifier"] == "576400000000001"
    assert "tiktok-576400000000001" in record["tags"] and "TikTokShop" in record["tags"]
    assert record["lineItems"][0]["price"] == "12.34"
    assert record["shipping"] == Decimal("3.00") and record["tax"] == Decimal("4.94")
    assert record["shippingAddress"]["address1"] == "1** M*** St"  # masked stays masked
    assert record["email"] == "a1b2c3@scs.tiktokw.com"
    again = orders.create_order(conn, _draft(served, "576400000000001"))
    assert again.existed and again.remote_id == created.remote_id
    assert (again.number, again.admin_url) == (created.number, created.admin_url)  # found: named too
    assert served.sandbox.quantity(sku) == 8


def test_an_order_made_by_another_app_is_linked(served, conn) -> None:
    client = ShopifyClient(conn)
    vid = list(served.sandbox.state.variants)[1]
    data = client.execute("OrderCreate", ORDER_CREATE, {"order": {
        "lineItems": [{"variantId": vid, "quantity": 1}], "tags": ["tiktok-576400000000002"]}})
    other = data["orderCreate"]["order"]["id"]
    assert orders.find_order(conn, "576400000000002") is None, "Shopify's search lags a new order"
    time.sleep(served.sandbox.state.search_lag)
    assert orders.find_order(conn, "576400000000002") == other
    created = orders.create_order(conn, _draft(served, "576400000000002"))
    assert created.existed and created.remote_id == other
    assert created.number == served.sandbox.state.orders[other]["name"]
    assert orders.find_order(conn, "576400000000099") is None


def test_unknown_variant_is_rejected_with_shopifys_code(served, conn) -> None:
    draft = _draft(served, "576400000000003")
    draft.lines[0].variant_id = "gid://shopify/ProductVariant/1"
    with pytest.raises(Rejected) as err:
        orders.create_order(conn, draft)
    assert err.value.code == "INVALID" and "lineItems.0.variantId" in err.value.message
    assert err.value.item == "576400000000003"


def test_cancel_restocks_once(served, conn) -> None:
    sku = served.sandbox.state.variants[list(served.sandbox.state.variants)[2]]["sku"]
    served.sandbox.set_quantity(sku, 5)
    created = orders.create_order(conn, _draft(served, "576400000000004", qty=3, variant_index=2))
    assert served.sandbox.quantity(sku) == 2
    assert orders.cancel_order(conn, created.remote_id, "buyer cancelled") is True
    assert served.sandbox.quantity(sku) == 5
    assert orders.cancel_order(conn, created.remote_id, "buyer cancelled") is False
    assert served.sandbox.quantity(sku) == 5
    [order] = orders.get_orders(conn, [created.remote_id])
    assert order.status == "cancelled" and order.source_order_id == "576400000000004"


def test_a_shipped_order_cannot_be_cancelled(served, conn) -> None:
    created = orders.create_order(conn, _draft(served, "576400000000005"))
    served.sandbox.fulfill_order(created.remote_id, Tracking(number="RM1", carrier="Royal Mail"))
    with pytest.raises(Rejected) as err:
        orders.cancel_order(conn, created.remote_id, "too late")
    assert err.value.code == "INVALID"


def test_fulfilments_carry_tracking(served, conn) -> None:
    created = orders.create_order(conn, _draft(served, "576400000000006"))
    served.sandbox.fulfill_order(created.remote_id, Tracking(
        number="JD0002", carrier="DHL Express", url="https://dhl.example/JD0002"))
    [f] = orders.list_fulfillments(conn, [created.remote_id, "gid://shopify/Order/1"])
    assert f.order_id == created.remote_id and f.status == "success"
    assert [(t.number, t.carrier, t.url) for t in f.tracking] == [
        ("JD0002", "DHL Express", "https://dhl.example/JD0002")]
    assert f.line_ids == [ln["id"] for ln in served.sandbox.state.orders[created.remote_id]["lineItems"]]


def test_list_orders_streams_bridges_orders(served, conn) -> None:
    from bridge_shopify.sandbox.state import now

    for i in range(7):
        created = orders.create_order(conn, _draft(served, f"5764000000001{i:02d}"))
        # as if placed over the last minute, one after the other
        served.sandbox.state.orders[created.remote_id]["updatedAt"] = now() - timedelta(seconds=60 - i)
    time.sleep(served.sandbox.state.search_lag)  # until the search index has them
    pages = list(orders.list_orders(conn, None))
    listed = [o for page in pages for o in page.orders]
    assert len(pages) >= 2
    assert {f"5764000000001{i:02d}" for i in range(7)} <= {o.source_order_id for o in listed}
    order = next(o for o in listed if o.source_order_id == "576400000000100")
    assert order.lines[0].unit_price == Money(amount="12.34", currency="GBP")
    assert order.shipping_address.line1 == "1** M*** St"
    again = [o.source_order_id for p in orders.list_orders(conn, pages[-1].cursor) for o in p.orders]
    assert not {f"5764000000001{i:02d}" for i in range(7)} & set(again), "listed orders are not again"
    assert again == [], "nothing changed: nothing listed again"

    # The search shows new orders late. Behind the watermark by less than the look-back
    # (orders.search_lag: the store's lookup_lag), an unseen order is listed once it shows;
    # by more, never (the look-back bounds what a run re-reads).
    from bridge_shopify.catalog import decode_cursor

    mark = datetime.fromisoformat(decode_cursor(pages[-1].cursor)["w"].replace("Z", "+00:00"))
    lag = orders.search_lag(conn)
    assert lag == served.sandbox.state.search_lag + 0.5  # the sandbox's declared lookup_lag
    late = {}
    for source, behind in (("576400000000190", 0.0), ("576400000000191", lag / 2),
                           ("576400000000192", lag + 5)):
        made = orders.create_order(conn, _draft(served, source))
        served.sandbox.state.orders[made.remote_id]["updatedAt"] = mark - timedelta(seconds=behind)
        late[source] = made.remote_id
    cursor = pages[-1].cursor
    shown = [o.source_order_id for p in orders.list_orders(conn, cursor) for o in p.orders]
    assert not set(late) & set(shown), "the search does not show them yet"
    time.sleep(served.sandbox.state.search_lag)
    pages = list(orders.list_orders(conn, cursor))
    shown = [o.source_order_id for p in pages for o in p.orders]
    assert sorted(shown) == ["576400000000190", "576400000000191"]
    assert [o.source_order_id for p in orders.list_orders(conn, pages[-1].cursor) for o in p.orders] == []


def test_a_lost_orderCreate_answer_is_found_not_made_twice(served, conn) -> None:
    """The sandbox creates the order and then resets the connection (the kit's lost answer, aimed
    at the mutation by its name): the retry finds the order instead of creating a second one."""
    from bridge.errors import BridgeError
    from bridge.sandboxing import Fault

    served.sandbox.kit.inject(Fault(reset=True, after=True, method="POST", body="OrderCreate"))
    before = len(served.sandbox.state.orders)
    with pytest.raises(BridgeError):
        orders.create_order(conn, _draft(served, "576400000000777"))
    assert len(served.sandbox.state.orders) == before + 1  # made, answer lost
    time.sleep(served.sandbox.state.search_lag)  # the core waits out the search lag before retrying
    again = orders.create_order(conn, _draft(served, "576400000000777"))
    assert again.existed and len(served.sandbox.state.orders) == before + 1


def test_a_cancellation_the_search_shows_late_is_not_missed(served, conn) -> None:
    """An order is made and cancelled in the store while the search does not show it yet; an
    older order cancelled just after moves the watermark past it. Once the search shows the
    first, the next run lists it, cancelled."""
    first = list(orders.list_orders(conn, None))
    older = orders.create_order(conn, _draft(served, "576400000000201"))
    time.sleep(served.sandbox.state.search_lag)
    first = list(orders.list_orders(conn, first[-1].cursor))
    assert "576400000000201" in [o.source_order_id for p in first for o in p.orders]
    new = orders.create_order(conn, _draft(served, "576400000000202"))
    assert orders.cancel_order(conn, new.remote_id, "cancelled in the store") is True
    assert orders.cancel_order(conn, older.remote_id, "cancelled in the store") is True
    state = served.sandbox.state.orders  # a second later (Shopify's stamps are whole seconds)
    state[older.remote_id]["updatedAt"] = state[new.remote_id]["updatedAt"] + timedelta(seconds=1)
    pages = list(orders.list_orders(conn, first[-1].cursor))
    listed = {o.source_order_id: o.status for p in pages for o in p.orders}
    assert listed == {"576400000000201": "cancelled"}, "the new order is not in the search yet"
    time.sleep(served.sandbox.state.search_lag)
    later = {o.source_order_id: o.status for p in orders.list_orders(conn, pages[-1].cursor) for o in p.orders}
    assert later == {"576400000000202": "cancelled"}

"""Channel checks: listing, idempotent inventory, orders read from the channel, tracking."""

from __future__ import annotations

import itertools
import time
from decimal import Decimal
from typing import Any

from bridge.connection import Connection
from bridge.models import (
    Dimensions,
    Image,
    InventoryUpdate,
    Listing,
    ListingAttribute,
    ListingResult,
    ListingSku,
    Money,
    TrackingPush,
)
from bridge.testing.checks import check
from bridge.testing.harness import Harness

_numbers = itertools.count(1)


def default_listing(h: Harness, conn: Connection, sku_prefix: str) -> Listing:
    """A listing in a leaf category with required attributes filled."""
    categories = h.call("list_categories", connection=conn)
    leaves = [c for c in categories if c.is_leaf and not c.permission_required]
    assert leaves, "list_categories returned no usable leaf category"
    cat = leaves[0]
    attrs = []
    sales: list[str] = []
    for a in h.call("category_attributes", connection=conn, category_id=cat.id):
        if a.sales:
            sales.append(a.name)
        elif a.required:
            attrs.append(ListingAttribute(id=a.id, name=a.name, value_ids=[a.values[0].id] if a.values else [],
                                          values=[] if a.values else ["Test"]))
    currency = shop(h).get("currency") or "GBP"
    option = sales[0] if sales else "Size"
    skus = [ListingSku(source_variant_id=f"{sku_prefix}-v{i}", seller_sku=f"{sku_prefix}-{i}",
                       price=Money(amount="19.99", currency=currency), quantity=5,
                       sales_attributes={option: size}) for i, size in enumerate(["S", "M", "L"])]
    assert h.images is not None
    return Listing(source_product_id=sku_prefix, title=f"Contract kit product {sku_prefix} cotton tee",
                   description_html="<p>A plain cotton t-shirt for the contract suite.</p>",
                   category_id=cat.id, attributes=attrs, images=[Image(url=h.images.url("front.png"))],
                   package_weight_g=Decimal(300),
                   package_dimensions=Dimensions(length_cm=Decimal(20), width_cm=Decimal(15),
                                                 height_cm=Decimal(3)),
                   skus=skus)


def shop(h: Harness) -> dict[str, Any]:
    return h.sb("shops")()[0]


def listed(h: Harness) -> tuple[Listing, ListingResult]:
    """One listing created for the channel checks (made once)."""
    if "listing" not in h.memo:
        h.need_kind("channel")
        h.need("create_listing", "list_categories", "category_attributes")
        with h.connected() as conn:
            listing = h.make_listing(conn, f"KIT{next(_numbers)}")
            result = h.call("create_listing", connection=conn, listing=listing)
        assert result.remote_product_id, "create_listing returned no product id"
        assert set(result.sku_ids) == {s.seller_sku for s in listing.skus}, (
            f"create_listing returned SKU ids for {sorted(result.sku_ids)}, listed {[s.seller_sku for s in listing.skus]}")
        h.memo["listing"] = (listing, result)
    return h.memo["listing"]


def held_product(h: Harness, product_id: str) -> dict[str, Any]:
    for p in h.sb("products")(shop(h)["id"]):
        if str(p["id"]) == product_id:
            return p
    raise AssertionError(f"the sandbox holds no product {product_id}")


@check("listings", "channel")
def check_listing_is_created_once_and_found(h: Harness) -> None:
    """create_listing makes one product with every SKU; find_listings finds it by seller SKU."""
    listing, result = listed(h)
    product = held_product(h, result.remote_product_id)
    assert sorted(s["seller_sku"] for s in product["skus"]) == sorted(s.seller_sku for s in listing.skus)
    if h.has("find_listings"):
        first = listing.skus[0].seller_sku
        with h.connected() as conn:
            found = h.call("find_listings", connection=conn, seller_skus=[first, "KIT-NO-SUCH-SKU"])
        assert [f.seller_sku for f in found] == [first], f"find_listings answered {[f.seller_sku for f in found]}"
        assert found[0].remote_product_id == result.remote_product_id


@check("inventory", "channel")
def check_inventory_updates_are_idempotent(h: Harness) -> None:
    """update_inventory sets absolute quantities; the same update twice changes nothing."""
    h.need("update_inventory")
    _listing, result = listed(h)
    updates = [InventoryUpdate(product_id=result.remote_product_id, sku_id=sid, quantity=7)
               for sid in result.sku_ids.values()]
    with h.connected() as conn:
        for _ in range(2):
            results = h.call("update_inventory", connection=conn, updates=updates)
            assert [r.ok for r in results] == [True] * len(updates), f"update_inventory: {results}"
    product = held_product(h, result.remote_product_id)
    assert [s["quantity"] for s in product["skus"]] == [7] * len(updates), "the sandbox's stock is not 7"
    if h.has("read_inventory"):
        with h.connected() as conn:
            levels = list(h.call("read_inventory", connection=conn, variant_ids=list(result.sku_ids.values())))
        assert {lv.variant_id: lv.quantity for lv in levels} == dict.fromkeys(result.sku_ids.values(), 7)


def place_order(h: Harness, quantity: int = 1) -> str:
    listing, _result = listed(h)
    return h.sb("create_order")(shop(h)["id"], [(listing.skus[0].seller_sku, quantity)])


@check("orders", "channel")
def check_orders_are_listed_with_lines_and_prices(h: Harness) -> None:
    """list_orders lists a placed order with its SKU, quantity and the price the buyer paid;
    from the last cursor, a cancellation comes."""
    h.need("list_orders")
    listing, _result = listed(h)
    order_id = place_order(h)
    with h.connected() as conn:
        pages = h.stream("list_orders", connection=conn, cursor=None)
        mine = [o for page in pages for o in page.orders if o.remote_id == order_id]
        assert mine, f"list_orders misses order {order_id} placed in the sandbox"
        lines = mine[-1].lines
        assert lines and {ln.sku for ln in lines} == {listing.skus[0].seller_sku}, f"lines {lines}"
        assert sum(ln.quantity for ln in lines) == 1
        assert all(ln.unit_price.amount == listing.skus[0].price.amount for ln in lines), (
            f"unit prices {[str(ln.unit_price.amount) for ln in lines]}, the buyer paid {listing.skus[0].price.amount}")
        h.sb("cancel_order")(order_id)
        later = h.stream("list_orders", connection=conn, cursor=pages[-1].cursor if pages else None)
        again = [o for page in later for o in page.orders if o.remote_id == order_id]
        assert again and again[-1].status == "cancelled", "from the last cursor, the cancellation must be listed"


@check("orders", "channel")
def check_orders_in_the_cursors_second_are_not_lost(h: Harness) -> None:
    """An order placed in the same second as the last one a cursor saw is still listed."""
    h.need("list_orders")
    hold = h.sb("hold_clock")
    listed(h)
    with h.connected() as conn:
        pages = h.stream("list_orders", connection=conn, cursor=None)
        hold(float(int(time.time())))
        try:
            first_id = place_order(h)
            first = h.stream("list_orders", connection=conn, cursor=pages[-1].cursor if pages else None)
            assert first_id in {o.remote_id for page in first for o in page.orders}, (
                f"order {first_id}, placed after the last cursor, was not listed")
            second_id = place_order(h)
            second = h.stream("list_orders", connection=conn, cursor=first[-1].cursor)
            assert second_id in {o.remote_id for page in second for o in page.orders}, (
                f"order {second_id}, placed in the same second as the order the cursor last saw, was "
                "lost: compare update times inclusively (>=) or re-read a window before the cursor")
        finally:
            hold(None)


@check("orders", "channel")
def check_get_orders_reads_by_id(h: Harness) -> None:
    """get_orders answers the asked order with its lines and packages."""
    h.need("get_orders")
    order_id = place_order(h, 2)
    with h.connected() as conn:
        got = h.call("get_orders", connection=conn, order_ids=[order_id])
    assert [o.remote_id for o in got] == [order_id], f"get_orders answered {[o.remote_id for o in got]}"
    assert sum(ln.quantity for ln in got[0].lines) == 2, "the order's lines do not add up to 2 units"


@check("tracking", "channel")
def check_tracking_push_is_idempotent(h: Harness) -> None:
    """push_tracking marks the package shipped once; the same push again is a no-op."""
    h.need("push_tracking", "shipping_providers")
    order_id = place_order(h)
    with h.connected() as conn:
        order = h.call("get_orders", connection=conn, order_ids=[order_id])[0] if h.has("get_orders") else None
        providers = h.call("shipping_providers", connection=conn, order_id=order_id)
        assert providers, "no shipping provider for the order"
        push = TrackingPush(order_id=order_id, package_id=order.package_ids[0] if order and order.package_ids else None,
                            tracking_number="KIT0001GB", provider_id=providers[0].id, carrier=providers[0].name,
                            line_ids=[ln.remote_id for ln in order.lines] if order else [])
        first = h.call("push_tracking", connection=conn, push=push)
        second = h.call("push_tracking", connection=conn, push=push)
    assert first.pushed is True, "the first push must say pushed=True"
    assert second.pushed is False, "the same push again must be a no-op (pushed=False)"
    held = h.sb("order")(order_id)
    assert "KIT0001GB" in str(held), "the sandbox's order does not hold the tracking number"

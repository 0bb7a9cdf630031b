"""eCommerce orders: created as the channel charged them (lines, prices, totals, source order id,
customer, stock), idempotent, cancellable once, readable by id and listed."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from decimal import Decimal

from bridge.models import Address, Money, Order, OrderDraft, OrderLine, Product
from bridge.testing.checks import check
from bridge.testing.checks.catalog import full_stream
from bridge.testing.harness import Harness

_numbers = itertools.count(1)
SHIPPING = Decimal("2.50")


def channel_price(price: Decimal) -> Decimal:
    """What the channel charged: not the store's price (a promotion), so a connector that lets
    the store price the line is caught."""
    return max(Decimal("0.50"), (price * Decimal("0.85")).quantize(Decimal("0.01")) - Decimal("0.03"))


def draft(h: Harness, tag: str, quantity: int = 2) -> tuple[OrderDraft, Product]:
    """A channel order for two units of a tracked variant, at the channel's price."""
    products = h.products_of(full_stream(h))
    product = next((p for p in products if p.variants[0].inventory_tracked and p.variants[0].sku), products[0])
    variant = product.variants[0]
    currency = variant.price.currency
    unit = channel_price(variant.price.amount)
    address = Address(name="Ada Lovelace", first_name="Ada", last_name="Lovelace", line1="1 Test St",
                      city="London", postal_code="SW1A 1AA", country_code="GB", phone="+447700900123",
                      email="ada.buyer@example.com")
    source_id = f"KIT-{tag}-{next(_numbers)}"
    return OrderDraft(
        source="Kit Channel", source_order_id=source_id, currency=currency,
        lines=[OrderLine(remote_id="L1", product_id=product.remote_id, variant_id=variant.remote_id,
                         sku=variant.sku, title=product.title, quantity=quantity,
                         unit_price=Money(amount=unit, currency=currency))],
        shipping_address=address, billing_address=address, buyer_email="ada.buyer@example.com",
        buyer_name="Ada Lovelace", shipping=Money(amount=SHIPPING, currency=currency),
        total=Money(amount=unit * quantity + SHIPPING, currency=currency),
        note="Kit Channel order " + source_id,
    ), product


def _available(h: Harness, variant_id: str, sku: str | None) -> Callable[[], int | None]:
    """How the variant's available stock is read: as the connector reads it for the channels
    (read_inventory), else as the sandbox holds it."""
    if h.has("read_inventory"):
        def read() -> int | None:
            with h.connected() as conn:
                levels = list(h.call("read_inventory", connection=conn, variant_ids=[variant_id]))
            return levels[0].quantity if levels else None
        return read
    if sku:
        quantity = h.sb("quantity")
        return lambda: quantity(sku)
    return lambda: None


def held_order(h: Harness, order_id: str) -> Order:
    """The order as the sandbox holds it."""
    for o in h.sb("orders")():
        if o.remote_id == order_id:
            return o
    raise AssertionError(f"the sandbox holds no order {order_id}, which create_order returned")


def create(h: Harness, tag: str) -> tuple[str, OrderDraft]:
    h.need_kind("ecommerce")
    h.need("create_order")
    d, _ = draft(h, tag)
    with h.connected() as conn:
        created = h.call("create_order", connection=conn, draft=d)
    return created.remote_id, d


@check("orders", "ecommerce")
def check_created_order_is_what_the_channel_charged(h: Harness) -> None:
    """The sandbox's order has the draft's lines, unit prices, shipping, total, source id, buyer."""
    h.need_kind("ecommerce")
    h.need("create_order")
    d, _ = draft(h, "PRICES")
    line = d.lines[0]
    available = _available(h, line.variant_id or "", line.sku)
    before = available()
    with h.connected() as conn:
        created = h.call("create_order", connection=conn, draft=d)
    assert created.remote_id and not created.existed, "create_order must return the new order's id"
    o = held_order(h, created.remote_id)
    lines = [(ln.variant_id, ln.quantity, ln.unit_price.amount) for ln in o.lines]
    assert lines == [(line.variant_id, line.quantity, line.unit_price.amount)], (
        f"the store's order lines are {lines}; the channel sold {[(line.variant_id, line.quantity, line.unit_price.amount)]} "
        "(create the order with the prices the channel charged, not the store's)")
    assert o.currency.upper() == d.currency.upper(), f"order currency {o.currency}, the channel's {d.currency}"
    assert o.total is not None and o.total.amount == d.total.amount, (
        f"the store's order total is {o.total.amount if o.total else None}, the channel charged "
        f"{d.total.amount} (tax-inclusive: lines + shipping)")
    if o.shipping is not None:
        assert o.shipping.amount == d.shipping.amount, f"shipping {o.shipping.amount}, charged {d.shipping.amount}"
    assert o.source_order_id == d.source_order_id, (
        f"the store's order carries source order id {o.source_order_id!r}, not {d.source_order_id!r}: "
        "put it where find_order looks (metadata, external id, tag)")
    assert (o.buyer_email or "").lower() == d.buyer_email, (
        f"the store's order is for {o.buyer_email!r}, the buyer is {d.buyer_email!r} (customer or guest)")
    if before is not None:
        after = available()
        assert after == before - line.quantity, (f"available stock of {line.sku} went {before} -> {after}; "
                                                 f"an order for {line.quantity} must take {line.quantity}")


@check("orders", "ecommerce")
def check_create_order_is_idempotent(h: Harness) -> None:
    """Creating the same channel order twice yields one store order (existed=True the 2nd time)."""
    h.need_kind("ecommerce")
    h.need("create_order")
    d, _ = draft(h, "TWICE")
    before = len(h.sb("orders")())
    with h.connected() as conn:
        first = h.call("create_order", connection=conn, draft=d)
        second = h.call("create_order", connection=conn, draft=d)
    assert len(h.sb("orders")()) == before + 1, "creating the same channel order twice made two store orders"
    assert first.remote_id and not first.existed
    assert second.remote_id == first.remote_id and second.existed, "the second create must find the first"
    if h.has("find_order"):
        with h.connected() as conn:
            # a fresh connection knows nothing of the create: it finds the order by searching,
            # which may lag a new order by the lookup lag the sandbox declares (lookup_lag)
            time.sleep(min(float(conn.settings.get("lookup_lag") or 0), 5.0))
            assert h.call("find_order", connection=conn, source_order_id=d.source_order_id) == first.remote_id
            assert h.call("find_order", connection=conn, source_order_id="KIT-NO-SUCH-ORDER") is None


@check("orders", "ecommerce")
def check_get_orders_reads_by_id(h: Harness) -> None:
    """get_orders answers the created order with its lines and source order id."""
    h.need("get_orders")
    order_id, d = create(h, "GET")
    with h.connected() as conn:
        got = h.call("get_orders", connection=conn, order_ids=[order_id])
    assert [o.remote_id for o in got] == [order_id], f"get_orders([{order_id}]) answered {[o.remote_id for o in got]}"
    o = got[0]
    assert o.source_order_id in (None, d.source_order_id), f"source order id {o.source_order_id}"
    assert [(ln.variant_id, ln.quantity) for ln in o.lines] == [(d.lines[0].variant_id, d.lines[0].quantity)]


@check("orders", "ecommerce")
def check_cancel_order_is_idempotent(h: Harness) -> None:
    """Cancelling answers True once, then False; the sandbox's order is cancelled."""
    h.need("cancel_order")
    order_id, _ = create(h, "CANCEL")
    with h.connected() as conn:
        assert h.call("cancel_order", connection=conn, order_id=order_id, reason="kit") is True
        assert h.call("cancel_order", connection=conn, order_id=order_id, reason="kit") is False
    assert held_order(h, order_id).status == "cancelled", "the sandbox's order is not cancelled"


@check("orders", "ecommerce")
def check_list_orders_sees_created_and_cancelled(h: Harness) -> None:
    """list_orders lists bridge's orders, and from its last cursor a cancellation."""
    h.need("list_orders", "cancel_order")
    order_id, _ = create(h, "LIST")
    with h.connected() as conn:
        time.sleep(min(float(conn.settings.get("lookup_lag") or 0), 5.0))  # a lagging order search
        pages = h.stream("list_orders", connection=conn, cursor=None)
        assert order_id in {o.remote_id for page in pages for o in page.orders}, "list_orders misses the created order"
        h.sb("cancel_order")(order_id)
        later = h.stream("list_orders", connection=conn, cursor=pages[-1].cursor)
        mine = [o for page in later for o in page.orders if o.remote_id == order_id]
        assert mine and mine[-1].status == "cancelled", "from the last cursor, the cancelled order must be listed"

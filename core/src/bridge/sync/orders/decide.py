"""The orders flow's decisions (reads only): :class:`OrdersDecider` turns each channel order and
its link into actions (:mod:`bridge.sync.orders.actions`): its lines matched through the SKU
links, the store draft built; and finds linked orders cancelled in the eCommerce store.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlmodel import col, select

from bridge import db
from bridge.models import Address, Money, Order, OrderDraft, OrderLine
from bridge.statuses import OrderStatus
from bridge.sync.actions import Action
from bridge.sync.base import FlowContext
from bridge.sync.options import shop_options
from bridge.sync.orders.actions import (
    DONE,
    OPEN,
    CancelChannelOrder,
    CancelStoreOrder,
    CreateOrder,
    HoldOrder,
    HoldUnreadable,
    RecordOrder,
    WaitOrder,
)
from bridge.tables import OrderLink, SkuLink, Store, utcnow

TO_SHIP = ("awaiting_shipment", "awaiting_collection")
WAITING = ("unpaid", "on_hold")


RECENT = timedelta(days=30)
#: Channel statuses after shipment: nothing to create (shipped before bridge saw the order).
SHIPPED = ("in_transit", "delivered", "completed", "refunded")
#: What bridge cannot read in a record: held with the reason, never skipped.
BAD_DATA = (TypeError, ValueError, KeyError, AttributeError, ArithmeticError)


class OrdersDecider:
    """Decides what each channel order needs; reads only."""

    def __init__(self, ctx: FlowContext, channel: Store, eco: Store) -> None:
        self.ctx = ctx
        self.channel_store = channel
        self.channel = ctx.reader(channel)
        self.eco = ctx.reader(eco)
        self.options = shop_options(channel.options)
        self.source = ctx.pm.info(channel.platform).display_name
        self.seen: set[str] = set()

    def link(self, order_id: str) -> OrderLink | None:
        with db.session() as s:
            return s.exec(select(OrderLink).where(OrderLink.channel_store_id == self.channel_store.id,
                                                  OrderLink.channel_order_id == order_id)).first()

    def decide(self, o: Order) -> list[Action]:
        self.seen.add(o.remote_id)
        link = self.link(o.remote_id)
        if o.status == "cancelled":
            return self.channel_cancelled(o, link)
        if link is not None and link.status in DONE:
            return []
        if o.status in WAITING or not o.released:
            why = "not paid yet" if o.status in WAITING else "TikTok has not released it yet"
            return [] if link is not None else [WaitOrder(item=o.remote_id, why=why, order=o)]
        if o.status in SHIPPED:
            return []  # shipped or completed before bridge saw it: nothing to create
        if o.status not in TO_SHIP:
            return [HoldOrder(item=o.remote_id, order=o, link=link, code="UNKNOWN_STATUS",
                              why=f"status '{o.raw_status or o.status}' is unknown to bridge: the order "
                                  "is held and retried on every run (update bridge if the channel added "
                                  "a status)")]
        if o.fulfilled_by == "platform" and not self.options.create_platform_fulfilled:
            return [RecordOrder(item=o.remote_id, order=o, link=link,
                                why="fulfilled by TikTok: recorded, not created "
                                    "(shop option orders.create_platform_fulfilled)")]
        try:
            lines, unmatched = self.match(o)
            if unmatched:
                why = (f"line(s) {', '.join(unmatched)} match no product linked to this shop: list or "
                       "link the product (`bridge sync products`), then `bridge sync orders` retries")
                return [HoldOrder(item=o.remote_id, why=why, order=o, link=link)]
            draft = self.draft(o, lines)
        except BAD_DATA as exc:
            return [HoldOrder(item=o.remote_id, order=o, link=link, code="UNREADABLE",
                              why=f"bridge cannot read this order ({type(exc).__name__}: {exc}): held "
                                  "and retried on every run")]
        return [CreateOrder(item=o.remote_id, why="paid, seller-shipped, released", order=o,
                            draft=draft, link=link)]

    def unreadable(self, remote_id: str, why: str) -> list[Action]:
        """A record the channel plugin could not read: held (never skipped)."""
        self.seen.add(remote_id)
        link = self.link(remote_id)
        if link is not None and link.status not in OPEN:
            return []  # handled before the record went bad
        return [HoldUnreadable(item=remote_id, link=link, why=f"{why}: held and retried on every run")]

    def match(self, o: Order) -> tuple[list[OrderLine], list[str]]:
        sku_ids = [ln.variant_id for ln in o.lines if ln.variant_id]
        sellers = [ln.sku for ln in o.lines if ln.sku]
        with db.session() as s:
            rows = list(s.exec(select(SkuLink).where(
                SkuLink.channel_store_id == self.channel_store.id,
                col(SkuLink.remote_sku_id).in_(sku_ids) | col(SkuLink.seller_sku).in_(sellers))))
        by_id = {r.remote_sku_id: r for r in rows}
        by_sku = {r.seller_sku: r for r in rows}
        out, missing = [], []
        for ln in o.lines:
            hit = by_id.get(ln.variant_id) or by_sku.get(ln.sku or "")
            if hit is None:
                missing.append(f"{ln.title or ln.remote_id} (seller SKU {ln.sku or '?'})")
                continue
            out.append(ln.model_copy(update={"product_id": hit.source_product_id,
                                             "variant_id": hit.source_variant_id, "sku": hit.seller_sku}))
        return out, missing

    def draft(self, o: Order, lines: list[OrderLine]) -> OrderDraft:
        merged: dict[tuple[str | None, Decimal], OrderLine] = {}
        for ln in lines:  # TikTok has one line per unit: one line per variant and price
            key = (ln.variant_id, ln.unit_price.amount)
            prev = merged.get(key)
            merged[key] = ln if prev is None else prev.model_copy(update={"quantity": prev.quantity + ln.quantity})
        lines = list(merged.values())
        zero = Money(amount=Decimal(0), currency=o.currency)
        shipping = o.shipping or zero
        subtotal = sum((ln.unit_price.amount * ln.quantity for ln in lines), Decimal(0))
        total = o.total or Money(amount=subtotal + shipping.amount + (o.tax.amount if o.tax else 0),
                                 currency=o.currency)
        return OrderDraft(source=self.source, source_order_id=o.remote_id, currency=o.currency,
                          lines=lines, shipping_address=o.shipping_address or Address(),
                          buyer_email=o.buyer_email, buyer_name=o.buyer_name, shipping=shipping,
                          tax=o.tax, total=total, created_at=o.created_at,
                          note=f"{self.source} order {o.number or o.remote_id}")

    def channel_cancelled(self, o: Order, link: OrderLink | None) -> list[Action]:
        if link is None or link.status in (OrderStatus.CANCELLED, OrderStatus.RECORDED):
            return []
        eco_id = link.ecommerce_order_id
        if link.status in (OrderStatus.PENDING, OrderStatus.HELD) or not eco_id:
            eco_id = (self.eco.find_order(o.remote_id)
                      if link.status == OrderStatus.CREATING and self.eco.has("find_order") else None)
            if not eco_id:
                return [CancelStoreOrder(item=o.remote_id, why="cancelled on TikTok before it was created",
                                         link=link, ecommerce_order_id=None, reason=o.cancel_reason)]
        return [CancelStoreOrder(item=o.remote_id, why="cancelled on TikTok", link=link,
                                 ecommerce_order_id=eco_id, reason=o.cancel_reason)]

    def ecommerce_cancellations(self) -> list[Action]:
        """Linked orders cancelled in the eCommerce store are cancelled on TikTok (orders this
        run already decided are left to that decision).

        Read from the store's own change stream (``list_orders`` from a cursor): a run where
        nothing changed costs a request or two, not a read of every order of the last 30 days.
        """
        if self.eco.has("list_orders"):
            return self._cancellations_since_cursor()
        with db.session() as s:
            open_links = [ln for ln in s.exec(select(OrderLink).where(
                OrderLink.channel_store_id == self.channel_store.id, OrderLink.status == OrderStatus.CREATED,
                col(OrderLink.ecommerce_order_id).is_not(None), OrderLink.created_at >= utcnow() - RECENT))
                if ln.channel_order_id not in self.seen]
        if not open_links or not self.eco.has("get_orders"):
            return []
        by_id = {ln.ecommerce_order_id: ln for ln in open_links}
        ids = [i for i in by_id if i]
        out: list[Action] = []
        for i in range(0, len(ids), 50):
            for eo in self.eco.get_orders(ids[i:i + 50]):
                link = by_id.get(eo.remote_id)
                if eo.status == "cancelled" and link is not None:
                    out.append(CancelChannelOrder(item=link.channel_order_id, link=link,
                                                  why="cancelled in the eCommerce store"))
        return out


    def _cancellations_since_cursor(self) -> list[Action]:
        ctx, name = self.ctx, f"orders.ecommerce:{self.channel_store.id}"
        eco_store = self.eco.store
        for page in self.eco.list_orders(ctx.cursor(eco_store, name)):
            cancelled = [o.remote_id for o in page.orders if o.status == "cancelled"]
            if cancelled:
                with db.session() as s:
                    rows = list(s.exec(select(OrderLink).where(
                        OrderLink.channel_store_id == self.channel_store.id,
                        OrderLink.status == OrderStatus.CREATED, col(OrderLink.ecommerce_order_id).in_(cancelled))))
                actions: list[Action] = [CancelChannelOrder(item=ln.channel_order_id, link=ln,
                                                            why="cancelled in the eCommerce store")
                                         for ln in rows if ln.channel_order_id not in self.seen]
                ctx.act(actions)  # applied before the cursor moves past them
            if page.cursor:
                ctx.checkpoint(eco_store, page.cursor, name)
        return []

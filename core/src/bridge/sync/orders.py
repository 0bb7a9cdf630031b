"""Orders: TikTok shop -> the eCommerce store, exactly once; cancellations both ways.

Handed on: paid orders the seller ships (``awaiting_shipment``/``awaiting_collection``), once
TikTok releases them (``Order.released``). Orders TikTok fulfils itself are recorded (status
``recorded``), not created, unless the shop option ``orders.create_platform_fulfilled`` says so.

Exactly once: an :class:`~bridge.tables.OrderLink` (unique per shop and TikTok order) is claimed
with status ``creating`` *before* ``create_order``; the plugin's idempotent lookup (by the TikTok
order id the created order carries) covers a crash between create and record, and the claim
keeps two workers from both creating. An order another app already created is found and linked.

Lines are matched through the SKU links (TikTok SKU id, then seller SKU); an order with an
unmatched line is ``held`` with the reason and retried on every run until it goes through.
A TikTok cancellation cancels the eCommerce order; an eCommerce cancellation of a linked order
cancels it on TikTok where the plugin can, else it is reported.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import Rejected
from bridge.models import Address, Money, Order, OrderDraft, OrderLine
from bridge.sync import links
from bridge.sync.base import FlowContext, register_flow
from bridge.sync.options import shop_options
from bridge.tables import OrderLink, SkuLink, utcnow

TO_SHIP = ("awaiting_shipment", "awaiting_collection")
WAITING = ("unpaid", "on_hold")
OPEN = ("pending", "held", "creating")
RECENT = timedelta(days=30)


def _link_data(o: Order) -> dict[str, Any]:
    """What the tracking flow needs of a channel order: its packages, who issues its label."""
    return {"packages": o.package_ids, "label_by": o.shipping_label_by}


class OrdersRun:
    def __init__(self, ctx: FlowContext) -> None:
        assert ctx.channel is not None and ctx.ecommerce is not None
        self.ctx, self.channel, self.eco = ctx, ctx.channel, ctx.ecommerce
        self.options = shop_options(self.channel.options)
        self.source = ctx.pm.info(self.channel.platform).display_name
        self.seen: set[str] = set()

    def link(self, order_id: str) -> OrderLink | None:
        with db.session() as s:
            return s.exec(select(OrderLink).where(OrderLink.channel_store_id == self.channel.id,
                                                  OrderLink.channel_order_id == order_id)).first()

    def _new(self, o: Order, status: str, message: str | None = None) -> OrderLink | None:
        return links.insert_claimed(OrderLink(
            channel_store_id=self.channel.id, channel_order_id=o.remote_id,  # type: ignore[arg-type]
            ecommerce_store_id=self.eco.id, status=status, channel_status=o.status, message=message,
            data=_link_data(o)))

    # ------------------------------------------------------------------ channel orders

    def order(self, o: Order) -> None:
        self.seen.add(o.remote_id)
        ctx, link = self.ctx, self.link(o.remote_id)
        if o.status == "cancelled":
            self.channel_cancelled(o, link)
            return
        if link is not None and link.status in ("created", "recorded", "cancelled", "shipped"):
            return
        if o.status in WAITING or not o.released:
            why = "not paid yet" if o.status in WAITING else "TikTok has not released it yet"
            if link is None:
                ctx.decide("wait", o.remote_id, why=why)
                if not ctx.dry_run:
                    self._new(o, "pending", why)
            return
        if o.status not in TO_SHIP:
            return  # shipped or completed before bridge saw it: nothing to create
        if o.fulfilled_by == "platform" and not self.options.create_platform_fulfilled:
            ctx.decide("record", o.remote_id, why="fulfilled by TikTok: recorded, not created "
                       "(shop option orders.create_platform_fulfilled)")
            if not ctx.dry_run:
                if link is None:
                    self._new(o, "recorded", "fulfilled by TikTok")
                else:
                    links.save(link, status="recorded", message="fulfilled by TikTok")
                ctx.count("recorded")
            return
        lines, unmatched = self.match(o)
        if unmatched:
            why = (f"line(s) {', '.join(unmatched)} match no product linked to this shop: list or link "
                   "the product (`bridge sync products`), then `bridge sync orders` retries")
            ctx.decide("hold", o.remote_id, why=why)
            if not ctx.dry_run:
                if link is None:
                    link = self._new(o, "held", why)
                elif link.status != "held" or link.message != why:
                    link = links.save(link, status="held", message=why)
                ctx.fail(o.remote_id, Rejected(why, code="UNMATCHED_LINE"))
            return
        draft = self.draft(o, lines)
        ctx.decide("create", o.remote_id, why="paid, seller-shipped, released",
                   total=str(draft.total.amount), lines=[(ln.sku, ln.quantity) for ln in draft.lines])
        if ctx.dry_run:
            return
        if link is None:
            link = self._new(o, "pending")
            if link is None:
                ctx.count("skipped")  # another worker has just linked it
                return
        if not links.claim(OrderLink, link.id, owner_field="message"):  # type: ignore[arg-type]
            ctx.count("skipped")
            return
        with db.session() as s:
            row = s.get(OrderLink, link.id)
            assert row is not None
            row.attempts += 1
            s.add(row)
            link = row
        try:
            created = ctx.call(self.eco, "create_order", draft=draft)
        except Rejected as exc:
            links.save(link, status="held", message=str(exc))
            ctx.fail(o.remote_id, exc)
            return
        except BaseException:
            # outcome unknown: the plugin's idempotent create finds the order on the next run
            links.save(link, status="pending", message="interrupted while creating: retried")
            raise
        links.save(link, status="created", ecommerce_order_id=created.remote_id, channel_status=o.status,
                   message="found an existing order" if created.existed else None,
                   data={**_link_data(o), "number": created.number})
        ctx.count("linked" if created.existed else "created")
        journal.record("orders.linked" if created.existed else "orders.created",
                       f"TikTok order {o.remote_id} -> eCommerce order {created.number or created.remote_id}",
                       org_id=ctx.org_id, store_id=self.channel.id, flow="orders", item=o.remote_id,
                       data={"ecommerce_order_id": created.remote_id, "existed": created.existed})

    def match(self, o: Order) -> tuple[list[OrderLine], list[str]]:
        sku_ids = [ln.variant_id for ln in o.lines if ln.variant_id]
        sellers = [ln.sku for ln in o.lines if ln.sku]
        with db.session() as s:
            rows = list(s.exec(select(SkuLink).where(
                SkuLink.channel_store_id == self.channel.id,
                col(SkuLink.remote_sku_id).in_(sku_ids) | col(SkuLink.seller_sku).in_(sellers))))
        by_id = {r.remote_sku_id: r for r in rows}
        by_sku = {r.seller_sku: r for r in rows}
        out, missing = [], []
        for ln in o.lines:
            hit = by_id.get(ln.variant_id) or by_sku.get(ln.sku)  # type: ignore[arg-type]
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

    # ------------------------------------------------------------------ cancellations

    def channel_cancelled(self, o: Order, link: OrderLink | None) -> None:
        ctx = self.ctx
        if link is None or link.status in ("cancelled", "recorded"):
            return
        if link.status in ("pending", "held") or not link.ecommerce_order_id:
            found = (ctx.call(self.eco, "find_order", source_order_id=o.remote_id)
                     if link.status == "creating" and ctx.has(self.eco, "find_order") else None)
            if not found:
                ctx.decide("cancel", o.remote_id, why="cancelled on TikTok before it was created")
                if not ctx.dry_run:
                    links.save(link, status="cancelled", channel_status="cancelled", message=o.cancel_reason)
                return
            link.ecommerce_order_id = found
        ctx.decide("cancel", o.remote_id, why="cancelled on TikTok", ecommerce_order_id=link.ecommerce_order_id)
        if ctx.dry_run:
            return
        try:
            ctx.call(self.eco, "cancel_order", order_id=link.ecommerce_order_id,
                     reason=o.cancel_reason or "cancelled on TikTok Shop")
        except Rejected as exc:
            links.save(link, message=f"cancelled on TikTok, not in the store: {exc}")
            ctx.fail(o.remote_id, exc)
            return
        links.save(link, status="cancelled", channel_status="cancelled", message=o.cancel_reason)
        ctx.count("cancelled")

    def ecommerce_cancellations(self) -> None:
        """Linked orders cancelled in the eCommerce store are cancelled on TikTok."""
        with db.session() as s:
            open_links = list(s.exec(select(OrderLink).where(
                OrderLink.channel_store_id == self.channel.id, OrderLink.status == "created",
                col(OrderLink.ecommerce_order_id).is_not(None), OrderLink.created_at >= utcnow() - RECENT)))
        if not open_links or not self.ctx.has(self.eco, "get_orders"):
            return
        by_id = {ln.ecommerce_order_id: ln for ln in open_links}
        ids = list(by_id)
        for i in range(0, len(ids), 50):
            for eo in self.ctx.call(self.eco, "get_orders", order_ids=ids[i:i + 50]):
                if eo.status == "cancelled":
                    self.store_cancelled(by_id[eo.remote_id])

    def store_cancelled(self, link: OrderLink) -> None:
        ctx = self.ctx
        ctx.decide("cancel", link.channel_order_id, why="cancelled in the eCommerce store",
                   ecommerce_order_id=link.ecommerce_order_id)
        if ctx.dry_run:
            return
        if not ctx.has(self.channel, "cancel_order"):
            msg = ("cancelled in the eCommerce store; TikTok Shop's API cannot cancel it: cancel it in "
                   "Seller Center")
            links.save(link, status="cancelled", message=msg)
            journal.record("orders.cancel_reported", msg, org_id=ctx.org_id, store_id=self.channel.id,
                           flow="orders", item=link.channel_order_id, level="warning")
            return
        try:
            ctx.call(self.channel, "cancel_order", order_id=link.channel_order_id,
                     reason="cancelled by the seller")
        except Rejected as exc:
            links.save(link, status="cancelled", message=f"not cancelled on TikTok Shop: {exc}")
            ctx.fail(link.channel_order_id, exc)
            return
        links.save(link, status="cancelled", channel_status="cancelled", message="cancelled in the store")
        ctx.count("cancelled")


def orders_flow(ctx: FlowContext) -> None:
    run = OrdersRun(ctx)
    channel = run.channel
    if ctx.items is not None:
        for o in ctx.call(channel, "get_orders", order_ids=list(ctx.items)):
            run.order(o)
        return
    cursor = ctx.cursor(channel)
    for page in ctx.call(channel, "list_orders", cursor=cursor):
        for o in page.orders:
            run.order(o)
        if page.cursor:
            ctx.save_cursor(channel, page.cursor)
        if ctx.stopping():
            return
    with db.session() as s:
        retry = [ln.channel_order_id for ln in s.exec(select(OrderLink).where(
            OrderLink.channel_store_id == channel.id, col(OrderLink.status).in_(OPEN)).limit(200))
            if ln.channel_order_id not in run.seen]
    for i in range(0, len(retry), 50):
        for o in ctx.call(channel, "get_orders", order_ids=retry[i:i + 50]):
            run.order(o)
    run.ecommerce_cancellations()


register_flow("orders", orders_flow, interval_key="interval.orders",
              description="TikTok orders -> eCommerce orders (exactly once), cancellations both ways")

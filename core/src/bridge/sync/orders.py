"""Orders: TikTok shop -> the eCommerce store, exactly once; cancellations both ways.

Handed on: paid orders the seller ships (``awaiting_shipment``/``awaiting_collection``), once
TikTok releases them (``Order.released``). Orders TikTok fulfils itself are recorded (status
``recorded``), not created, unless the shop option ``orders.create_platform_fulfilled`` says so.

Exactly once: an :class:`~bridge.tables.OrderLink` (unique per shop and TikTok order) is claimed
with status ``creating`` *before* ``create_order``; the plugin's idempotent lookup (by the TikTok
order id the created order carries) covers a crash between create and record, and the claim
keeps two workers from both creating. An order another app already created is found and linked.

Lost answers (:class:`~bridge.errors.OutcomeUnknown`: the create may or may not have been made)
and crashed claims leave the link ``pending`` with ``data["unconfirmed_at"]``; the next attempt
waits out the store's lookup lag (:func:`lookup_lag`: the platform's declared
``PlatformInfo.lookup_lag`` or the store's ``lookup_lag`` setting) and then creates through the
plugin's find-before-create, so an order whose answer was lost is found, never made twice.
Claims start only from open statuses: a link another worker finished is never claimed again.

Lines are matched through the SKU links (TikTok SKU id, then seller SKU); an order with an
unmatched line is ``held`` with the reason and retried on every run until it goes through, and
so is an order bridge cannot read (an unknown status, a missing or malformed field): never
skipped. One order's transient failure fails that order, not the run (unless several orders in
a row fail so: the platform is down, and the scheduler backs off). Cancellations made in the
store are read from its change stream (a cursor): a run where nothing changed costs a request
or two.
A TikTok cancellation cancels the eCommerce order; an eCommerce cancellation of a linked order
cancels it on TikTok where the plugin can, else it is reported.

Decide (:class:`OrdersDecider`) turns each channel order and its link into actions
(:class:`WaitOrder`, :class:`RecordOrder`, :class:`HoldOrder`, :class:`CreateOrder`,
:class:`CancelStoreOrder`, :class:`CancelChannelOrder`); :class:`OrdersApplier` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import BridgeError, OutcomeUnknown, RateLimited, Rejected, Transient
from bridge.facade import StoreReader, StoreWriter
from bridge.models import Address, Money, Order, OrderDraft, OrderLine
from bridge.statuses import OrderStatus
from bridge.sync import links
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, SyncSink, register_flow
from bridge.sync.options import shop_options
from bridge.tables import OrderLink, SkuLink, Store, utcnow

TO_SHIP = ("awaiting_shipment", "awaiting_collection")
WAITING = ("unpaid", "on_hold")
OPEN = (OrderStatus.PENDING, OrderStatus.HELD, OrderStatus.CREATING)
DONE = (OrderStatus.CREATED, OrderStatus.RECORDED, OrderStatus.CANCELLED, OrderStatus.SHIPPED)
#: Statuses a creation may be claimed from (never a done order).
CLAIMABLE = (OrderStatus.PENDING, OrderStatus.HELD)
RECENT = timedelta(days=30)
#: Channel statuses after shipment: nothing to create (shipped before bridge saw the order).
SHIPPED = ("in_transit", "delivered", "completed", "refunded")
#: What bridge cannot read in a record: held with the reason, never skipped.
BAD_DATA = (TypeError, ValueError, KeyError, AttributeError, ArithmeticError)


def lookup_lag(ctx: Any, store: Store) -> float:
    """Seconds the store's lookup by bridge's key may lag a write: its ``lookup_lag`` setting,
    else what the platform declares (``PlatformInfo.lookup_lag``)."""
    setting = (store.settings or {}).get("lookup_lag")
    if setting not in (None, ""):
        return float(setting)
    return float(getattr(ctx.pm.info(store.platform), "lookup_lag", 0.0) or 0.0)


def _stamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=utcnow().tzinfo)
    if isinstance(value, str) and value:
        try:
            return _stamp(datetime.fromisoformat(value))
        except ValueError:
            return None
    return None


def _link_data(o: Order) -> dict[str, Any]:
    """What the tracking flow needs of a channel order: its packages, who issues its label."""
    return {"packages": o.package_ids, "label_by": o.shipping_label_by}


# ============================================================================ actions


@dataclass(frozen=True, kw_only=True)
class WaitOrder(Action):
    """Not paid or not released yet: remembered as ``pending``."""

    kind = "wait"
    order: Order


@dataclass(frozen=True, kw_only=True)
class RecordOrder(Action):
    """Fulfilled by the channel: recorded, not created."""

    kind = "record"
    order: Order
    link: OrderLink | None


@dataclass(frozen=True, kw_only=True)
class HoldOrder(Action):
    """A line matches no linked product: held with the reason (an item failure each run)."""

    kind = "hold"
    order: Order
    link: OrderLink | None
    code: str = "UNMATCHED_LINE"

    def failure(self) -> BridgeError:
        return Rejected(self.why, code=self.code)


@dataclass(frozen=True, kw_only=True)
class HoldUnreadable(Action):
    """A channel order the plugin could not read: held with the reason, retried each run."""

    kind = "hold"
    link: OrderLink | None

    def failure(self) -> BridgeError:
        return Rejected(self.why, code="UNREADABLE")


@dataclass(frozen=True, kw_only=True)
class CreateOrder(Action):
    """Create the order in the eCommerce store (claimed first, exactly once)."""

    kind = "create"
    order: Order
    draft: OrderDraft
    link: OrderLink | None

    def details(self) -> dict[str, Any]:
        return {"total": str(self.draft.total.amount),
                "lines": [(ln.sku, ln.quantity) for ln in self.draft.lines]}


@dataclass(frozen=True, kw_only=True)
class CancelStoreOrder(Action):
    """Cancelled on the channel: cancel the eCommerce order (none yet: just mark the link)."""

    kind = "cancel"
    link: OrderLink
    ecommerce_order_id: str | None
    reason: str | None

    def details(self) -> dict[str, Any]:
        return {"ecommerce_order_id": self.ecommerce_order_id} if self.ecommerce_order_id else {}


@dataclass(frozen=True, kw_only=True)
class CancelChannelOrder(Action):
    """Cancelled in the eCommerce store: cancel it on the channel (or report that it cannot)."""

    kind = "cancel"
    link: OrderLink

    def details(self) -> dict[str, Any]:
        return {"ecommerce_order_id": self.link.ecommerce_order_id}


# ============================================================================ decide


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


# ============================================================================ apply


class OrdersApplier(Applier):
    """Writes the orders flow's actions."""

    def __init__(self, ctx: FlowContext, sink: SyncSink) -> None:
        super().__init__(ctx, sink)
        assert ctx.channel is not None and ctx.ecommerce is not None
        self.channel_store = ctx.channel
        self.eco_store = ctx.ecommerce
        self.channel: StoreWriter = sink.writer(ctx.channel)
        self.eco: StoreWriter = sink.writer(ctx.ecommerce)
        self.lag = lookup_lag(ctx, ctx.ecommerce)

    def _new(self, o: Order, status: str, message: str | None = None) -> OrderLink | None:
        assert self.channel_store.id is not None
        return links.insert_claimed(OrderLink(
            channel_store_id=self.channel_store.id, channel_order_id=o.remote_id,
            ecommerce_store_id=self.eco_store.id, status=status, channel_status=o.status, message=message,
            data=_link_data(o)))

    @applies(WaitOrder)
    def wait(self, a: WaitOrder) -> None:
        self._new(a.order, OrderStatus.PENDING, a.why)

    @applies(RecordOrder)
    def record(self, a: RecordOrder) -> None:
        if a.link is None:
            self._new(a.order, OrderStatus.RECORDED, "fulfilled by TikTok")
        else:
            links.save(a.link, status=OrderStatus.RECORDED, message="fulfilled by TikTok")
        self.ctx.count("recorded")

    @applies(HoldOrder)
    def hold(self, a: HoldOrder) -> None:
        if a.link is None:
            self._new(a.order, OrderStatus.HELD, a.why)
        elif a.link.status != OrderStatus.HELD or a.link.message != a.why:
            links.save(a.link, status=OrderStatus.HELD, message=a.why)
        self.ctx.fail(a.item, a.failure())

    @applies(HoldUnreadable)
    def hold_unreadable(self, a: HoldUnreadable) -> None:
        why = a.why[:1000]
        if a.link is None:
            assert self.channel_store.id is not None
            links.insert_claimed(OrderLink(channel_store_id=self.channel_store.id, channel_order_id=a.item,
                                           ecommerce_store_id=self.eco_store.id, status=OrderStatus.HELD,
                                           message=why))
        elif a.link.status != OrderStatus.HELD or a.link.message != why:
            links.save(a.link, status=OrderStatus.HELD, message=why)
        self.ctx.fail(a.item, a.failure())

    @applies(CreateOrder)
    def create(self, a: CreateOrder) -> None:
        ctx, o = self.ctx, a.order
        link = a.link
        if link is None:
            link = self._new(o, OrderStatus.PENDING)
            if link is None:
                ctx.count("skipped")  # another worker has just linked it
                return
        assert link.id is not None
        crashed = link.status == OrderStatus.CREATING  # a dead or stale worker's claim: outcome unknown
        crash_stamp = _stamp(link.updated_at)
        if not links.claim(OrderLink, link.id, claimable=CLAIMABLE):
            ctx.count("skipped")
            return
        with db.session() as s:
            row = s.get(OrderLink, link.id)
            assert row is not None
            row.attempts += 1
            if crashed and crash_stamp and not (row.data or {}).get("unconfirmed_at"):
                row.data = {**(row.data or {}), "unconfirmed_at": crash_stamp.isoformat()}
            s.add(row)
            link = row
        if self.wait_for_lookup(o, link):
            return
        try:
            created = self.eco.create_order(a.draft)
        except Rejected as exc:
            links.save(link, status=OrderStatus.HELD, message=str(exc))
            ctx.fail(o.remote_id, exc)
            return
        except OutcomeUnknown as exc:
            self.unconfirmed(o, link, exc)
            return
        except RateLimited:
            links.save(link, status=OrderStatus.PENDING, message="rate limited while creating: retried")
            raise
        except Transient as exc:
            links.save(link, status=OrderStatus.PENDING, message=f"not created yet: {exc}")
            ctx.transient(o.remote_id, exc)
            return
        except BaseException:
            # outcome unknown: looked up (after the lookup lag) before the next attempt writes
            links.save(link, status=OrderStatus.PENDING, message="interrupted while creating: looked up next time",
                       data={**(link.data or {}), "unconfirmed_at": utcnow().isoformat()})
            raise
        ctx.transient_streak = 0
        confirmed = {"confirmed_after_lost_answer": True} if (link.data or {}).get("unconfirmed_at") else {}
        links.save(link, status=OrderStatus.CREATED, ecommerce_order_id=created.remote_id, channel_status=o.status,
                   message="found an existing order" if created.existed else None,
                   data={**_link_data(o), "number": created.number, **confirmed})
        ctx.count("linked" if created.existed else "created")
        journal.record("orders.linked" if created.existed else "orders.created",
                       f"TikTok order {o.remote_id} -> eCommerce order {created.number or created.remote_id}",
                       org_id=ctx.org_id, store_id=self.channel_store.id, flow="orders", item=o.remote_id,
                       data={"ecommerce_order_id": created.remote_id, "existed": created.existed})

    def wait_for_lookup(self, o: Order, link: OrderLink) -> bool:
        """True (and the claim given back) while an earlier attempt's unknown outcome cannot be
        confirmed yet because the store's lookup may still lag behind it."""
        since = _stamp((link.data or {}).get("unconfirmed_at"))
        if since is None or not self.lag:
            return False
        left = (since + timedelta(seconds=self.lag) - utcnow()).total_seconds()
        if left <= 0:
            return False
        why = (f"an earlier attempt's answer was lost: the store's order lookup may lag {self.lag:g}s, "
               f"so it is looked up in {left:.1f}s and created only if not found")
        links.save(link, status=OrderStatus.PENDING, message=why)
        self.ctx.count("unconfirmed")
        journal.record("orders.unconfirmed", why, org_id=self.ctx.org_id, store_id=self.channel_store.id,
                       flow="orders", item=o.remote_id, level="warning")
        return True

    def unconfirmed(self, o: Order, link: OrderLink, exc: OutcomeUnknown) -> None:
        """The create may have been made: looked up (after the lag) before any new write."""
        why = f"the answer to creating it was lost ({exc}): looked up before it is created again"
        links.save(link, status=OrderStatus.PENDING, message=why,
                   data={**(link.data or {}), "unconfirmed_at": utcnow().isoformat()})
        self.ctx.count("unconfirmed")
        journal.record("orders.unconfirmed", why, org_id=self.ctx.org_id, store_id=self.channel_store.id,
                       flow="orders", item=o.remote_id, level="warning")
        self.ctx.transient(o.remote_id, exc, failed=False)

    @applies(CancelStoreOrder)
    def cancel_in_store(self, a: CancelStoreOrder) -> None:
        if a.ecommerce_order_id is None:
            links.save(a.link, status=OrderStatus.CANCELLED, channel_status=OrderStatus.CANCELLED, message=a.reason)
            return
        try:
            self.eco.cancel_order(a.ecommerce_order_id, a.reason or "cancelled on TikTok Shop")
        except Rejected as exc:
            links.save(a.link, ecommerce_order_id=a.ecommerce_order_id,
                       message=f"cancelled on TikTok, not in the store: {exc}")
            self.ctx.fail(a.item, exc)
            return
        links.save(a.link, status=OrderStatus.CANCELLED, channel_status=OrderStatus.CANCELLED, message=a.reason,
                   ecommerce_order_id=a.ecommerce_order_id)
        self.ctx.count("cancelled")

    @applies(CancelChannelOrder)
    def cancel_on_channel(self, a: CancelChannelOrder) -> None:
        ctx, link = self.ctx, a.link
        if not self.channel.has("cancel_order"):
            msg = ("cancelled in the eCommerce store; TikTok Shop's API cannot cancel it: cancel it in "
                   "Seller Center")
            links.save(link, status=OrderStatus.CANCELLED, message=msg)
            journal.record("orders.cancel_reported", msg, org_id=ctx.org_id, store_id=self.channel_store.id,
                           flow="orders", item=link.channel_order_id, level="warning")
            return
        try:
            self.channel.cancel_order(link.channel_order_id, "cancelled by the seller")
        except Rejected as exc:
            links.save(link, status=OrderStatus.CANCELLED, message=f"not cancelled on TikTok Shop: {exc}")
            ctx.fail(link.channel_order_id, exc)
            return
        links.save(link, status=OrderStatus.CANCELLED, channel_status=OrderStatus.CANCELLED, message="cancelled in the store")
        ctx.count("cancelled")


# ============================================================================ the flow


def _retry_ids(ctx: FlowContext, channel: Store, seen: set[str]) -> list[str]:
    """Open orders (pending, held, creating) the stream did not show."""
    with db.session() as s:
        return [ln.channel_order_id for ln in s.exec(select(OrderLink).where(
            OrderLink.channel_store_id == channel.id, col(OrderLink.status).in_(OPEN)).limit(200))
            if ln.channel_order_id not in seen]


def orders_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    decider = OrdersDecider(ctx, ctx.channel, ctx.ecommerce)
    channel: StoreReader = decider.channel
    if ctx.items is not None:
        for o in channel.get_orders(list(ctx.items)):
            ctx.act(decider.decide(o))
        return
    for page in channel.list_orders(ctx.cursor(ctx.channel)):
        for o in page.orders:
            ctx.act(decider.decide(o))
        for remote_id, why in page.unreadable.items():
            ctx.act(decider.unreadable(remote_id, why))
        if page.cursor:
            ctx.checkpoint(ctx.channel, page.cursor)
        if ctx.stopping():
            return
    retry = _retry_ids(ctx, ctx.channel, decider.seen)
    for i in range(0, len(retry), 50):
        for o in channel.get_orders(retry[i:i + 50]):
            ctx.act(decider.decide(o))
    ctx.act(decider.ecommerce_cancellations())


register_flow("orders", orders_flow, interval_key="interval.orders", applier=OrdersApplier,
              description="TikTok orders -> eCommerce orders (exactly once), cancellations both ways")

"""The orders flow's writes: :class:`OrdersApplier`, one method per action of
:mod:`bridge.sync.orders.actions`; a creation claimed first, a lost answer waited out for the
store's lookup lag (:func:`lookup_lag`) before it is looked up and created only if not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bridge import db, journal
from bridge.errors import OutcomeUnknown, RateLimited, Rejected, Transient
from bridge.facade import StoreWriter
from bridge.models import CreatedOrder, Money, Order, OrderDraft, OrderLine
from bridge.statuses import OrderStatus
from bridge.sync import links
from bridge.sync.actions import Applier, applies
from bridge.sync.base import FlowContext, SyncSink
from bridge.sync.orders.actions import (
    CancelChannelOrder,
    CancelStoreOrder,
    CreateOrder,
    HoldOrder,
    HoldUnreadable,
    RecordOrder,
    WaitOrder,
)
from bridge.tables import OrderLink, Store, utcnow

#: Statuses a creation may be claimed from (never a done order).
CLAIMABLE = (OrderStatus.PENDING, OrderStatus.HELD)


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


def _money(m: Money | None) -> str | None:
    return None if m is None else str(m.amount)


def _lines(lines: list[OrderLine]) -> list[dict[str, Any]]:
    """Order lines as the order page shows them: one per SKU, title and unit price (TikTok has
    one line per unit), with their quantities."""
    out: dict[tuple[str | None, str | None, str], dict[str, Any]] = {}
    for ln in lines:
        key = (ln.variant_id, ln.sku, str(ln.unit_price.amount))
        row = out.setdefault(key, {"sku": ln.sku, "variant_id": ln.variant_id, "product_id": ln.product_id,
                                   "title": ln.title, "unit_price": str(ln.unit_price.amount),
                                   "quantity": 0, "cancelled": 0})
        row["quantity"] += ln.quantity
        row["cancelled"] += ln.cancelled_quantity
    return list(out.values())


def _link_data(o: Order) -> dict[str, Any]:
    """What the tracking flow needs of a channel order (its packages, who issues its label) and
    what the order page shows of it: its lines and the buyer's totals."""
    return {"packages": o.package_ids, "label_by": o.shipping_label_by,
            "channel": {"number": o.number, "currency": o.currency, "lines": _lines(o.lines),
                        "subtotal": _money(o.subtotal), "shipping": _money(o.shipping),
                        "tax": _money(o.tax), "total": _money(o.total)}}


def _skus(o: Order) -> str:
    """The order's seller SKUs for :attr:`OrderLink.skus` (`` A-1 B-2 ``)."""
    skus = sorted({ln.sku for ln in o.lines if ln.sku})
    return f" {' '.join(skus)} " if skus else ""


def _store_data(draft: OrderDraft, created: CreatedOrder) -> dict[str, Any]:
    """The store's side for the order page: the lines, prices and totals it was created with,
    and its admin page."""
    return {"currency": draft.currency, "lines": _lines(draft.lines), "shipping": _money(draft.shipping),
            "tax": _money(draft.tax), "total": _money(draft.total), "admin_url": created.admin_url}


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

    def _new(self, item: str, status: str, message: str | None = None,
             order: Order | None = None) -> OrderLink | None:
        """A new link, inserted claimed (None when another worker has just linked the order);
        with what the tracking flow needs when the channel order could be read."""
        assert self.channel_store.id is not None
        link = OrderLink(channel_store_id=self.channel_store.id, channel_order_id=item,
                         ecommerce_store_id=self.eco_store.id, status=status, message=message)
        if order is not None:
            link.channel_status, link.data, link.skus = order.status, _link_data(order), _skus(order)
        return links.insert_claimed(link)

    @applies(WaitOrder)
    def wait(self, a: WaitOrder) -> None:
        self._new(a.item, OrderStatus.PENDING, a.why, a.order)

    @applies(RecordOrder)
    def record(self, a: RecordOrder) -> None:
        if a.link is None:
            self._new(a.item, OrderStatus.RECORDED, "fulfilled by TikTok", a.order)
        else:
            links.save(a.link, status=OrderStatus.RECORDED, message="fulfilled by TikTok")
        self.ctx.count("recorded")

    @applies(HoldOrder)
    def hold(self, a: HoldOrder) -> None:
        self._hold(a, a.why, a.order)

    @applies(HoldUnreadable)
    def hold_unreadable(self, a: HoldUnreadable) -> None:
        self._hold(a, a.why[:1000], None)

    def _hold(self, a: HoldOrder | HoldUnreadable, why: str, order: Order | None) -> None:
        """Held with the reason (the link written only when that changes); an item failure."""
        if a.link is None:
            self._new(a.item, OrderStatus.HELD, why, order)
        elif a.link.status != OrderStatus.HELD or a.link.message != why:
            links.save(a.link, status=OrderStatus.HELD, message=why)
        self.ctx.fail(a.item, a.failure())

    @applies(CreateOrder)
    def create(self, a: CreateOrder) -> None:
        ctx, o = self.ctx, a.order
        link = a.link
        if link is None:
            link = self._new(o.remote_id, OrderStatus.PENDING, order=o)
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
                   ecommerce_order_number=created.number, skus=_skus(o),
                   message="found an existing order" if created.existed else None,
                   data={**_link_data(o), "number": created.number, "store": _store_data(a.draft, created),
                         **confirmed})
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

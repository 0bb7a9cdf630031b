"""Tracking: fulfilments in the eCommerce store -> TikTok packages, once per package.

For each linked order (status ``created``), ``list_fulfillments`` on the eCommerce store gives
the tracking numbers; each new (package, tracking number) is pushed with ``push_tracking`` once,
recorded in :class:`~bridge.tables.TrackingPushRecord` (unique per order link, package and
number) before the call, so a retry never pushes twice (the plugin's push is idempotent too).

The carrier becomes a TikTok shipping provider through the organization's
:class:`~bridge.tables.CarrierMapping` (``bridge map carrier NAME PROVIDER_ID``); without one the
provider is left empty and the channel plugin matches the carrier by name, raising ``Rejected``
when it cannot: the push is then ``held`` with that message and pushed again once a mapping
exists or the store's carrier changes. A fulfilment with a tracking number but no carrier is held
saying so (set the carrier in the store); nothing is claimed or pushed for it until then. A store that cannot report tracking at all (``Misconfigured``, e.g. WooCommerce without a
tracking plugin) holds every order's push with that message — never a silent no-op.
Once every package of an order has its tracking, the order link becomes ``shipped``.

A push whose answer was lost (:class:`~bridge.errors.OutcomeUnknown`) stays ``pending`` and is
confirmed on the next run: the channel plugin reads the package first and records the push as
done when the channel has that number (never sent twice, never a false hold). One order's
transient failure fails that order, not the run.

Decide: :class:`PushTracking`, :class:`HoldTracking`, :class:`ShippedByChannel`,
:class:`MarkShipped`; :class:`TrackingApplier` writes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import (
    BridgeError,
    Misconfigured,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from bridge.models import Fulfillment, TrackingPush
from bridge.statuses import OrderStatus, PushStatus
from bridge.sync import links
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, SyncSink, register_flow
from bridge.tables import CarrierMapping, OrderLink, TrackingPushRecord

BATCH = 50
DEAD = ("cancelled", "failure", "error")


# ============================================================================ actions


@dataclass(frozen=True, kw_only=True)
class PushTracking(Action):
    """Give a package its tracking number (recorded before the call: once per package)."""

    kind = "push"
    link: OrderLink
    record: TrackingPushRecord | None
    tracking_number: str
    carrier: str
    provider_id: str
    package: str
    fulfillment_id: str
    packages: tuple[str, ...]
    """Every package of the order: once all have a pushed number, the order is shipped."""

    def details(self) -> dict[str, Any]:
        return {"tracking_number": self.tracking_number, "package": self.package,
                "provider_id": self.provider_id or None}


@dataclass(frozen=True, kw_only=True)
class HoldTracking(Action):
    """The store cannot report tracking at all: the order's push is held with the reason."""

    kind = "hold"
    link: OrderLink

    def failure(self) -> BridgeError:
        return Misconfigured(self.why)


@dataclass(frozen=True, kw_only=True)
class CarrierMissing(Action):
    """A fulfilment has a tracking number but no carrier (and no mapping can apply to none):
    held with the reason until the merchant sets the carrier in the store."""

    kind = "hold"
    link: OrderLink

    def failure(self) -> BridgeError:
        return Rejected(self.why, code="NO_CARRIER", item=self.item)


@dataclass(frozen=True, kw_only=True)
class ShippedByChannel(Action):
    """The channel issued the label and has the tracking: shipped, nothing pushed."""

    kind = "skip"
    link: OrderLink


@dataclass(frozen=True, kw_only=True)
class MarkShipped(Action):
    """Every package already has its tracking on the channel: the order is shipped."""

    kind = "shipped"
    link: OrderLink


# ============================================================================ decide


def _carriers(org_id: int) -> dict[str, CarrierMapping]:
    with db.session() as s:
        return {c.carrier.lower(): c for c in s.exec(select(CarrierMapping).where(CarrierMapping.org_id == org_id))}


def _records(link_id: int | None) -> dict[tuple[str, str], TrackingPushRecord]:
    with db.session() as s:
        rows = s.exec(select(TrackingPushRecord).where(TrackingPushRecord.order_link_id == link_id))
        return {(r.package_key, r.tracking_number): r for r in rows}


def _open_links(ctx: FlowContext, after: int) -> list[OrderLink]:
    assert ctx.channel is not None
    q = select(OrderLink).where(OrderLink.channel_store_id == ctx.channel.id, OrderLink.status == OrderStatus.CREATED,
                                col(OrderLink.ecommerce_order_id).is_not(None), col(OrderLink.id) > after)
    if ctx.items is not None:
        q = q.where(col(OrderLink.ecommerce_order_id).in_(ctx.items) | col(OrderLink.channel_order_id).in_(ctx.items))
    with db.session() as s:
        return list(s.exec(q.order_by(col(OrderLink.id)).limit(BATCH)))


def _numbers(fulfillments: list[Fulfillment]) -> list[tuple[str, str, str]]:
    """(number, carrier, fulfilment id) of the live fulfilments, first seen first."""
    numbers: list[tuple[str, str, str]] = []
    for f in sorted(fulfillments, key=lambda f: (f.created_at is None, f.created_at, f.remote_id)):
        if f.status in DEAD:
            continue
        for t in f.tracking:
            if t.number and t.number not in {n for n, _, _ in numbers}:
                numbers.append((t.number, t.carrier, f.remote_id))
    return numbers


def decide_order(ctx: FlowContext, link: OrderLink, fulfillments: list[Fulfillment],
                 carriers: dict[str, CarrierMapping]) -> list[Action]:
    """What one linked order's fulfilments need on the channel."""
    if (link.data or {}).get("label_by") == "platform":
        if not any(f.status not in DEAD for f in fulfillments):
            return []
        ctx.note("label_by_channel")
        return [ShippedByChannel(item=link.channel_order_id, link=link, why=(
            "the channel issued this order's shipping label and has its tracking: nothing to push"))]
    packages: list[str] = list((link.data or {}).get("packages") or [])
    done = _records(link.id)
    numbers = _numbers(fulfillments)
    out: list[Action] = []
    for k, (number, carrier, fid) in enumerate(numbers):
        package = packages[min(k, len(packages) - 1)] if packages else ""
        rec = done.get((package, number))
        mapping = carriers.get(carrier.lower())
        provider = mapping.provider_id if mapping else ""
        if rec is not None and (rec.status == PushStatus.PUSHED or (
                rec.status == PushStatus.HELD and (rec.provider_id or "") == provider and (rec.carrier or "") == carrier)):
            ctx.note("unchanged" if rec.status == PushStatus.PUSHED else "held")
            continue
        if not carrier.strip() and not provider:
            out.append(CarrierMissing(item=link.channel_order_id, link=link, why=(
                f"fulfilment {fid} of store order {link.ecommerce_order_id} has tracking number {number} "
                "but no carrier: set the carrier on the fulfilment in the store; bridge pushes it on the next run")))
            continue
        why = (f"carrier '{carrier}' -> provider {provider} (carrier mapping)" if mapping
               else f"carrier '{carrier}' matched by name on the channel")
        out.append(PushTracking(item=link.channel_order_id, why=why, link=link, record=rec,
                                tracking_number=number, carrier=carrier, provider_id=provider,
                                package=package, fulfillment_id=fid, packages=tuple(packages or [""])))
    pushed = {r.package_key for r in done.values() if r.status == PushStatus.PUSHED}
    if not out and numbers and all(p in pushed for p in (packages or [""])):
        out.append(MarkShipped(item=link.channel_order_id, link=link, why="every package has its tracking"))
    return out


def tracking_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    eco = ctx.reader(ctx.ecommerce)
    carriers = _carriers(ctx.org_id)
    after = 0
    while True:
        batch = _open_links(ctx, after)
        if not batch:
            return
        after = batch[-1].id or after
        try:
            fulfillments = eco.list_fulfillments([ln.ecommerce_order_id or "" for ln in batch])
        except Misconfigured as exc:
            msg = f"tracking cannot be read from the eCommerce store: {exc}"
            ctx.act([HoldTracking(item=ln.channel_order_id, why=msg, link=ln) for ln in batch])
            return
        by_order: dict[str, list[Fulfillment]] = {}
        for f in fulfillments:
            by_order.setdefault(f.order_id, []).append(f)
        for link in batch:
            ctx.act(decide_order(ctx, link, by_order.get(link.ecommerce_order_id or "", []), carriers))
            if ctx.stopping():
                return


# ============================================================================ apply


class TrackingApplier(Applier):
    """Writes the tracking flow's actions."""

    def __init__(self, ctx: FlowContext, sink: SyncSink) -> None:
        super().__init__(ctx, sink)
        assert ctx.channel is not None
        self.channel_store_id = ctx.channel.id
        self.channel = sink.writer(ctx.channel)

    @applies(HoldTracking)
    def hold(self, a: HoldTracking) -> None:
        if a.link.message != a.why:
            links.save(a.link, message=a.why)
        self.ctx.fail(a.item, a.failure())

    @applies(CarrierMissing)
    def carrier_missing(self, a: CarrierMissing) -> None:
        if a.link.message != a.why:
            links.save(a.link, message=a.why)
        self.ctx.fail(a.item, a.failure())

    @applies(ShippedByChannel)
    def shipped_by_channel(self, a: ShippedByChannel) -> None:
        links.save(a.link, status=OrderStatus.SHIPPED, message=a.why)

    @applies(MarkShipped)
    def mark_shipped(self, a: MarkShipped) -> None:
        links.save(a.link, status=OrderStatus.SHIPPED)

    @applies(PushTracking)
    def push(self, a: PushTracking) -> None:
        rec = a.record
        if rec is None:
            rec = links.insert_claimed(TrackingPushRecord(
                order_link_id=a.link.id or 0, package_key=a.package, tracking_number=a.tracking_number,
                carrier=a.carrier, provider_id=a.provider_id or None, fulfillment_id=a.fulfillment_id))
            if rec is None:
                return  # another worker is pushing it
        push = TrackingPush(order_id=a.link.channel_order_id, package_id=a.package or None,
                            tracking_number=a.tracking_number, provider_id=a.provider_id, carrier=a.carrier)
        try:
            result = self.channel.push_tracking(push)
        except OutcomeUnknown as exc:
            links.save(rec, status=PushStatus.PENDING, provider_id=a.provider_id or None,
                       message=f"the answer was lost ({exc}): confirmed on the channel next run")
            self.ctx.count("unconfirmed")
            self.ctx.transient(a.item, exc, failed=False)
            return
        except RateLimited:
            links.save(rec, status=PushStatus.PENDING, message="rate limited: pushed on the next run")
            raise
        except Transient as exc:
            links.save(rec, status=PushStatus.PENDING, message=f"not pushed yet: {exc}")
            self.ctx.transient(a.item, exc)
            return
        except Rejected as exc:
            msg = f"{exc}: map the carrier with `bridge map carrier \"{a.carrier}\" PROVIDER_ID`"
            links.save(rec, status=PushStatus.HELD, message=msg, provider_id=a.provider_id or None, carrier=a.carrier)
            self.ctx.fail(a.item, Rejected(msg, code=exc.code))
            return
        self.ctx.transient_streak = 0
        links.save(rec, status=PushStatus.PUSHED, message=None if result.pushed else "already on TikTok",
                   provider_id=a.provider_id or None, carrier=a.carrier)
        self.ctx.count("pushed")
        journal.record("tracking.pushed", f"{a.tracking_number} ({a.carrier}) -> package {a.package or '-'}",
                       org_id=self.ctx.org_id, store_id=self.channel_store_id, flow="tracking",
                       item=a.item, data={"tracking_number": a.tracking_number})
        pushed = {r.package_key for r in _records(a.link.id).values() if r.status == PushStatus.PUSHED}
        if all(p in pushed for p in a.packages):
            links.save(a.link, status=OrderStatus.SHIPPED)


register_flow("tracking", tracking_flow, interval_key="interval.tracking", applier=TrackingApplier,
              description="eCommerce fulfilments -> TikTok tracking, once per package")

"""Tracking: fulfilments in the eCommerce store -> TikTok packages, once per package.

For each linked order (status ``created``), ``list_fulfillments`` on the eCommerce store gives
the tracking numbers; each new (package, tracking number) is pushed with ``push_tracking`` once,
recorded in :class:`~bridge.tables.TrackingPushRecord` (unique per order link, package and
number) before the call, so a retry never pushes twice (the plugin's push is idempotent too).

The carrier becomes a TikTok shipping provider through the organization's
:class:`~bridge.tables.CarrierMapping` (``bridge map carrier NAME PROVIDER_ID``); without one the
provider is left empty and the channel plugin matches the carrier by name, raising ``Rejected``
when it cannot: the push is then ``held`` with that message and pushed again once a mapping
exists. A store that cannot report tracking at all (``Misconfigured``, e.g. WooCommerce without a
tracking plugin) holds every order's push with that message — never a silent no-op.
Once every package of an order has its tracking, the order link becomes ``shipped``.
"""

from __future__ import annotations

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import Misconfigured, Rejected
from bridge.models import Fulfillment, TrackingPush
from bridge.sync import links
from bridge.sync.base import FlowContext, register_flow
from bridge.tables import CarrierMapping, OrderLink, TrackingPushRecord

BATCH = 50


def _carriers(org_id: int) -> dict[str, CarrierMapping]:
    with db.session() as s:
        return {c.carrier.lower(): c for c in s.exec(select(CarrierMapping).where(CarrierMapping.org_id == org_id))}


def _records(link_id: int) -> dict[tuple[str, str], TrackingPushRecord]:
    with db.session() as s:
        rows = s.exec(select(TrackingPushRecord).where(TrackingPushRecord.order_link_id == link_id))
        return {(r.package_key, r.tracking_number): r for r in rows}


def _open_links(ctx: FlowContext, after: int) -> list[OrderLink]:
    assert ctx.channel is not None
    q = select(OrderLink).where(OrderLink.channel_store_id == ctx.channel.id, OrderLink.status == "created",
                                col(OrderLink.ecommerce_order_id).is_not(None), col(OrderLink.id) > after)
    if ctx.items is not None:
        q = q.where(col(OrderLink.ecommerce_order_id).in_(ctx.items) | col(OrderLink.channel_order_id).in_(ctx.items))
    with db.session() as s:
        return list(s.exec(q.order_by(col(OrderLink.id)).limit(BATCH)))


def tracking_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    carriers = _carriers(ctx.org_id)
    after = 0
    while True:
        batch = _open_links(ctx, after)
        if not batch:
            return
        after = batch[-1].id  # type: ignore[assignment]
        try:
            fulfillments = ctx.call(ctx.ecommerce, "list_fulfillments",
                                    order_ids=[ln.ecommerce_order_id for ln in batch])
        except Misconfigured as exc:
            _hold_all(ctx, batch, exc)
            return
        by_order: dict[str, list[Fulfillment]] = {}
        for f in fulfillments:
            by_order.setdefault(f.order_id, []).append(f)
        for link in batch:
            _order(ctx, link, by_order.get(link.ecommerce_order_id or "", []), carriers)
            if ctx.stopping():
                return


def _hold_all(ctx: FlowContext, batch: list[OrderLink], exc: Misconfigured) -> None:
    msg = f"tracking cannot be read from the eCommerce store: {exc}"
    for link in batch:
        ctx.decide("hold", link.channel_order_id, why=msg)
        if not ctx.dry_run:
            if link.message != msg:
                links.save(link, message=msg)
            ctx.fail(link.channel_order_id, Misconfigured(msg))


def _order(ctx: FlowContext, link: OrderLink, fulfillments: list[Fulfillment],
           carriers: dict[str, CarrierMapping]) -> None:
    assert ctx.channel is not None
    if (link.data or {}).get("label_by") == "platform":
        _platform_label(ctx, link, fulfillments)
        return
    packages: list[str] = list((link.data or {}).get("packages") or [])
    done = _records(link.id)  # type: ignore[arg-type]
    numbers: list[tuple[str, str, str]] = []  # (number, carrier, fulfilment id), first seen first
    for f in sorted(fulfillments, key=lambda f: (f.created_at is None, f.created_at, f.remote_id)):
        if f.status in ("cancelled", "failure", "error"):
            continue
        for t in f.tracking:
            if t.number and t.number not in {n for n, _, _ in numbers}:
                numbers.append((t.number, t.carrier, f.remote_id))
    pushed_packages = {r.package_key for r in done.values() if r.status == "pushed"}
    for k, (number, carrier, fid) in enumerate(numbers):
        package = packages[min(k, len(packages) - 1)] if packages else ""
        rec = done.get((package, number))
        mapping = carriers.get(carrier.lower())
        provider = mapping.provider_id if mapping else ""
        if rec is not None and (rec.status == "pushed" or (rec.status == "held" and (rec.provider_id or "") == provider)):
            ctx.count("unchanged" if rec.status == "pushed" else "held")
            continue
        why = (f"carrier '{carrier}' -> provider {provider} (carrier mapping)" if mapping
               else f"carrier '{carrier}' matched by name on the channel")
        ctx.decide("push", link.channel_order_id, why=why, tracking_number=number, package=package,
                   provider_id=provider or None)
        if ctx.dry_run:
            continue
        if rec is None:
            rec = links.insert_claimed(TrackingPushRecord(
                order_link_id=link.id, package_key=package, tracking_number=number,  # type: ignore[arg-type]
                carrier=carrier, provider_id=provider or None, fulfillment_id=fid))
            if rec is None:
                continue  # another worker is pushing it
        push = TrackingPush(order_id=link.channel_order_id, package_id=package or None,
                            tracking_number=number, provider_id=provider, carrier=carrier)
        try:
            result = ctx.call(ctx.channel, "push_tracking", push=push)
        except Rejected as exc:
            msg = f"{exc}: map the carrier with `bridge map carrier \"{carrier}\" PROVIDER_ID`"
            links.save(rec, status="held", message=msg, provider_id=provider or None)
            ctx.fail(link.channel_order_id, Rejected(msg, code=exc.code))
            continue
        links.save(rec, status="pushed", message=None if result.pushed else "already on TikTok",
                   provider_id=provider or None)
        pushed_packages.add(package)
        ctx.count("pushed")
        journal.record("tracking.pushed", f"{number} ({carrier}) -> package {package or '-'}",
                       org_id=ctx.org_id, store_id=ctx.channel.id, flow="tracking",
                       item=link.channel_order_id, data={"tracking_number": number})
    if not ctx.dry_run and numbers and all(p in pushed_packages for p in (packages or [""])):
        links.save(link, status="shipped")


def _platform_label(ctx: FlowContext, link: OrderLink, fulfillments: list[Fulfillment]) -> None:
    """The channel issued the label: it has the tracking already. Shipped once fulfilled; no push."""
    if not any(f.status not in ("cancelled", "failure", "error") for f in fulfillments):
        return
    why = "the channel issued this order's shipping label and has its tracking: nothing to push"
    ctx.decide("skip", link.channel_order_id, why=why)
    ctx.count("label_by_channel")
    if not ctx.dry_run:
        links.save(link, status="shipped", message=why)


register_flow("tracking", tracking_flow, interval_key="interval.tracking",
              description="eCommerce fulfilments -> TikTok tracking, once per package")

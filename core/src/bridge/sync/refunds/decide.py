"""The refunds flow's decisions (reads only): :class:`RefundsDecider` reads what bridge remembers
of each channel record (its order link, SKU links, record, and whether it is bridge's own echo)
and of store orders with cancelled lines, and turns the verdicts of
:mod:`bridge.sync.refunds.verdicts` into actions (:mod:`bridge.sync.refunds.actions`).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bridge import db
from bridge.facade import StoreReader
from bridge.models import ChannelRefund, Order
from bridge.statuses import OrderStatus, RefundStatus
from bridge.sync.actions import Action
from bridge.sync.base import FlowContext
from bridge.sync.refunds.actions import (
    DONE,
    TARGET,
    ApplyRefund,
    CancelChannelLines,
    CancelStoreLines,
    CloseRefund,
    HoldRefund,
    HoldStoreCancel,
    ResumeChannelCancel,
    SkipEcho,
    SkipRefund,
    WaitRefund,
)
from bridge.sync.refunds.verdicts import (
    Close,
    Hold,
    Memory,
    Refund,
    Wait,
    decide_channel,
    decide_store,
    restock_setting,
)
from bridge.tables import OrderLink, RefundRecord, SkuLink, Store, utcnow

RECENT = timedelta(days=30)


class RefundsDecider:
    """Decides what each channel record and each store cancellation needs; reads only."""

    def __init__(self, ctx: FlowContext, channel: Store, eco: Store) -> None:
        self.ctx = ctx
        self.channel_store = channel
        self.channel: StoreReader = ctx.reader(channel)
        self.eco: StoreReader = ctx.reader(eco)
        self.restock = restock_setting(channel.options)
        self.seen: set[tuple[str, str]] = set()

    def record(self, kind: str, remote_id: str) -> RefundRecord | None:
        return find_record(self.channel_store.id, kind, remote_id)

    def memory(self, r: ChannelRefund) -> Memory:
        ids = [ln.variant_id for ln in r.lines if ln.variant_id]
        sellers = [ln.sku for ln in r.lines if ln.sku]
        with db.session() as s:
            link = s.exec(select(OrderLink).where(OrderLink.channel_store_id == self.channel_store.id,
                                                  OrderLink.channel_order_id == r.order_id)).first()
            rows = list(s.exec(select(SkuLink).where(
                SkuLink.channel_store_id == self.channel_store.id,
                col(SkuLink.remote_sku_id).in_(ids) | col(SkuLink.seller_sku).in_(sellers)))) if ids or sellers else []
        skus: dict[str, SkuLink] = {}
        for row in rows:
            skus[row.seller_sku] = row
            if row.remote_sku_id:
                skus[row.remote_sku_id] = row
        return Memory(link, skus)

    def echo_of(self, r: ChannelRefund) -> RefundRecord | None:
        """The store cancellation bridge itself sent to the channel that this seller cancellation
        is: by its cancel id, or — when an interruption lost the id — by its SKU."""
        if r.kind != "cancel" or r.initiator.upper() != "SELLER":
            return None
        with db.session() as s:
            recs = list(s.exec(select(RefundRecord).where(RefundRecord.channel_store_id == self.channel_store.id,
                                                          RefundRecord.kind == "store_cancel",
                                                          RefundRecord.channel_order_id == r.order_id)))
        skus = {ln.variant_id for ln in r.lines}
        return next((rec for rec in recs if rec.result_id == r.remote_id), None) or next(
            (rec for rec in recs if not rec.result_id and str((rec.lines or {}).get("sku")) in skus), None)

    def channel_refund(self, r: ChannelRefund) -> list[Action]:
        self.seen.add((r.kind, r.remote_id))
        rec = self.record(r.kind, r.remote_id)
        if rec is not None and rec.status in DONE:
            return []
        echo = self.echo_of(r)
        if echo is not None:
            return [SkipEcho(item=f"{r.kind} {r.remote_id}", refund=r, record=rec, echo=echo,
                             status=RefundStatus.SKIPPED,
                             why="bridge's own cancellation of units the store cancelled: nothing to mirror")]
        verdict = decide_channel(r, self.memory(r), self.restock)
        base: dict[str, Any] = {"item": f"{r.kind} {r.remote_id}", "why": verdict.why, "refund": r, "record": rec}
        if isinstance(verdict, Wait):
            unchanged = (rec is not None and rec.status == RefundStatus.WAITING and rec.message == verdict.why
                         and rec.channel_status == (r.raw_status or r.status))
            return [] if unchanged else [WaitRefund(**base)]
        if isinstance(verdict, Close):
            return [(SkipRefund if verdict.status == RefundStatus.SKIPPED else CloseRefund)(status=verdict.status, **base)]
        if isinstance(verdict, Hold):
            return [HoldRefund(code=verdict.code, **base)]
        if isinstance(verdict, Refund):
            return [ApplyRefund(verdict=verdict, **base)]
        return [CancelStoreLines(verdict=verdict, **base)]

    def store_cancellations(self, channel_order_ids: list[str] | None = None) -> list[Action]:
        """Lines cancelled in the store before shipment are cancelled on TikTok."""
        if not self.eco.has("get_orders") or not self.channel.has("cancel_order_lines"):
            return []
        with db.session() as s:
            q = select(OrderLink).where(OrderLink.channel_store_id == self.channel_store.id,
                                        OrderLink.status == OrderStatus.CREATED,
                                        col(OrderLink.ecommerce_order_id).is_not(None),
                                        OrderLink.created_at >= utcnow() - RECENT)
            if channel_order_ids is not None:
                q = q.where(col(OrderLink.channel_order_id).in_(channel_order_ids))
            open_links = list(s.exec(q))
        by_id = {ln.ecommerce_order_id or "": ln for ln in open_links}
        ids = list(by_id)
        out: list[Action] = []
        for i in range(0, len(ids), 50):
            for eo in self.eco.get_orders(ids[i:i + 50]):
                if eo.status == "cancelled" or not any(ln.cancelled_quantity for ln in eo.lines):
                    continue
                out += self.store_order(by_id[eo.remote_id], eo)
        return out

    def store_order(self, link: OrderLink, eo: Order) -> list[Action]:
        """Actions for one store order with cancelled lines: interrupted channel cancellations are
        finished (or found done) first; a variant with one still unresolved gets no new
        cancellation this run — its target (TikTok's seller-cancelled units after it) is only
        known once the earlier one is settled, and a new one written meanwhile would make the
        earlier one look done when it is not."""
        applied: Counter[str] = Counter()
        pushed: Counter[str] = Counter()
        with db.session() as s:
            recs = list(s.exec(select(RefundRecord).where(RefundRecord.channel_store_id == self.channel_store.id,
                                                          RefundRecord.channel_order_id == link.channel_order_id)))
            skus = {row.source_variant_id: row for row in s.exec(select(SkuLink).where(
                SkuLink.channel_store_id == self.channel_store.id,
                col(SkuLink.source_variant_id).in_([ln.variant_id for ln in eo.lines if ln.variant_id])))}
        interrupted = (RefundStatus.PENDING, RefundStatus.CREATING)
        unsettled = [rec for rec in recs if rec.kind == "store_cancel" and rec.status in interrupted]
        waiting: set[str] = set()
        for rec in recs:
            units = {k: int(v) for k, v in (rec.lines or {}).items() if k not in (TARGET, "sku")}
            if rec.kind == "store_cancel":
                pushed.update(units)
                if rec.status in interrupted:
                    waiting.update(units)
            elif rec.status == RefundStatus.APPLIED or rec.status in interrupted:
                applied.update(units)  # written at the store, or possibly (an interrupted write)
        out: list[Action] = [ResumeChannelCancel(item=link.channel_order_id, why="interrupted: checked on TikTok, "
                                                 "then finished", link=link, record=rec) for rec in unsettled]
        for v in decide_store(link, eo, applied, pushed, skus):
            if isinstance(v, Hold):
                out.append(HoldStoreCancel(item=link.channel_order_id, why=v.why, code=v.code))
            elif v.variant_id not in waiting:
                out.append(CancelChannelLines(item=link.channel_order_id, why=v.why, verdict=v))
        return out


def find_record(channel_store_id: int | None, kind: str, remote_id: str) -> RefundRecord | None:
    with db.session() as s:
        return s.exec(select(RefundRecord).where(RefundRecord.channel_store_id == channel_store_id,
                                                 RefundRecord.kind == kind,
                                                 RefundRecord.remote_id == remote_id)).first()

"""The refunds flow's writes: :class:`RefundsApplier`, one method per action of
:mod:`bridge.sync.refunds.actions`: store refunds and line cancellations, and channel
cancellations of units the store cancelled; each record claimed and its attempt counted
before the call, an earlier attempt looked up first.
"""

from __future__ import annotations

from typing import Any

from bridge import db, journal
from bridge.errors import OutcomeUnknown, Rejected
from bridge.facade import StoreWriter
from bridge.models import LineCancel, RefundLine
from bridge.statuses import RefundStatus
from bridge.sync import links
from bridge.sync.actions import Applier, applies
from bridge.sync.base import FlowContext, SyncSink
from bridge.sync.refunds.actions import (
    TARGET,
    ApplyRefund,
    CancelChannelLines,
    CancelStoreLines,
    CloseRefund,
    HoldRefund,
    HoldStoreCancel,
    RefundAction,
    ResumeChannelCancel,
    SkipEcho,
    SkipRefund,
    WaitRefund,
)
from bridge.sync.refunds.decide import find_record
from bridge.sync.refunds.verdicts import Refund, key_for
from bridge.tables import OrderLink, RefundRecord, utcnow


class RefundsApplier(Applier):
    """Writes the refunds flow's actions."""

    def __init__(self, ctx: FlowContext, sink: SyncSink) -> None:
        super().__init__(ctx, sink)
        assert ctx.channel is not None and ctx.channel.id is not None and ctx.ecommerce is not None
        self.channel_id: int = ctx.channel.id
        self.channel: StoreWriter = sink.writer(ctx.channel)
        self.eco: StoreWriter = sink.writer(ctx.ecommerce)

    def _save(self, a: RefundAction, **values: Any) -> RefundRecord | None:
        r, rec = a.refund, a.record
        if rec is None:
            return links.insert_claimed(RefundRecord(
                channel_store_id=self.channel_id, kind=r.kind, remote_id=r.remote_id,
                channel_order_id=r.order_id, key=key_for(r), amount=str(r.total.amount), currency=r.total.currency,
                channel_status=r.raw_status or r.status, **values)) or find_record(self.channel_id, r.kind, r.remote_id)
        if all(getattr(rec, k) == v for k, v in values.items()) and rec.channel_status == (r.raw_status or r.status):
            return rec
        return links.save(rec, channel_status=r.raw_status or r.status, **values)

    @applies(WaitRefund)
    def wait(self, a: WaitRefund) -> None:
        self._save(a, status=RefundStatus.WAITING, message=a.why)

    @applies(CloseRefund)
    def close_(self, a: CloseRefund) -> None:
        self._save(a, status=a.status, message=a.why)
        self.ctx.count("skipped")

    @applies(SkipRefund)
    def skip(self, a: SkipRefund) -> None:
        self.close_(a)

    @applies(SkipEcho)
    def skip_echo(self, a: SkipEcho) -> None:
        if not a.echo.result_id:
            links.save(a.echo, result_id=a.refund.remote_id)
        self.close_(a)

    @applies(HoldRefund)
    def hold(self, a: HoldRefund) -> None:
        self._save(a, status=RefundStatus.HELD, message=a.why)
        self.ctx.fail(a.item, a.failure())

    @applies(HoldStoreCancel)
    def hold_store_cancel(self, a: HoldStoreCancel) -> None:
        self.ctx.fail(a.item, a.failure())

    def _claim(self, rec: RefundRecord | None, make: Any) -> tuple[RefundRecord, int] | None:
        """Insert or claim the record and count the attempt (committed before any call); returns
        it with the attempts made before (>0: an earlier one may have reached the platform), or
        None when another worker holds it."""
        if rec is None:
            rec = links.insert_claimed(make())
            if rec is None:
                return None
        assert rec.id is not None
        if not links.claim(RefundRecord, rec.id, claimable=(RefundStatus.PENDING, RefundStatus.WAITING, RefundStatus.HELD)):
            return None
        with db.session() as s:
            row = s.get(RefundRecord, rec.id)
            assert row is not None
            tried = row.attempts
            row.attempts += 1
            row.updated_at = utcnow()
            s.add(row)
        return row, tried

    @applies(ApplyRefund)
    def apply_refund(self, a: ApplyRefund) -> None:
        ctx, r, order_id = self.ctx, a.refund, a.order_id
        key = key_for(r)
        claimed = self._claim(a.record, lambda: RefundRecord(
            channel_store_id=self.channel_id, kind=r.kind, remote_id=r.remote_id,
            channel_order_id=r.order_id, key=key, status=RefundStatus.PENDING, channel_status=r.raw_status,
            amount=str(r.total.amount), currency=r.total.currency))
        if claimed is None:
            ctx.count("skipped")  # another worker holds it
            return
        rec, tried = claimed
        if tried and self.eco.has("find_refund"):
            found = self.eco.find_refund(order_id, key)
            if found is not None:
                self._applied(a, rec, found.remote_id, existed=True)
                return
        result_id: str | None
        try:
            if isinstance(a.verdict, Refund):
                result_id = self.eco.create_refund(a.verdict.draft).remote_id
            else:
                done = self.eco.cancel_order_lines(a.verdict.cancel)
                result_id = done.remote_id
                if done.status == "still_fulfillable":
                    journal.record("refunds.still_to_ship", f"store order {order_id}: TikTok's cancelled units "
                                   "are refunded but the store still lists them to ship: take them off the order "
                                   "before it is packed", org_id=ctx.org_id, store_id=self.channel_id,
                                   flow="refunds", item=r.remote_id, level="warning",
                                   data={"ecommerce_order_id": order_id, "units": a.verdict.units})
        except Rejected as exc:
            links.save(rec, status=RefundStatus.HELD, ecommerce_order_id=order_id, message=str(exc))
            ctx.fail(a.item, exc)
            return
        except OutcomeUnknown as exc:  # the write may have happened: looked up by its key next time
            links.save(rec, status=RefundStatus.PENDING, ecommerce_order_id=order_id,
                       message=f"unconfirmed ({exc}): looked up at the store before writing again")
            ctx.fail(a.item, exc)
            return
        except BaseException:
            # outcome unknown: the next run looks the refund up by its key before writing again
            links.save(rec, status=RefundStatus.PENDING, message="interrupted while writing: looked up before retrying")
            raise
        self._applied(a, rec, result_id, existed=False)

    @applies(CancelStoreLines)
    def cancel_store_lines(self, a: CancelStoreLines) -> None:
        self.apply_refund(a)

    def _applied(self, a: ApplyRefund, rec: RefundRecord, result_id: str | None, *, existed: bool) -> None:
        r, v, order_id = a.refund, a.verdict, a.order_id
        restocked = v.draft.restock if isinstance(v, Refund) else v.cancel.restock
        with db.session() as s:
            links.save_in(s, rec, status=RefundStatus.APPLIED, ecommerce_order_id=order_id, result_id=result_id,
                          lines=v.units, restocked=restocked, channel_status=r.raw_status,
                          message="found at the store (written before an interruption)" if existed else None)
            journal.record("refunds.found" if existed else "refunds.applied",
                           f"TikTok {r.kind} {r.remote_id} -> store order {order_id}: {r.total}"
                           + (" (restocked)" if restocked else ""),
                           org_id=self.ctx.org_id, store_id=self.channel_id, flow="refunds", item=r.remote_id,
                           data={"order": r.order_id, "ecommerce_order_id": order_id, "result_id": result_id,
                                 "units": v.units, "existed": existed}, session=s)
        self.ctx.count("linked" if existed else ("refunded" if isinstance(v, Refund) else "cancelled"))

    # ------------------------------------------------------------------ store -> channel

    def _tiktok_cancelled(self, order_id: str, sku_id: str) -> int:
        """Units of the SKU the *seller* has cancelled on the channel order: what bridge's
        cancellations add to. A buyer's cancellation of the same SKU does not count — it is
        mirrored to the store as a channel record, and taking it for bridge's own would mark an
        interrupted store cancellation done when it never reached TikTok (a unit lost).
        Channels without ``get_refunds`` give the order lines' cancelled units (any initiator)."""
        if self.channel.has("get_refunds"):
            return sum(ln.quantity for r in self.channel.get_refunds([order_id])
                       if r.kind == "cancel" and r.initiator.upper() == "SELLER" and r.order_id == order_id
                       and r.status not in ("rejected", "closed")
                       for ln in r.lines if ln.variant_id == sku_id)
        orders = self.channel.get_orders([order_id])
        return sum(ln.cancelled_quantity for o in orders for ln in o.lines if ln.variant_id == sku_id)

    @applies(CancelChannelLines)
    def cancel_on_channel(self, a: CancelChannelLines) -> None:
        v = a.verdict
        before = self._tiktok_cancelled(v.order_link.channel_order_id, v.channel_sku_id)
        rec = links.insert_claimed(RefundRecord(
            channel_store_id=self.channel_id, kind="store_cancel", remote_id=v.key,
            channel_order_id=v.order_link.channel_order_id, ecommerce_order_id=v.order_link.ecommerce_order_id,
            key=v.key, status=RefundStatus.PENDING, lines={v.variant_id: v.quantity, TARGET: before + v.quantity,
                                               "sku": v.channel_sku_id}))
        if rec is None:
            self.ctx.count("skipped")
            return
        self.resume_channel(v.order_link, rec, cancelled=before)  # TikTok read just now: not again

    @applies(ResumeChannelCancel)
    def resume(self, a: ResumeChannelCancel) -> None:
        self.resume_channel(a.link, a.record)

    def resume_channel(self, link: OrderLink, rec: RefundRecord, cancelled: int | None = None) -> None:
        """Cancel on TikTok what the record's target still lacks; ``cancelled``: TikTok's cancelled
        units of the SKU when the caller has just read them (else read here)."""
        ctx = self.ctx
        claimed = self._claim(rec, lambda: rec)
        if claimed is None:
            ctx.count("skipped")
            return
        rec, _ = claimed
        data = dict(rec.lines or {})
        sku, target = str(data.get("sku") or ""), int(data.get(TARGET) or 0)
        now = self._tiktok_cancelled(link.channel_order_id, sku) if cancelled is None else cancelled
        if now >= target:  # done already (before an interruption, or by another cancellation)
            self._channel_done(link, rec, None, existed=True)
            return
        try:
            done = self.channel.cancel_order_lines(LineCancel(
                order_id=link.channel_order_id, key=rec.key, reason="cancelled by the seller in the store",
                lines=[RefundLine(variant_id=sku, quantity=target - now)]))
        except Rejected as exc:
            links.save(rec, status=RefundStatus.HELD, message=f"not cancelled on TikTok Shop: {exc}")
            ctx.fail(link.channel_order_id, exc)
            return
        except OutcomeUnknown as exc:
            links.save(rec, status=RefundStatus.PENDING,
                       message=f"unconfirmed ({exc}): TikTok is read before trying again")
            ctx.fail(link.channel_order_id, exc)
            return
        except BaseException:
            links.save(rec, status=RefundStatus.PENDING, message="interrupted while cancelling on TikTok: checked before retrying")
            raise
        self._channel_done(link, rec, done.remote_id, existed=False)

    def _channel_done(self, link: OrderLink, rec: RefundRecord, cancel_id: str | None, *, existed: bool) -> None:
        with db.session() as s:
            links.save_in(s, rec, status=RefundStatus.APPLIED, result_id=cancel_id or rec.result_id,
                          message="found done on TikTok" if existed else None)
            journal.record("refunds.channel_cancelled", f"store order {link.ecommerce_order_id}: units cancelled "
                           f"before shipment -> TikTok order {link.channel_order_id} lines cancelled",
                           org_id=self.ctx.org_id, store_id=self.channel_id, flow="refunds",
                           item=link.channel_order_id, data={"cancel_id": cancel_id, "key": rec.key}, session=s)
        self.ctx.count("cancelled")

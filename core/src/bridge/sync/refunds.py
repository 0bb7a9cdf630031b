"""Refunds: TikTok returns, refunds and line cancellations -> the store order, exactly once;
lines cancelled in the store before shipment -> TikTok cancellations.

Decide, then apply. :func:`decide_channel` turns one channel record (a return or a cancellation)
plus what bridge remembers into one typed action: ``Wait`` (the buyer is not paid back yet),
``Close`` (rejected, closed, or a whole-order cancellation the orders flow handles), ``Hold``
(cannot be applied: the reason says what to do), ``Refund`` (a store refund) or ``CancelLines``
(a TikTok line cancelled in an order that goes on: the store order changes for those units).
:func:`decide_store` turns a store order whose lines were cancelled before shipment (beyond
what bridge itself changed there) into ``CancelOnChannel``. ``bridge plan refunds`` shows the
actions; ``bridge sync refunds`` applies exactly those.

Exactly once: a :class:`~bridge.tables.RefundRecord` (unique per shop, kind and TikTok id) is
claimed *before* the write, its attempt counted before the call. A record whose earlier attempt
may have reached the platform (a crash, a lost answer) is first looked up there by the key bridge
stores with every write (``find_refund``; for channel cancellations, TikTok's cancelled units
against the target written into the record). The plugins refuse a refund that cannot be applied
whole (order missing, lines already refunded, amount above what is left): it is held with the
reason, never half-applied, and tried again on every run.

Restock (shop option ``refunds.restock``): ``returned`` (default) restocks a return only once
the item came back to the seller, and units cancelled before shipment; ``always``; ``never``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import BridgeError, Misconfigured, OutcomeUnknown, Rejected
from bridge.facade import StoreReader, StoreWriter
from bridge.models import ChannelRefund, LineCancel, Order, RefundDraft, RefundLine
from bridge.statuses import OrderStatus, RefundStatus
from bridge.sync import links
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, SyncSink, register_flow
from bridge.tables import OrderLink, RefundRecord, SkuLink, Store, utcnow

RESTOCK_CHOICES = ("returned", "always", "never")
OPEN = (RefundStatus.PENDING, RefundStatus.WAITING, RefundStatus.HELD, RefundStatus.CREATING)
DONE = (RefundStatus.APPLIED, RefundStatus.CLOSED, RefundStatus.SKIPPED)
RECENT = timedelta(days=30)
TARGET = "tiktok_cancelled"
"""Key in a ``store_cancel`` record's ``lines``: TikTok's cancelled units of the SKU once done."""


# =========================================================================== verdicts


@dataclass(frozen=True)
class Wait:
    why: str


@dataclass(frozen=True)
class Close:
    why: str
    status: str = RefundStatus.CLOSED


@dataclass(frozen=True)
class Hold:
    why: str
    code: str


@dataclass(frozen=True)
class Refund:
    """Record a refund on the store order (``cancel``: units never shipped)."""

    draft: RefundDraft
    units: dict[str, int]
    why: str


@dataclass(frozen=True)
class CancelLines:
    """Take cancelled units off the store order before fulfilment."""

    cancel: LineCancel
    units: dict[str, int]
    why: str


@dataclass(frozen=True)
class CancelOnChannel:
    """Cancel units on TikTok that the store cancelled before shipment."""

    order_link: OrderLink
    key: str
    variant_id: str
    channel_sku_id: str
    quantity: int
    why: str


@dataclass
class Memory:
    """What bridge remembers that the decisions need."""

    link: OrderLink | None
    skus: dict[str, SkuLink] = field(default_factory=dict)
    """Channel SKU id (and seller SKU) -> its link."""


def restock_setting(options: dict[str, Any] | None) -> str:
    value = str(((options or {}).get("refunds") or {}).get("restock") or "returned")
    if value not in RESTOCK_CHOICES:
        raise Misconfigured(f"shop option refunds.restock is '{value}': choose one of {', '.join(RESTOCK_CHOICES)}")
    return value


def key_for(r: ChannelRefund) -> str:
    return f"tiktok-{r.kind}-{r.remote_id}"


def decide_channel(r: ChannelRefund, mem: Memory, restock: str) -> Wait | Close | Hold | Refund | CancelLines:
    """One channel record -> one action (pure)."""
    if r.kind == "cancel" and r.whole_order:
        return Close("the whole order is cancelled: the orders flow cancels the store order", RefundStatus.SKIPPED)
    if r.status in ("rejected", "closed"):
        return Close(f"{r.raw_status or r.status} on TikTok: nothing was refunded")
    if r.status == "other":
        return Hold(f"TikTok status '{r.raw_status}' is unknown to bridge: nothing is written until it is "
                    "understood (report it)", "UNKNOWN_STATUS")
    if r.status != "completed":
        return Wait(f"{r.raw_status or r.status} on TikTok: the buyer is not paid back yet")
    link = mem.link
    if link is None or not link.ecommerce_order_id:
        why = ("its order is not in the store (not created by bridge yet, or held)" if link is None or
               link.status in (OrderStatus.PENDING, OrderStatus.HELD, OrderStatus.CREATING) else f"its order link is {link.status}")
        return Hold(f"{why}: retried on every run", "ORDER_NOT_FOUND")
    if link.status == OrderStatus.CANCELLED:
        return Close("the store order is cancelled already", RefundStatus.SKIPPED)
    lines, units, missing = [], Counter[str](), []
    for ln in r.lines:
        hit = mem.skus.get(ln.variant_id or "") or mem.skus.get(ln.sku or "")
        if hit is None:
            missing.append(f"{ln.sku or ln.variant_id}")
            continue
        lines.append(RefundLine(variant_id=hit.source_variant_id, sku=hit.seller_sku, quantity=ln.quantity,
                                amount=ln.amount))
        units[hit.source_variant_id] += ln.quantity
    if missing:
        return Hold(f"SKU(s) {', '.join(missing)} match no product linked to this shop: link them, then "
                    "`bridge sync refunds` retries", "UNMATCHED_LINE")
    key = key_for(r)
    what = {"refund_only": "refund", "return_and_refund": "return and refund", "replacement": "replacement refund",
            "cancel": "cancellation"}[r.return_type]
    note = f"TikTok Shop {what} {r.remote_id} ({key}) of order {r.order_id}: {r.total}, paid out by TikTok"
    if r.kind == "cancel":
        restocked = restock != "never"
        cancel = LineCancel(order_id=link.ecommerce_order_id, key=key, reason=note, lines=lines, total=r.total,
                            restock=restocked)
        return CancelLines(cancel, dict(units), f"{len(lines)} line(s) cancelled on TikTok in an order that goes on")
    restocked = restock == "always" or (restock == "returned" and r.item_returned)
    draft = RefundDraft(order_id=link.ecommerce_order_id, key=key, note=note, lines=lines, shipping=r.shipping,
                        total=r.total, restock=restocked)
    why = f"{what} completed on TikTok" + (", item back with the seller" if r.item_returned else "")
    return Refund(draft, dict(units), why)


def decide_store(link: OrderLink, store_order: Order, applied: Counter[str], pushed: Counter[str],
                 skus: dict[str, SkuLink]) -> list[CancelOnChannel | Hold]:
    """A store order's lines cancelled before shipment, beyond what bridge changed there
    (``applied``) and what it already cancelled on TikTok (``pushed``) -> channel actions."""
    out: list[CancelOnChannel | Hold] = []
    cancelled: Counter[str] = Counter()
    for ln in store_order.lines:
        if ln.cancelled_quantity and ln.variant_id:
            cancelled[ln.variant_id] += ln.cancelled_quantity
    for variant, n in sorted(cancelled.items()):
        extra = n - applied[variant] - pushed[variant]
        if extra <= 0:
            continue
        sku = skus.get(variant)
        if sku is None or not sku.remote_sku_id:
            out.append(Hold(f"store variant {variant} is linked to no TikTok SKU of this shop", "UNMATCHED_LINE"))
            continue
        key = f"store-cancel-{link.ecommerce_order_id}-{variant}-{pushed[variant] + extra}"
        out.append(CancelOnChannel(link, key, variant, sku.remote_sku_id, extra,
                                   f"{extra} unit(s) of {sku.seller_sku} cancelled in the store before shipment"))
    return out


# =========================================================================== actions


@dataclass(frozen=True, kw_only=True)
class RefundAction(Action):
    """An action about one channel record (a return, refund or cancellation)."""

    refund: ChannelRefund
    record: RefundRecord | None

    def details(self) -> dict[str, Any]:
        return {"order": self.refund.order_id}


@dataclass(frozen=True, kw_only=True)
class WaitRefund(RefundAction):
    """Not paid back yet: remembered as ``waiting``."""

    kind = "wait"


@dataclass(frozen=True, kw_only=True)
class CloseRefund(RefundAction):
    """Rejected or closed on the channel: nothing to write at the store."""

    kind = "close"
    status: str = RefundStatus.CLOSED


@dataclass(frozen=True, kw_only=True)
class SkipRefund(CloseRefund):
    """Handled elsewhere (a whole-order cancellation, a cancelled store order)."""

    kind = "skip"


@dataclass(frozen=True, kw_only=True)
class SkipEcho(SkipRefund):
    """A seller cancellation that is bridge's own (units the store cancelled, sent to the
    channel and read back): nothing to mirror; the store record learns its cancel id."""

    echo: RefundRecord


@dataclass(frozen=True, kw_only=True)
class HoldRefund(RefundAction):
    """Cannot be applied as it is: held with the reason (an item failure each run)."""

    kind = "hold"
    code: str

    def failure(self) -> BridgeError:
        return Rejected(self.why, code=self.code)


@dataclass(frozen=True, kw_only=True)
class ApplyRefund(RefundAction):
    """Record a refund (or a line cancellation) on the store order, exactly once."""

    kind = "refund"
    verdict: Refund | CancelLines

    @property
    def order_id(self) -> str:
        return self.verdict.draft.order_id if isinstance(self.verdict, Refund) else self.verdict.cancel.order_id

    def details(self) -> dict[str, Any]:
        v = self.verdict
        if isinstance(v, Refund):
            total, restock, lines = str(v.draft.total.amount), v.draft.restock, v.draft.lines
        else:
            total, restock, lines = str(v.cancel.total.amount if v.cancel.total else 0), v.cancel.restock, v.cancel.lines
        return {"order": self.refund.order_id, "ecommerce_order_id": self.order_id, "total": total,
                "restock": restock, "lines": [(ln.sku, ln.quantity) for ln in lines]}


@dataclass(frozen=True, kw_only=True)
class CancelStoreLines(ApplyRefund):
    """Take units cancelled on the channel off the store order (it goes on)."""

    kind = "cancel_lines"


@dataclass(frozen=True, kw_only=True)
class HoldStoreCancel(Action):
    """Units cancelled in the store cannot be matched to the channel: reported each run."""

    kind = "hold"
    code: str

    def failure(self) -> BridgeError:
        return Rejected(self.why, code=self.code)


@dataclass(frozen=True, kw_only=True)
class CancelChannelLines(Action):
    """Cancel on the channel units the store cancelled before shipment."""

    kind = "cancel_on_channel"
    verdict: CancelOnChannel

    def details(self) -> dict[str, Any]:
        v = self.verdict
        return {"sku": v.channel_sku_id, "quantity": v.quantity,
                "ecommerce_order_id": v.order_link.ecommerce_order_id}


@dataclass(frozen=True, kw_only=True)
class ResumeChannelCancel(Action):
    """An interrupted channel cancellation: finished, or found done on the channel."""

    kind = "resume"
    link: OrderLink
    record: RefundRecord


# =========================================================================== decide


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
        return _record(self.channel_store.id, kind, remote_id)

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
        applied: Counter[str] = Counter()
        pushed: Counter[str] = Counter()
        with db.session() as s:
            recs = list(s.exec(select(RefundRecord).where(RefundRecord.channel_store_id == self.channel_store.id,
                                                          RefundRecord.channel_order_id == link.channel_order_id)))
            skus = {row.source_variant_id: row for row in s.exec(select(SkuLink).where(
                SkuLink.channel_store_id == self.channel_store.id,
                col(SkuLink.source_variant_id).in_([ln.variant_id for ln in eo.lines if ln.variant_id])))}
        for rec in recs:
            units = {k: int(v) for k, v in (rec.lines or {}).items() if k not in (TARGET, "sku")}
            if rec.kind == "store_cancel":
                pushed.update(units)
            elif rec.status in (RefundStatus.APPLIED, RefundStatus.PENDING, RefundStatus.CREATING):
                applied.update(units)  # written at the store, or possibly (an interrupted write)
        out: list[Action] = []
        for v in decide_store(link, eo, applied, pushed, skus):
            if isinstance(v, Hold):
                out.append(HoldStoreCancel(item=link.channel_order_id, why=v.why, code=v.code))
            else:
                out.append(CancelChannelLines(item=link.channel_order_id, why=v.why, verdict=v))
        # an interrupted channel cancellation is finished (or found done) first
        out += [ResumeChannelCancel(item=link.channel_order_id, why="interrupted: checked on TikTok, then finished",
                                    link=link, record=rec)
                for rec in recs if rec.kind == "store_cancel" and rec.status in (RefundStatus.PENDING, RefundStatus.CREATING)]
        return out


def _record(channel_store_id: int | None, kind: str, remote_id: str) -> RefundRecord | None:
    with db.session() as s:
        return s.exec(select(RefundRecord).where(RefundRecord.channel_store_id == channel_store_id,
                                                 RefundRecord.kind == kind,
                                                 RefundRecord.remote_id == remote_id)).first()


# =========================================================================== apply


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
                channel_status=r.raw_status or r.status, **values)) or _record(self.channel_id, r.kind, r.remote_id)
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
        self.resume_channel(v.order_link, rec)

    @applies(ResumeChannelCancel)
    def resume(self, a: ResumeChannelCancel) -> None:
        self.resume_channel(a.link, a.record)

    def resume_channel(self, link: OrderLink, rec: RefundRecord) -> None:
        ctx = self.ctx
        claimed = self._claim(rec, lambda: rec)
        if claimed is None:
            ctx.count("skipped")
            return
        rec, _ = claimed
        data = dict(rec.lines or {})
        sku, target = str(data.get("sku") or ""), int(data.get(TARGET) or 0)
        now = self._tiktok_cancelled(link.channel_order_id, sku)
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


# =========================================================================== the flow


def _open_orders(channel_store_id: int | None, seen: set[tuple[str, str]]) -> list[str]:
    """Channel orders with records still open (held, waiting, interrupted) this run has not seen."""
    with db.session() as s:
        return sorted({rec.channel_order_id for rec in s.exec(select(RefundRecord).where(
            RefundRecord.channel_store_id == channel_store_id, RefundRecord.kind != "store_cancel",
            col(RefundRecord.status).in_(OPEN)).limit(200)) if (rec.kind, rec.remote_id) not in seen})


def refunds_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    decider = RefundsDecider(ctx, ctx.channel, ctx.ecommerce)
    channel = decider.channel
    if not channel.has("list_refunds"):
        return
    if ctx.items is not None:  # a webhook named these channel orders
        for r in channel.get_refunds(list(ctx.items)):
            ctx.act(decider.channel_refund(r))
        ctx.act(decider.store_cancellations(list(ctx.items)))
        return
    for page in channel.list_refunds(ctx.cursor(ctx.channel)):
        for r in page.refunds:
            ctx.act(decider.channel_refund(r))
        if page.cursor:
            ctx.checkpoint(ctx.channel, page.cursor)
        if ctx.stopping():
            return
    orders = _open_orders(ctx.channel.id, decider.seen)
    for i in range(0, len(orders), 50):
        for r in channel.get_refunds(orders[i:i + 50]):
            if (r.kind, r.remote_id) not in decider.seen:
                ctx.act(decider.channel_refund(r))
    ctx.act(decider.store_cancellations())


register_flow("refunds", refunds_flow, interval_key="interval.refunds", applier=RefundsApplier,
              description="TikTok returns, refunds and line cancellations -> store refunds (exactly once); "
                          "store line cancellations -> TikTok")

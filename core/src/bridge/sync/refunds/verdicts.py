"""The refunds flow's pure decisions: :func:`decide_channel` turns one channel record (a return,
refund or cancellation) and what bridge remembers (:class:`Memory`) into one verdict
(:class:`Wait`, :class:`Close`, :class:`Hold`, :class:`Refund`, :class:`CancelLines`);
:func:`decide_store` turns a store order's lines cancelled before shipment into
:class:`CancelOnChannel` (or :class:`Hold`). The restock shop option (:func:`restock_setting`)
and the key bridge writes with every refund (:func:`key_for`) live here too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import Misconfigured
from bridge.models import ChannelRefund, LineCancel, Order, RefundDraft, RefundLine
from bridge.statuses import OrderStatus, RefundStatus
from bridge.tables import OrderLink, SkuLink

RESTOCK_CHOICES = ("returned", "always", "never")


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

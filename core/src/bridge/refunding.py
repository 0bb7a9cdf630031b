"""Checks every eCommerce plugin makes before recording a refund, so that a refund that cannot
be applied is refused whole (never half-written): which store line each refunded variant is on,
whether enough of it is left to refund, whether the amount fits in what is left.

Plugins read their order (lines, quantities already refunded, total already refunded) in their
own API's terms and call these helpers with plain values. A store that records a line cancelled
on TikTok as a refund of its units builds that refund with :func:`cancel_as_refund`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from bridge.errors import Rejected
from bridge.models import LineCancel, Money, RefundDraft, RefundLine


@dataclass
class StoreLine:
    """A store order line as a refund sees it."""

    id: str
    variant_id: str | None
    product_id: str | None
    quantity: int
    refunded: int = 0
    """Units already refunded or removed."""

    @property
    def left(self) -> int:
        return max(0, self.quantity - self.refunded)


@dataclass
class Allocation:
    line: StoreLine
    quantity: int
    amount: Decimal


def allocate(order_id: str, lines: list[RefundLine], store_lines: list[StoreLine]) -> list[Allocation]:
    """Put each refunded variant's units on the order's lines carrying that variant (several
    lines may carry one variant, e.g. at two prices), splitting its amount by units.

    :raises Rejected: ``LINE_NOT_IN_ORDER`` (no line carries the variant) or
        ``ALREADY_REFUNDED`` (fewer units are left than asked for)."""
    out: list[Allocation] = []
    taken: dict[str, int] = {}
    for ln in lines:
        matches = [s for s in store_lines if ln.variant_id and ln.variant_id in (s.variant_id, s.product_id)]
        if not matches:
            raise Rejected(f"order {order_id} has no line with variant {ln.variant_id} ({ln.sku or '?'}): "
                           "nothing was refunded", code="LINE_NOT_IN_ORDER", item=order_id)
        need = ln.quantity
        left = sum(s.left - taken.get(s.id, 0) for s in matches)
        if left < need:
            raise Rejected(f"order {order_id}: {ln.sku or ln.variant_id} has {left} unit(s) left to refund, "
                           f"{need} asked: the lines are already refunded; nothing was refunded",
                           code="ALREADY_REFUNDED", item=order_id)
        amount = ln.amount.amount if ln.amount else Decimal(0)
        per_unit = amount / need
        spent = Decimal(0)
        for s in matches:
            if need == 0:
                break
            q = min(need, s.left - taken.get(s.id, 0))
            if q <= 0:
                continue
            taken[s.id] = taken.get(s.id, 0) + q
            need -= q
            share = amount - spent if need == 0 else (per_unit * q).quantize(Decimal("0.01"))
            spent += share
            out.append(Allocation(s, q, share))
    return out


def check_amount(order_id: str, total: Money, remaining: Decimal) -> None:
    """:raises Rejected: ``AMOUNT_ABOVE_REMAINING`` when ``total`` is more than is left to refund."""
    if total.amount > remaining:
        raise Rejected(f"order {order_id}: refunding {total} is more than the {remaining} {total.currency} left "
                       "to refund; nothing was refunded", code="AMOUNT_ABOVE_REMAINING", item=order_id)


def carries(text: str | None, key: str) -> bool:
    """True when a note, reason or comment carries bridge's key (as a whole word)."""
    if not text:
        return False
    return any(part.strip(".,;:()[]") == key for part in text.split())


def cancel_as_refund(cancel: LineCancel) -> RefundDraft:
    """The refund that records units cancelled before fulfilment, for a store whose only way to
    take units off an order is a refund: the cancel's lines, its total (else the sum of the
    lines' amounts), ``cancel=True``, and a note carrying bridge's key, so that
    ``find_refund`` finds it after an unknown outcome."""
    total = cancel.total or Money(
        amount=sum((ln.amount.amount for ln in cancel.lines if ln.amount), Decimal(0)),
        currency=next((ln.amount.currency for ln in cancel.lines if ln.amount), "USD"))
    reason = cancel.reason or "Cancelled on TikTok Shop"
    note = reason if carries(reason, cancel.key) else f"{reason} ({cancel.key})"
    return RefundDraft(order_id=cancel.order_id, key=cancel.key, note=note, lines=cancel.lines, total=total,
                       restock=cancel.restock, cancel=True)

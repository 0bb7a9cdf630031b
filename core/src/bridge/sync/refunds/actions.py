"""The refunds flow's typed actions: what decide chose for one channel record (wait, close, skip,
hold, apply a refund or a line cancellation) or one store cancellation (cancel on the channel,
resume an interrupted one), and the record statuses they turn on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.models import ChannelRefund
from bridge.statuses import RefundStatus
from bridge.sync.actions import Action, HeldAction
from bridge.sync.refunds.verdicts import CancelLines, CancelOnChannel, Refund
from bridge.tables import OrderLink, RefundRecord

OPEN = (RefundStatus.PENDING, RefundStatus.WAITING, RefundStatus.HELD, RefundStatus.CREATING)
DONE = (RefundStatus.APPLIED, RefundStatus.CLOSED, RefundStatus.SKIPPED)


TARGET = "tiktok_cancelled"
"""Key in a ``store_cancel`` record's ``lines``: TikTok's cancelled units of the SKU once done."""


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
class HoldRefund(RefundAction, HeldAction):
    """Cannot be applied as it is: held with the reason (an item failure each run)."""

    kind = "hold"


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
class HoldStoreCancel(HeldAction):
    """Units cancelled in the store cannot be matched to the channel: reported each run."""


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

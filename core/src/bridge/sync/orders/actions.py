"""The orders flow's typed actions: what decide chose for one channel order (wait, record,
hold, create, cancel in the store or on the channel), and the link statuses they turn on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.models import Order, OrderDraft
from bridge.statuses import OrderStatus
from bridge.sync.actions import Action, HeldAction
from bridge.tables import OrderLink

OPEN = (OrderStatus.PENDING, OrderStatus.HELD, OrderStatus.CREATING)
DONE = (OrderStatus.CREATED, OrderStatus.RECORDED, OrderStatus.CANCELLED, OrderStatus.SHIPPED)


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
class HoldOrder(HeldAction):
    """A line matches no linked product (or the order cannot be read): held with the reason."""

    order: Order
    link: OrderLink | None
    code: str = "UNMATCHED_LINE"


@dataclass(frozen=True, kw_only=True)
class HoldUnreadable(HeldAction):
    """A channel order the plugin could not read: held with the reason, retried each run."""

    link: OrderLink | None
    code: str = "UNREADABLE"


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

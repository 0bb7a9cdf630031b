"""Returns and refunds: read on the channel, recorded (never paid out again) on the eCommerce store.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import Connection
    from bridge.models import (
        ChannelRefund,
        RefundDraft,
        RefundPage,
        StoreRefund,
    )


@hookspec(firstresult=True)
def list_refunds(connection: Connection, cursor: str | None) -> Iterator[RefundPage]:
    """Channel: stream returns, refunds and cancellations updated since ``cursor`` (``None``: a
    platform-chosen recent window), page by page, oldest change first.

    Each :class:`~bridge.models.ChannelRefund` carries its lines (channel line ids, SKU ids,
    amounts), the shipping and total refunded, a normalised ``status`` (``completed`` once the
    buyer has been paid back) and the platform's own spelling in ``raw_status``. Read-only.
    """


@hookspec(firstresult=True)
def get_refunds(connection: Connection, order_ids: list[str]) -> list[ChannelRefund]:
    """Channel: every return, refund and cancellation of these orders (after a webhook names
    them). Read-only."""


@hookspec(firstresult=True)
def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    """eCommerce: record a refund the channel has already paid out on a store order.

    Never moves money through a payment gateway (offline / external / record-only methods).
    Refunds ``refund.lines`` (store variants, quantities, amounts), ``refund.shipping``, for
    ``refund.total`` in all; restocks the units when ``refund.restock``; stores ``refund.key``
    with the refund (note, reason, comment or meta field) so :func:`find_refund` finds it.
    Not idempotent by itself: the core calls :func:`find_refund` after an unknown outcome.
    :raises Rejected: the order is missing, the lines are already refunded, the amount is above
        what is left to refund (code and message kept; nothing half-written).
    """


@hookspec(firstresult=True)
def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    """eCommerce: the refund (or line cancellation) carrying bridge's ``key`` on the store order
    ``order_id``, or None. Read-only."""

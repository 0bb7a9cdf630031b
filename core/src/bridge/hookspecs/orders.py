"""Orders: read on the channel, created on the eCommerce store (idempotently), cancelled whole
or line by line on either side.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import Connection
    from bridge.models import (
        CreatedOrder,
        LineCancel,
        LineCancelResult,
        Order,
        OrderDraft,
        OrderPage,
    )


@hookspec(firstresult=True)
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """Stream orders updated since ``cursor`` (``None``: a platform-chosen recent window).

    Channel: every status (the core decides what to hand on; ``released`` tells whether the
    on-hold window has passed, ``fulfilled_by`` who ships). eCommerce: orders created by bridge's
    source, for cancellations. Read-only.
    """


@hookspec(firstresult=True)
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    """Read the given orders. Missing ones are left out. Read-only."""


@hookspec(firstresult=True)
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """eCommerce: create an order for a channel order, with the prices the channel charged.

    Must be idempotent: look up an order carrying ``draft.source_order_id`` first and return it
    with ``existed=True``. The created order carries the source order id where the platform lets
    it (metadata, external id, tags) so that lookup finds it after a crash.
    :raises Rejected: the platform refused it (e.g. unknown variant).
    """


@hookspec(firstresult=True)
def find_order(connection: Connection, source_order_id: str) -> str | None:
    """eCommerce: the id of an order already carrying this channel order id (created by bridge
    or by another app), or None. Read-only."""


@hookspec(firstresult=True)
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    """Cancel an order (restocking where the platform does). Idempotent: cancelling a cancelled
    order returns False and changes nothing; True when this call cancelled it.
    :raises Rejected: it cannot be cancelled any more (e.g. shipped)."""


@hookspec(firstresult=True)
def cancel_order_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    """Cancel some units of an order that goes on, before fulfilment.

    Channel: ``cancel.lines[].line_ids`` name the channel's order line ids (the
    :attr:`~bridge.models.OrderLine.remote_id` of the channel order's lines). eCommerce:
    ``cancel.lines`` name store variants and quantities; the store order changes for those units
    as the platform allows (an order edit, or a refund recorded without moving money, restocking
    when ``cancel.restock``).
    Carries ``cancel.key`` where the platform keeps a note, so that :func:`find_refund` finds it.
    :raises Rejected: the lines cannot be cancelled (shipped, unknown, market without item-level
        cancellation); keep the platform's code and message.
    """

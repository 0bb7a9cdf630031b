"""Returns, refunds and line cancellations: what a channel reports, what a store records.

A channel's after-sale record (a TikTok return or cancellation) is a :class:`ChannelRefund`;
the refund bridge records for it in the eCommerce store is written from a :class:`RefundDraft`
and read back as a :class:`StoreRefund`. Every store-side write carries bridge's ``key`` (e.g.
``tiktok-return-4035...``) where the platform keeps free text (a note, a reason, a comment, a
meta field), so that a refund whose answer was lost is found again instead of written twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from bridge.models.base import Money, _Model


class RefundLine(_Model):
    """Units of one line refunded or cancelled.

    On a :class:`ChannelRefund`: ``line_ids`` are the channel's order line ids (TikTok has one
    line per unit), ``variant_id`` the channel SKU id. On a :class:`RefundDraft` and a
    :class:`StoreRefund`: ``variant_id`` is the store's variant id and ``line_ids`` the store's
    order line ids (filled by the plugin where it knows them)."""

    variant_id: str | None = None
    sku: str | None = None
    quantity: int = Field(gt=0)
    amount: Money | None = None
    """Money refunded for these units (tax included as the channel reports it)."""
    line_ids: list[str] = []


RefundStatus = Literal["requested", "approved", "completed", "rejected", "closed", "other"]


class ChannelRefund(_Model):
    """A return, refund or cancellation as the channel holds it."""

    remote_id: str
    """The channel's id (TikTok ``return_id`` or ``cancel_id``)."""
    kind: Literal["return", "cancel"]
    order_id: str
    status: RefundStatus
    """``completed``: the buyer has been paid back (mirror it in the store); ``approved``: accepted,
    money not moved yet; ``requested``: waiting for someone; ``rejected``/``closed``: nothing to do."""
    raw_status: str = ""
    """The platform's own status spelling (shown to the user, kept for unknown values)."""
    return_type: Literal["refund_only", "return_and_refund", "replacement", "cancel"] = "refund_only"
    item_returned: bool = False
    """True when the buyer sent the items back and the seller received them."""
    initiator: str = ""
    reason: str = ""
    currency: str
    lines: list[RefundLine] = []
    shipping: Money | None = None
    """Shipping refunded (header level)."""
    total: Money
    """Everything refunded: the lines, shipping and tax, as the channel paid it out."""
    whole_order: bool = False
    """True when every line of the order is cancelled (the orders flow handles that)."""
    created_at: datetime | None = None
    updated_at: datetime | None = None


class RefundPage(_Model):
    refunds: list[ChannelRefund]
    cursor: str | None


class RefundDraft(_Model):
    """A refund to record on a store order, already paid out by the channel: no money moves
    through the store's payment gateway."""

    order_id: str
    """The store's order id."""
    key: str
    """bridge's key for this refund, e.g. ``tiktok-return-4035...``: stored with the refund."""
    note: str
    """Readable note for the merchant; contains ``key``."""
    lines: list[RefundLine] = []
    """Store variants and quantities; ``amount`` is the money for those units."""
    shipping: Money | None = None
    total: Money
    """The whole amount refunded (lines + shipping + adjustments): what the channel paid out."""
    restock: bool = False
    """Put the refunded units back into stock."""
    cancel: bool = False
    """The units were never shipped (a cancellation before fulfilment), not returned."""


class StoreRefund(_Model):
    """A refund recorded on a store order (created by bridge or found)."""

    remote_id: str
    order_id: str
    key: str | None = None
    """bridge's key when the refund carries one."""
    total: Money | None = None
    lines: list[RefundLine] = []
    restocked: bool = False
    existed: bool = False
    """True when the refund was already there (found, not created)."""
    created_at: datetime | None = None


class LineCancel(_Model):
    """Cancel units of an order before fulfilment."""

    order_id: str
    key: str
    """bridge's key (stored with the change where the platform keeps a note)."""
    reason: str = ""
    lines: list[RefundLine]
    """Channel: ``line_ids`` are the channel's order line ids to cancel. eCommerce: store
    variants and quantities (``amount`` is the money the channel refunded for them)."""
    total: Money | None = None
    restock: bool = True


class LineCancelResult(_Model):
    order_id: str
    remote_id: str | None = None
    """The platform's id of the change (TikTok ``cancel_id``, a store refund or edit id)."""
    status: str = "done"
    """``done``, or the platform's pending state (e.g. ``CANCELLATION_REQUEST_PENDING``)."""
    existed: bool = False

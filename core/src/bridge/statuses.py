"""The statuses bridge keeps, one ``StrEnum`` per kind of record, shared by the flows, the admin
pages and the CLI. Members are strings (``ListingStatus.LIVE == "live"``), so they compare with
what the database holds and print as themselves."""

from __future__ import annotations

from enum import StrEnum


class ListingStatus(StrEnum):
    """A product's listing on one shop (:class:`~bridge.tables.ListingLink`)."""

    PENDING = "pending"
    """Sent, not confirmed yet; or to be sent again (an interrupted creation)."""
    CREATING = "creating"
    """Claimed by a worker that is creating it (see the link's ``claimed_by``)."""
    DRAFT = "draft"
    LIVE = "live"
    FAILED = "failed"
    """Refused by the channel (reasons kept): sent again once the product changes."""
    DEACTIVATED = "deactivated"
    """Taken off sale by bridge (activated again when listable)."""
    FROZEN = "frozen"
    """Frozen or taken off sale by the channel itself: held, never edited, until it lifts it."""
    DELETED = "deleted"
    """Deleted on the channel: held until the merchant asks to list it again."""
    UNLINKED = "unlinked"
    """Unlinked by hand: left alone until linked again."""
    HELD = "held"
    """Not listable as it is (attributes missing, over a limit): reasons say what to fix."""
    UNMAPPED = "unmapped"
    WAITING = "waiting"
    """Waits for the shop's daily limit of new products."""


#: Statuses of a listing the channel sells or reviews (bridge keeps them in step).
LISTED = (ListingStatus.PENDING, ListingStatus.DRAFT, ListingStatus.LIVE)
#: Statuses waiting for the channel's review.
IN_REVIEW = (ListingStatus.PENDING, ListingStatus.DRAFT)


class OrderStatus(StrEnum):
    """A channel order and the eCommerce order made for it (:class:`~bridge.tables.OrderLink`)."""

    PENDING = "pending"
    CREATING = "creating"
    CREATED = "created"
    HELD = "held"
    RECORDED = "recorded"
    """Fulfilled by the channel: recorded, not created."""
    CANCELLED = "cancelled"
    SHIPPED = "shipped"


class PushStatus(StrEnum):
    """One tracking number of one package (:class:`~bridge.tables.TrackingPushRecord`)."""

    PENDING = "pending"
    PUSHED = "pushed"
    HELD = "held"
    FAILED = "failed"


class RefundStatus(StrEnum):
    """A channel return, refund or cancellation (:class:`~bridge.tables.RefundRecord`)."""

    PENDING = "pending"
    WAITING = "waiting"
    CREATING = "creating"
    APPLIED = "applied"
    HELD = "held"
    CLOSED = "closed"
    SKIPPED = "skipped"


class StoreStatus(StrEnum):
    """A connected (or once connected) store (:class:`~bridge.tables.Store`)."""

    ACTIVE = "active"
    NEEDS_RECONNECT = "needs_reconnect"
    DISCONNECTED = "disconnected"


class RunStatus(StrEnum):
    """One run of a flow (:class:`~bridge.tables.SyncRun`)."""

    RUNNING = "running"
    OK = "ok"
    PARTIAL = "partial"
    FAILED = "failed"
    ABORTED = "aborted"
    """Left running by a process that ended (killed, crashed); marked at the next start."""

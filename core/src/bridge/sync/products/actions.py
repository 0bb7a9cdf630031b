"""The products flow's typed actions: what decide chose for one product's listing.

:class:`CreateListing`, :class:`UpdateListing`, :class:`LinkListing`, :class:`RelistListing`
and :class:`WaitListing` carry the built listing (:class:`SendListing`); :class:`AdoptListing`,
:class:`HoldListing`, :class:`FailListing` and :class:`DeactivateListing` carry what their write
needs. Each says its item, why, and what ``bridge plan`` shows (``details()``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bridge.errors import BridgeError
from bridge.models import ExistingListing, Listing
from bridge.sync.actions import Action
from bridge.sync.listing_changes import Changes
from bridge.tables import ListingLink

PREFLIGHT = "TikTok's pre-flight: "


@dataclass(frozen=True, kw_only=True)
class ListingAction(Action):
    """An action about one product's listing; ``link`` is its link as decide saw it."""

    link: ListingLink | None
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class SendListing(ListingAction):
    """An action that sends the built listing to the channel (or waits to)."""

    listing: Listing
    digest: str
    product_title: str = ""
    """The product's own title (a link's title until the channel took the listing)."""
    warnings: list[str] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)
    """Rule, category, per-SKU price and quantity with their rules (shown by the plan)."""

    def details(self) -> dict[str, Any]:
        return {"title": self.title, **self.detail}


@dataclass(frozen=True, kw_only=True)
class CreateListing(SendListing):
    """List a new product (claimed first: two workers never both create it)."""

    kind = "create"


@dataclass(frozen=True, kw_only=True)
class UpdateListing(SendListing):
    """Send a listed product's changes with the lightest calls (full edit when SKUs changed,
    else a partial edit of the changed parts and/or a price update), then activate it again
    when bridge had taken it off sale."""

    kind = "update"
    changes: Changes
    activate: bool = False

    def details(self) -> dict[str, Any]:
        return {**super().details(), "calls": self.changes.calls() + (["activate"] if self.activate else []),
                "parts": self.changes.parts}


@dataclass(frozen=True, kw_only=True)
class AdoptListing(ListingAction):
    """Record a linked product's content as sent (the channel's content was kept): no call."""

    kind = "adopt"
    digest: str


@dataclass(frozen=True, kw_only=True)
class RelistListing(SendListing):
    """List again a product deleted on the channel (shop option products.recreate_deleted)."""

    kind = "relist"


@dataclass(frozen=True, kw_only=True)
class LinkListing(SendListing):
    """Link a product to the channel product that already has its seller SKUs, then update it."""

    kind = "link"
    remote_product_id: str
    found: dict[str, ExistingListing]


@dataclass(frozen=True, kw_only=True)
class WaitListing(SendListing):
    """Today's limit of new products is reached: created on a later day."""

    kind = "wait"


@dataclass(frozen=True, kw_only=True)
class HoldListing(ListingAction):
    """Not listable as it is (unmapped, attributes missing, over a limit): held with reasons."""

    kind = "hold"
    status: str
    reasons: list[str]

    def details(self) -> dict[str, Any]:
        return {"title": self.title}


@dataclass(frozen=True, kw_only=True)
class FailListing(ListingAction):
    """The channel refused the product's category itself: recorded as failed."""

    kind = "fail"
    error: BridgeError

    def failure(self) -> BridgeError:
        return self.error


@dataclass(frozen=True, kw_only=True)
class DeactivateListing(ListingAction):
    """Take a listed product off sale (unpublished, deleted, unmapped, no longer listable)."""

    kind = "deactivate"
    remote_product_id: str

    def details(self) -> dict[str, Any]:
        return {"remote_product_id": self.remote_product_id}

"""A channel's products (listings): finding those already there, checking, creating and changing
them, prices, taking them off and back on sale, their review status.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import Connection
    from bridge.models import (
        ExistingListing,
        ItemResult,
        Listing,
        ListingCheck,
        ListingIndexPage,
        ListingResult,
        PriceUpdate,
    )


@hookspec(firstresult=True)
def find_listings(connection: Connection, seller_skus: list[str]) -> list[ExistingListing]:
    """Products already on the channel with these seller SKUs, so they are linked, not listed
    again. Read-only."""


@hookspec(firstresult=True)
def scan_listings(connection: Connection) -> Iterator[ListingIndexPage]:
    """Every product on the channel store, page by page (as many a page as the platform
    allows), each as its SKUs' :class:`~bridge.models.ExistingListing` entries.

    The core uses it instead of :func:`find_listings` when the store holds fewer products than
    the SKU searches would cost (an initial sync into an empty or small shop): each page's
    ``total`` tells the size of the store, and the core stops reading when a scan would cost
    more than the searches. Deleted products are left out. Read-only.
    """


@hookspec(firstresult=True)
def check_listing(connection: Connection, listing: Listing, dry_run: bool) -> ListingCheck:
    """Ask the channel whether it would take ``listing`` as a new product, without creating it.

    Called before :func:`create_listing`, so a listing the channel would refuse is held with the
    channel's reasons before anything is created, and by ``bridge plan products``. The sync
    passes the very object it then creates (``create_key`` set), in the same thread: a plugin
    may keep what it built for the check and send it with the create.
    :param dry_run: the caller writes nothing (a plan): do not upload images or write anything;
        answer ``checked=False`` if the check cannot be made without a write.
    :returns: :class:`~bridge.models.ListingCheck`; ``ok=False`` with the reasons to show.
    """


@hookspec(firstresult=True)
def create_listing(connection: Connection, listing: Listing) -> ListingResult:
    """Create a product with its SKUs (uploading images as needed, once per image).

    The core calls this only when it holds no link for the source product, and records the link
    at once; the plugin should still refuse to create a product whose seller SKUs already exist.
    :raises Rejected: the platform refused the product (keep its code and message).
    """


@hookspec(firstresult=True)
def update_listing(connection: Connection, listing: Listing) -> ListingResult:
    """Update ``listing.remote_product_id`` to match ``listing`` (SKU ids in
    ``ListingSku.remote_sku_id``) as a whole: the core calls it when SKUs were added or removed.

    Must not blank what the channel holds and the listing does not say (brand, certifications,
    size chart, video set on the channel): read the product, change it, send it all back. Must
    not put a product the seller took off sale back on sale. Idempotent.
    :raises Rejected: refused (code ``FROZEN`` or ``DELETED`` when the channel's own status
    forbids edits, with its reason).
    """


@hookspec(firstresult=True)
def partial_edit_listing(connection: Connection, listing: Listing, parts: list[str]) -> ListingResult:
    """Change only ``parts`` of a product (names from :data:`bridge.models.LISTING_PARTS`:
    title, description, images, attributes, package, brand, size_chart, certifications,
    category), leaving everything else as the channel holds it. The SKU set is unchanged.

    :raises Rejected: refused (codes ``FROZEN`` / ``DELETED`` as for :func:`update_listing`).
    """


@hookspec(firstresult=True)
def update_prices(connection: Connection, updates: list[PriceUpdate]) -> list[ItemResult]:
    """Set SKU prices without touching anything else (live at once, no new review), batched
    as the platform allows (e.g. one call per product with all its SKUs).

    Idempotent. Returns one :class:`~bridge.models.ItemResult` per update (``key`` =
    ``sku_id``); an item refused because a running promotion locks its price has code
    ``PRICE_LOCKED``, because the product is not on sale ``NOT_LIVE``, because the channel froze
    or deleted it ``FROZEN`` / ``DELETED``.
    """


@hookspec(firstresult=True)
def activate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    """Put a product the seller took off sale back on sale (it may go through review first:
    the returned status says). Idempotent: activating a live product is a no-op.
    :raises Rejected: the channel refuses (e.g. it froze the product: code ``FROZEN``)."""


@hookspec(firstresult=True)
def deactivate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    """Take a product off sale (not deleted). Idempotent: deactivating twice is a no-op."""


@hookspec(firstresult=True)
def listing_status(connection: Connection, remote_product_ids: list[str]) -> list[ListingResult]:
    """Current status of products (draft, pending, live, failed with reasons). Read-only."""

"""Products -> listings, per TikTok shop.

For each product of the eCommerce store (streamed page by page; incremental from the saved
cursor, a full pass when the shop's mapping rules or options changed): a published, mapped
product with its required attributes (and the brand, size chart and certifications its category
asks for, :mod:`bridge.sync.requirements`) becomes a listing, after the channel's pre-flight
check; one that changed is sent with the lightest calls for what changed since it was last sent,
part by part (:mod:`bridge.sync.listing_changes`, :mod:`bridge.sync.listing_calls`); one
unpublished, deleted or unmapped is deactivated, and activated again when listable. A product
the channel froze or deleted, or the merchant unlinked, is held without any call. A product
already on the shop with the same seller SKUs is linked, not listed again, keeping the channel's
content unless ``products.take_over_content`` (found by one scan of the shop where that costs
fewer calls than SKU searches, :mod:`bridge.sync.sku_index`). Each product's outcome stays on
its :class:`~bridge.tables.ListingLink` (with TikTok's reason when rejected); one failing product
never stops the others. The shop's daily
limit of new products (``products.daily_limit``) is respected: the rest waits (status
``waiting``) and is created on a later day.

Where things are:

* :mod:`~bridge.sync.products.actions` — the typed actions (``CreateListing``, ``UpdateListing``,
  ``LinkListing``, ``WaitListing``, ``HoldListing``, ``FailListing``, ``DeactivateListing``,
  ``AdoptListing``, ``RelistListing``);
* :mod:`~bridge.sync.products.decide` — ``ProductsDecider`` (reads only), a page at a time;
* :mod:`~bridge.sync.products.apply` — ``ProductsApplier``, one method per action, several
  products at once (``products.concurrency``);
* :mod:`~bridge.sync.products.run` — ``ProductsRun``: the catalog walk, cursor and full passes.

Options: see :mod:`bridge.sync.options`.
"""

from __future__ import annotations

from bridge.sync.base import register_flow
from bridge.sync.products.apply import ProductsApplier
from bridge.sync.products.run import products_flow, products_pages

__all__ = ["products_flow", "products_pages"]

register_flow("products", products_flow, interval_key="interval.products", applier=ProductsApplier,
              pages=products_pages,
              description="eCommerce products -> TikTok listings (create, update, deactivate)")

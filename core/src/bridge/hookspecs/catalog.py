"""The eCommerce catalog, and stock on both sides: an eCommerce store's products and quantities
are read; a channel's quantities are read and set.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import Connection
    from bridge.models import (
        InventoryLevel,
        InventoryUpdate,
        ItemResult,
        Product,
        ProductPage,
    )


@hookspec(firstresult=True)
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """Stream the catalog page by page.

    :param cursor: ``None`` for everything, else a cursor this plugin returned before. A cursor
        from the middle of a stream resumes after that page; the last page's cursor, kept by the
        core, makes the next call incremental (only products changed since).
    :returns: an iterator of :class:`~bridge.models.ProductPage`; never hold the whole catalog.
        Deleted products may be yielded with ``status="deleted"``. Read-only.
    """


@hookspec(firstresult=True)
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    """Read the given products (after a webhook names them). Missing ones are left out."""


@hookspec(firstresult=True)
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """Stream available quantities.

    eCommerce: per variant (``None``: every variant), at the locations the store's settings
    choose, summed. Channel: per SKU, where ``variant_ids`` are the channel's SKU ids (``None``:
    every SKU of bridge's listings) and each level's ``variant_id`` is a SKU id. Read-only.
    """


@hookspec(firstresult=True)
def update_inventory(connection: Connection, updates: list[InventoryUpdate]) -> list[ItemResult]:
    """Set absolute quantities on the channel, batched as the platform allows (e.g. one call per
    product with all its SKUs).

    Idempotent: setting the same quantity twice changes nothing. Returns one
    :class:`~bridge.models.ItemResult` per update (``key`` = ``sku_id``); a batch call answered
    OK with failed items must report those items as failed.
    """

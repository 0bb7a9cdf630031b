"""Which of a page's seller SKUs are already on a channel store, at the fewest calls.

The channel searches by seller SKU a few at a time (TikTok: ten a call), so a catalog of
10,000 variants costs about a thousand searches. A channel that can list its whole store
(``scan_listings``, TikTok: 100 products a page) can answer them all from one scan when the
store holds fewer products than that: a store that is empty or small, as at an initial sync.

:class:`SkuIndex` decides as it goes (the catalog's size is not known up front): the first page
whose SKUs would need several searches reads the scan's first page, which tells the store's
size. A store that fits in that page is indexed at once; otherwise the searches go on, and once
the searches made would have paid for the rest of the scan, the rest is read and the searches
stop (never more than about twice the cheaper of the two).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from math import ceil
from typing import Any

from bridge.models import ExistingListing, ListingIndexPage

SEARCH_BATCH = 10
"""Seller SKUs one search call takes (the smallest batch among channels: TikTok's)."""
SCAN_PAGE = 100
"""Products one scan page holds (TikTok's page size)."""
MIN_SEARCHES = 2
"""A page needing fewer searches than this does not start a scan (incremental runs)."""


class SkuIndex:
    """Finds existing listings by seller SKU for one run of the products flow."""

    def __init__(self, search: Callable[[list[str]], list[ExistingListing]] | None,
                 scan: Callable[[], Iterator[ListingIndexPage]] | None) -> None:
        self.search, self.scan = search, scan
        self.index: dict[str, ExistingListing] | None = None
        self._pages: Iterator[ListingIndexPage] | None = None
        self._partial: dict[str, ExistingListing] = {}
        self.remaining: int | None = None
        """Scan pages still to read once the first was read (None: scan not started)."""
        self.searches = 0
        self.scanned_pages = 0

    def find(self, seller_skus: list[str]) -> dict[str, ExistingListing]:
        """The listings holding any of ``seller_skus``, by seller SKU."""
        skus = list(dict.fromkeys(s for s in seller_skus if s))
        if not skus:
            return {}
        if self.index is None and self.scan is not None:
            cost = ceil(len(skus) / SEARCH_BATCH)
            if self._pages is None and cost >= MIN_SEARCHES:
                self._start()
            elif self.remaining is not None and self.searches + cost >= self.remaining:
                self._finish()
        if self.index is not None:
            return {s: self.index[s] for s in skus if s in self.index}
        if self.search is None:
            return {}
        self.searches += ceil(len(skus) / SEARCH_BATCH)
        return {e.seller_sku: e for e in self.search(skus)}

    def snapshot(self) -> list[dict[str, Any]] | None:
        """The whole index as JSON when the store fits in the scan's first page (read now if
        not yet): what the pages of a split pass share, as one run's pages share its index,
        instead of each scanning the store again (a page task's own index scanned the listings
        the pages before it had created). None when the store is larger or cannot be scanned."""
        if self.index is None and self.scan is not None and self._pages is None:
            self._start()
        if self.index is None:
            return None
        return [e.model_dump(mode="json") for e in self.index.values()]

    @classmethod
    def of(cls, snapshot: list[dict[str, Any]]) -> SkuIndex:
        """An index complete from a :meth:`snapshot` (it searches and scans nothing)."""
        made = cls(None, None)
        made.index = {e.seller_sku: e for e in map(ExistingListing.model_validate, snapshot)}
        return made

    def _start(self) -> None:
        assert self.scan is not None
        self._pages = iter(self.scan())
        page = next(self._pages, None)
        self.scanned_pages += 1
        if page is None:
            self.index = {}
            return
        self._add(page)
        total = page.total if page.total is not None else len(page.listings)
        self.remaining = max(0, ceil(total / SCAN_PAGE) - 1)
        if self.remaining == 0:
            self._finish()

    def _add(self, page: ListingIndexPage) -> None:
        for e in page.listings:
            self._partial.setdefault(e.seller_sku, e)

    def _finish(self) -> None:
        assert self._pages is not None
        for page in self._pages:
            self.scanned_pages += 1
            self._add(page)
        self.index, self._partial = self._partial, {}

    def stats(self) -> dict[str, Any]:
        return {"searches": self.searches, "scan_pages": self.scanned_pages,
                "indexed": self.index is not None}

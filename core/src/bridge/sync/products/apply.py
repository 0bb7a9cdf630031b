"""The products flow's writes: :class:`ProductsApplier`, one method per action of
:mod:`bridge.sync.products.actions`, several products at once (``products.concurrency``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor

from bridge import db, journal
from bridge.errors import RateLimited, Rejected, Transient
from bridge.facade import StoreWriter
from bridge.models import Listing
from bridge.statuses import ListingStatus
from bridge.sync import links
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, SyncSink
from bridge.sync.listing_calls import ChangeSender, channel_held, sent_skus
from bridge.sync.listing_changes import KEPT, SentSku, decide, encode
from bridge.sync.options import shop_options
from bridge.sync.products.actions import (
    PREFLIGHT,
    AdoptListing,
    CreateListing,
    DeactivateListing,
    FailListing,
    HoldListing,
    LinkListing,
    ListingAction,
    RelistListing,
    SendListing,
    UpdateListing,
    WaitListing,
)
from bridge.tables import ListingLink

#: Statuses a creation may be claimed from: a product not on the channel (never a listed one).
CLAIMABLE = (ListingStatus.PENDING, ListingStatus.FAILED, ListingStatus.HELD, ListingStatus.UNMAPPED,
             ListingStatus.WAITING)


class ProductsApplier(Applier):
    """Writes the products flow's actions; a page's actions several at a time."""

    def __init__(self, ctx: FlowContext, sink: SyncSink) -> None:
        super().__init__(ctx, sink)
        assert ctx.channel is not None and ctx.channel.id is not None
        self.channel_id = ctx.channel.id
        self.channel: StoreWriter = sink.writer(ctx.channel)
        workers = shop_options(ctx.channel.options).concurrency
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="bridge-products") if workers > 1 else None
        self.in_flight: list[Future[None]] = []
        self.previous: list[Future[None]] = []
        self.waiting: list[tuple[list[Future[None]], Callable[[], None]]] = []
        """Cursors to keep (:meth:`when_written`), each with the writes it waits for, in order."""
        self.options = shop_options(ctx.channel.options)
        self.sender = ChangeSender(ctx, self.channel)

    def apply_all(self, actions: Iterable[Action]) -> None:
        """Write a page's actions several at a time, while the flow decides the next page. Two
        pages are in flight at most: this one is handed to the workers as soon as the one before
        the previous is finished, so the workers never idle at a page's end (the previous page's
        last writes overlap this page's first). The page's journal entries go in first, in one
        statement."""
        todo = list(actions)
        if self.pool is None or len(todo) < 2:
            self.drain()
            super().apply_all(todo)
            return
        for a in todo:
            self._handler(a)  # an action this applier cannot write fails before anything is written
        previous, self.previous = self.previous, []
        try:
            self._wait(previous)
        finally:
            self._settle()
        self.sink.journal_all(self.ctx, todo)
        self.previous, self.in_flight = self.in_flight, [self.pool.submit(self.write, a) for a in todo]

    def drain(self) -> None:
        previous, current, self.previous, self.in_flight = self.previous, self.in_flight, [], []
        try:
            self._wait(previous + current)
        finally:
            self._settle()

    def when_written(self, done: Callable[[], None]) -> None:
        """Keep the cursor once the pages in flight are written, without waiting for them: the
        flow reads and decides the next pages meanwhile (waiting here left the workers idle
        while the next page was read, every checkpoint of a full pass)."""
        self.waiting.append((self.previous + self.in_flight, done))
        self._settle()

    def _settle(self) -> None:
        """Keep the cursors whose writes are all done, in order, up to the first that waits
        for a write still in flight or one that failed (that cursor and those after it stay)."""
        while self.waiting:
            futures, done = self.waiting[0]
            if not all(f.done() and not f.cancelled() and f.exception() is None for f in futures):
                return
            self.waiting.pop(0)
            done()

    @staticmethod
    def _wait(futures: list[Future[None]]) -> None:
        """Wait for every one of ``futures``; then re-raise the first error of one."""
        errors = [f.exception() for f in futures]
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise first

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        self._settle()  # a run stopped by an error still keeps the cursors its written pages earned

    def _upsert(self, a: ListingAction, *, status: str, reasons: list[str] | None = None) -> ListingLink | None:
        title = a.product_title if isinstance(a, SendListing) else a.title
        if a.link is None:
            return links.insert_claimed(ListingLink(
                channel_store_id=self.channel_id, source_product_id=a.item,
                status=status, reasons=reasons or [], title=title))
        return links.save(a.link, status=status, reasons=reasons or [], title=title)

    @applies(CreateListing)
    def create(self, a: CreateListing) -> None:
        if a.link is None:  # a new link is inserted already claimed: the unique key decides the race
            link = links.insert_claimed(ListingLink(
                channel_store_id=self.channel_id, source_product_id=a.item,
                status=ListingStatus.CREATING, title=a.product_title))
            claimed = link is not None
        else:
            link = a.link
            assert link.id is not None
            claimed = links.claim(ListingLink, link.id, claimable=CLAIMABLE)
        if link is None or not claimed:
            self.ctx.count("skipped")  # another worker is creating it
            return
        try:
            self._create(a, link)
        except Rejected:
            raise
        except BaseException as exc:
            # the claim is given back at once (the create carries the channel's idempotency key,
            # so sending it again makes no second product); one product's transient failure
            # fails that product, not the run
            links.save(link, status=ListingStatus.PENDING, claimed_by=None, claimed_until=None)
            if isinstance(exc, Transient) and not isinstance(exc, RateLimited):
                self.ctx.transient(a.item, exc)
                return
            raise
        self.ctx.transient_streak = 0

    def _create(self, a: CreateListing, link: ListingLink) -> None:
        # the channel's idempotency key: the same on a retry of this creation, new for a relisting;
        # the very object checked is created (a channel may keep what it built for the check)
        listing = a.listing.model_copy(update={"create_key": f"{a.item}:{link.id}"})
        if self.options.preflight and self.channel.has("check_listing"):
            check = self.channel.check_listing(listing, dry_run=False)
            if not check.ok:  # the channel would refuse it: held with its reasons, nothing created
                links.save(link, status=ListingStatus.HELD, reasons=[PREFLIGHT + r for r in check.reasons],
                           content_hash=a.digest)
                self.ctx.count("held")
                return
        self.send(a, link, listing, create=True)

    @applies(UpdateListing)
    def update(self, a: UpdateListing) -> None:
        assert a.link is not None
        link = a.link
        if link.content_hash == KEPT:  # the channel's content, taken as sent from now on
            link = links.save(link, content_hash=encode(a.changes.digests))
        self.sender.send(a.item, link, a.listing, a.changes, activate=a.activate, warnings=a.warnings)

    @applies(AdoptListing)
    def adopt(self, a: AdoptListing) -> None:
        assert a.link is not None
        links.save(a.link, content_hash=a.digest)
        self.ctx.count("unchanged")

    @applies(RelistListing)
    def relist(self, a: RelistListing) -> None:
        from bridge.sync.manual_links import relist

        relist(self.channel_id, a.item)
        link = links.listing_links(self.channel_id, [a.item]).get(a.item)
        if link is None:
            self.ctx.count("skipped")
            return
        self.create(CreateListing(item=a.item, why=a.why, link=link, title=a.title, listing=a.listing,
                                  digest=a.digest, product_title=a.product_title, warnings=a.warnings,
                                  detail=a.detail))

    @applies(LinkListing)
    def link(self, a: LinkListing) -> None:
        row = self._upsert(a, status=ListingStatus.LIVE)
        if row is None:
            self.ctx.count("skipped")  # another worker has just linked it
            return
        ids = {sku: e.remote_sku_id for sku, e in a.found.items()}
        take_over = self.options.take_over_content
        row = links.save(row, remote_product_id=a.remote_product_id,
                         status=next(iter(a.found.values())).status or ListingStatus.LIVE,
                         content_hash=None if take_over else KEPT,
                         reasons=["linked to an existing TikTok product by seller SKU"
                                  + ("" if take_over else ": TikTok's content kept")])
        links.record_skus(self.channel_id, a.item, a.remote_product_id, a.listing.skus, None, ids,
                          quantities=False)
        self.ctx.count("linked")
        listing = a.listing.model_copy(update={"remote_product_id": a.remote_product_id, "skus": [
            s.model_copy(update={"remote_sku_id": ids.get(s.seller_sku)}) for s in a.listing.skus]})
        if take_over:  # the shop option: the eCommerce store's content replaces TikTok's
            self.send(a, row, listing, create=False, warnings=[])
            return
        # TikTok's content kept; the store's prices follow through their light call at once
        sent = {vid: SentSku(s.remote_sku_id, None) for vid, s in sent_skus(self.channel_id, a.item).items()}
        d = decide(row.status, [], KEPT, listing, sent)
        if d.changes is not None and d.changes.prices:
            row = links.save(row, content_hash=encode(d.changes.digests))
            self.sender.send(a.item, row, listing, d.changes, activate=False, warnings=[])

    @applies(WaitListing)
    def wait(self, a: WaitListing) -> None:
        self._upsert(a, status=ListingStatus.WAITING, reasons=[a.why])

    @applies(HoldListing)
    def hold(self, a: HoldListing) -> None:
        self._upsert(a, status=a.status, reasons=a.reasons)

    @applies(FailListing)
    def fail(self, a: FailListing) -> None:
        if a.link is None:
            self._upsert(a, status=ListingStatus.FAILED, reasons=[a.why])
        else:
            links.save(a.link, status=ListingStatus.FAILED, reasons=[a.why], content_hash=None)
        self.ctx.fail(a.item, a.error)

    @applies(DeactivateListing)
    def deactivate(self, a: DeactivateListing) -> None:
        assert a.link is not None
        try:
            self.channel.deactivate_listing(a.remote_product_id)
        except Rejected as exc:
            if channel_held(a.link, exc):
                self.ctx.count("held")
            else:
                self.ctx.fail(a.item, exc)
            return
        links.save(a.link, status=ListingStatus.DEACTIVATED, reasons=[a.why])  # what the channel holds stays known
        self.ctx.count("deactivated")

    def send(self, a: SendListing, link: ListingLink, listing: Listing, *, create: bool,
             warnings: list[str] | None = None) -> None:
        """Send a listing (create or update) and record what the channel said."""
        try:
            result = self.channel.create_listing(listing) if create else self.channel.update_listing(listing)
        except Rejected as exc:
            if channel_held(link, exc):
                self.ctx.count("held")
                return
            links.save(link, status=ListingStatus.FAILED, reasons=[str(exc)], content_hash=a.digest)
            self.ctx.fail(a.item, exc)
            return
        except BaseException:
            if create:  # outcome unknown: the next run looks it up by seller SKU
                links.save(link, status=ListingStatus.PENDING, reasons=["interrupted while creating: retried"])
            raise
        kind = "created" if create else "updated"
        with db.session() as s:  # the link, its SKUs and the journal entry: all or nothing
            links.update_in(s, link, remote_product_id=result.remote_product_id, status=result.status,
                          reasons=(a.warnings if warnings is None else warnings) + result.warnings,
                          content_hash=a.digest, title=listing.title)
            links.record_skus(self.channel_id, a.item, result.remote_product_id, listing.skus,
                              result, session=s)
            journal.record(f"products.{kind}", f"'{listing.title}' {kind} as {result.remote_product_id}",
                           org_id=self.ctx.org_id, store_id=self.channel_id, flow="products",
                           item=a.item, data={"status": result.status, "warnings": result.warnings},
                           session=s)
        self.ctx.count(kind)

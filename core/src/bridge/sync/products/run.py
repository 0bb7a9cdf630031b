"""One run of the products flow: :class:`ProductsRun` walks the catalog page by page (from the
saved cursor, or a full pass that checkpoints and resumes), hands each page's decisions on,
sweeps linked products a full pass did not show, and retries waiting or interrupted ones.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator
from time import monotonic
from typing import Any

from sqlalchemy import String, cast
from sqlmodel import col, select

from bridge import db
from bridge.models import Product
from bridge.statuses import LISTED, ListingStatus
from bridge.sync import links
from bridge.sync.base import Finishing, FlowContext, Seen, Split
from bridge.sync.listing_calls import PRICE_HELD
from bridge.sync.products.decide import ProductsDecider
from bridge.sync.sku_index import SkuIndex
from bridge.tables import ListingLink

ACTIVE = (*LISTED, ListingStatus.CREATING)


#: How often a full pass of the catalog records how far it has got (seconds).
PASS_CHECKPOINT_S = 10.0


class ProductsRun:
    """One run of the products flow for one (eCommerce store, TikTok shop) pair: walks the
    catalog, hands each page's decisions on, keeps the cursor."""

    def __init__(self, ctx: FlowContext) -> None:
        assert ctx.channel is not None and ctx.ecommerce is not None
        self.ctx = ctx
        self.decider = ProductsDecider(ctx, ctx.channel, ctx.ecommerce)
        self.eco = self.decider.eco
        self.cursor_name = f"products:{ctx.channel.id}"
        self.eco_store = ctx.ecommerce

    def position(self) -> tuple[str, bool, str | None]:
        """Where this run starts: (the fingerprint of the shop's rules and options, whether it
        is a full pass, the catalog cursor to start from)."""
        assert self.ctx.channel is not None
        memo_key = f"products.position:{self.ctx.channel.id}"
        known = self.ctx.memo.pop(memo_key, None)  # read for this task already (flow_pages)
        if known is None:
            fp, raw = self.decider.fingerprint(), self.ctx.cursor(self.eco_store, self.cursor_name)
            self.ctx.memo[memo_key] = (fp, raw)
        else:
            fp, raw = known
            self.ctx.cursor_known(self.eco_store, raw, self.cursor_name)
        saved = json.loads(raw or "{}")
        # a full pass that stopped or failed half-way resumes where its checkpoint says
        resume = saved.get("fp") == fp and saved.get("pass") is not None
        full = resume or saved.get("fp") != fp or saved.get("c") is None
        self.saved = saved
        return fp, full, saved["pass"] if resume else None if full else saved["c"]

    def pages(self) -> Split | None:
        """A full pass as a :class:`~bridge.sync.base.Split`: the catalog read once, each page
        with its products (JSON); ``end`` is the cursor to keep once all are handled. None when
        this run is incremental."""
        fp, full, start = self.position()
        if not full:
            return None
        end: dict[str, Any] = {"fp": fp, "cursor": start}

        def read() -> Iterator[dict[str, Any]]:
            existing = self.decider.index.snapshot()  # a small store: every page gets its index
            shared = {"pass": uuid.uuid4().hex, "existing": existing} if existing is not None else {}
            for page in self.eco.list_products(start):
                end["cursor"] = page.cursor or end["cursor"]
                yield {"items": [p.remote_id for p in page.products],
                       "products": [p.model_dump(mode="json") for p in page.products], **shared}

        return Split(read(), lambda: dict(end))

    def run(self) -> None:
        if self.ctx.page is not None:  # one page of a split pass, as its reader read it
            if "existing" in self.ctx.page and not first_page_here(self.ctx.page["pass"]):
                # the store's listings by SKU when the pass began (this process's first page of
                # the pass finds its own, as a run's first page does: the channel then knows
                # what this process saw, and its creates need not search each product again)
                self.decider.index = SkuIndex.of(self.ctx.page["existing"])
            self.ctx.act(self.decider.page([Product.model_validate(p) for p in self.ctx.page["products"]]))
            return
        if self.ctx.finishing is not None:
            self.finish(self.ctx.finishing)
            return
        if self.ctx.items is not None:
            self.named(list(self.ctx.items))
            return
        fp, full, start = self.position()
        seen = links.SeenSet()
        try:
            if not self.stream(start, fp, seen, full):
                return
            if full:
                self.sweep(seen)
            self.retry_waiting(seen)
        finally:
            seen.close()

    def finish(self, done: Finishing) -> None:
        """After a split pass's pages (each handled by a page task): the products of pages that
        gave up, then what follows a pass: the cursor, the sweep, the retries. The pages are not
        read again."""
        if done.failed:
            done.seen.add_many(done.failed)
            self.named(list(done.failed))
        self.checkpoint(done.end.get("cursor"), str(done.end["fp"]))
        self.sweep(done.seen)
        self.retry_waiting(done.seen)

    def named(self, ids: list[str]) -> None:
        """Products named by a webhook (missing ones were deleted)."""
        products = self.eco.get_products(ids)
        found = {p.remote_id for p in products}
        self.ctx.act(self.decider.page(products))
        self.ctx.act(self.decider.gone([i for i in ids if i not in found]))

    def stream(self, cursor: str | None, fp: str, seen: links.SeenSet, full: bool) -> bool:
        """The catalog from ``cursor``, page by page; False when stopped early.

        A full pass keeps its progress too (every :data:`PASS_CHECKPOINT_S` seconds and when
        stopped): a pass that stops or fails half-way resumes there, never from the beginning.
        """
        last = monotonic()
        for page in self.eco.list_products(cursor):
            seen.add_many(p.remote_id for p in page.products)
            self.ctx.act(self.decider.page(page.products))
            position = page.cursor
            del page  # its products go now, not once the next page is read and converted
            cursor = position or cursor
            stopping = self.ctx.stopping()
            if full and position and (stopping or monotonic() - last >= PASS_CHECKPOINT_S):
                self.checkpoint_pass(position, fp)
                last = monotonic()
            if stopping:
                if not full:
                    self.checkpoint(cursor, fp)
                return False
        self.checkpoint(cursor, fp)
        return True

    def checkpoint_pass(self, position: str, fp: str) -> None:
        """Where a full pass has got to (the incremental cursor before it is kept)."""
        kept = {k: v for k, v in self.saved.items() if k == "c"} if self.saved.get("fp") == fp else {}
        self.ctx.checkpoint(self.eco_store, json.dumps({**kept, "pass": position, "fp": fp}), self.cursor_name)

    def checkpoint(self, cursor: str | None, fp: str) -> None:
        if cursor is not None:
            self.ctx.checkpoint(self.eco_store, json.dumps({"c": cursor, "fp": fp}), self.cursor_name)

    def sweep(self, seen: Seen) -> None:
        """After a full pass: linked products the stream did not show are looked up; gone ones
        are deactivated."""
        last = 0
        while True:
            with db.session() as s:
                rows = list(s.exec(select(ListingLink).where(
                    ListingLink.channel_store_id == self.decider.channel_id, col(ListingLink.id) > last,
                    col(ListingLink.remote_product_id).is_not(None),
                    col(ListingLink.status).in_(ACTIVE)).order_by(col(ListingLink.id)).limit(200)))
            if not rows:
                return
            last = rows[-1].id or last
            missing = seen.missing([r.source_product_id for r in rows])
            if missing:
                seen.add_many(missing)
                self.named(missing)

    def retry_waiting(self, seen: Seen) -> None:
        """Products waiting for the daily limit, creations a crash or a transient failure
        interrupted, and prices held
        by a promotion or a review (those this run has not decided already)."""
        statuses = ((ListingStatus.CREATING,) if self.decider.budget.spent
                    else (ListingStatus.WAITING, ListingStatus.CREATING))
        with db.session() as s:
            ids = [r.source_product_id for r in s.exec(select(ListingLink).where(
                ListingLink.channel_store_id == self.decider.channel_id,
                col(ListingLink.status).in_(statuses)).limit(500))]
            # creations a transient failure interrupted (the claim given back, nothing on TikTok)
            ids += [r.source_product_id for r in s.exec(select(ListingLink).where(
                ListingLink.channel_store_id == self.decider.channel_id,
                ListingLink.status == ListingStatus.PENDING,
                col(ListingLink.remote_product_id).is_(None)).limit(500))]
            # prices a promotion locked (or of a product not live yet): sent again each run
            ids += [r.source_product_id for r in s.exec(select(ListingLink).where(
                ListingLink.channel_store_id == self.decider.channel_id,
                cast(ListingLink.reasons, String).like(f"%{PRICE_HELD}%")).limit(500))]
        ids = seen.missing(list(dict.fromkeys(ids)))
        if ids:
            self.ctx.act(self.decider.page(self.eco.get_products(ids)))


_passes_here: OrderedDict[str, None] = OrderedDict()
_passes_lock = threading.Lock()


def first_page_here(pass_id: str) -> bool:
    """True for the first page of split pass ``pass_id`` this process handles."""
    with _passes_lock:
        if pass_id in _passes_here:
            return False
        _passes_here[pass_id] = None
        while len(_passes_here) > 1000:
            _passes_here.popitem(last=False)
        return True


def products_flow(ctx: FlowContext) -> None:
    ProductsRun(ctx).run()


def products_pages(ctx: FlowContext) -> Split | None:
    """A full pass cut into the eCommerce store's pages (:attr:`bridge.sync.base.FlowSpec.pages`)."""
    return ProductsRun(ctx).pages()

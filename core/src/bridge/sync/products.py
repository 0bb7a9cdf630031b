"""Products -> listings, per TikTok shop.

For each product of the eCommerce store (streamed page by page; incremental from the saved
cursor, a full pass when the shop's mapping rules or options changed): a published, mapped
product with its required attributes becomes a listing; one that changed is updated (only when
its listing's content hash differs from what was last sent); one unpublished, deleted or
unmapped is deactivated. A product already on the shop with the same seller SKUs is linked, not
listed again. Each product's outcome stays on its :class:`~bridge.tables.ListingLink` (with
TikTok's reason when rejected); one failing product never stops the others. The shop's daily
limit of new products (``products.daily_limit``) is respected: the rest waits (status
``waiting``) and is created on a later day.

Options: see :mod:`bridge.sync.options`. Dry run (``bridge plan products``) makes no write.
"""

from __future__ import annotations

import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import Rejected
from bridge.listing import ListingProblem, build_listing, content_hash
from bridge.mapping import Mapper, load_overrides
from bridge.models import ExistingListing, Listing, Product
from bridge.sync import links
from bridge.sync.base import FlowContext, register_flow
from bridge.sync.options import ShopOptions, shop_options
from bridge.tables import Event, ListingLink, ProductMapping, utcnow

HELD = ("held", "unmapped")
ACTIVE = ("pending", "draft", "live", "creating")


class ProductsRun:
    """One run of the products flow for one (eCommerce store, TikTok shop) pair."""

    def __init__(self, ctx: FlowContext) -> None:
        assert ctx.channel is not None and ctx.ecommerce is not None
        self.ctx = ctx
        self.channel = ctx.channel
        self.eco = ctx.ecommerce
        self.options: ShopOptions = shop_options(self.channel.options)
        self.mapper = Mapper(self.channel.id,  # type: ignore[arg-type]
                             lambda cid: ctx.call(self.channel, "category_attributes", category_id=cid))
        self.shop = {"name": self.channel.name, "region": self.channel.region,
                     "currency": self.channel.currency}
        self.created_today = self._created_today()
        self.lock = threading.Lock()
        workers = 1 if ctx.dry_run else self.options.concurrency
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="bridge-products") if workers > 1 else None

    # ------------------------------------------------------------------ driving

    def fingerprint(self) -> str:
        with db.session() as s:
            n, latest = s.exec(select(func.count(), func.max(ProductMapping.updated_at)).where(
                ProductMapping.channel_store_id == self.channel.id)).one()
        rules = [(r.id, r.facet, r.value, r.category_id, r.attributes, r.priority) for r in self.mapper.rules]
        raw = json.dumps([self.options.fingerprint(), rules, n, str(latest)], default=str, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def run(self) -> None:
        ctx = self.ctx
        if ctx.items is not None:
            products = ctx.call(self.eco, "get_products", product_ids=list(ctx.items))
            found = {p.remote_id for p in products}
            self.page(products)
            self.gone([i for i in ctx.items if i not in found])
            return
        fp = self.fingerprint()
        name = f"products:{self.channel.id}"
        saved = json.loads(ctx.cursor(self.eco, name) or "{}")
        full = saved.get("fp") != fp or saved.get("c") is None
        seen = links.SeenSet() if full else None
        cursor = None if full else saved["c"]
        try:
            for page in ctx.call(self.eco, "list_products", cursor=cursor):
                if seen is not None:
                    seen.add_many(p.remote_id for p in page.products)
                self.page(page.products)
                cursor = page.cursor or cursor
                if ctx.stopping():
                    if not full:
                        self._save(cursor, fp)
                    return
            if seen is not None:
                self.sweep(seen)
            self._save(cursor, fp)
        finally:
            if seen is not None:
                seen.close()
        self.retry_waiting()

    def _save(self, cursor: str | None, fp: str | None) -> None:
        if cursor is not None:
            self.ctx.save_cursor(self.eco, json.dumps({"c": cursor, "fp": fp}),
                                 "products:" + str(self.channel.id))

    def _created_today(self) -> int:
        midnight = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
        with db.session() as s:
            return s.exec(select(func.count()).select_from(Event).where(
                Event.kind == "products.created", Event.store_id == self.channel.id,
                Event.at >= midnight)).one()

    def sweep(self, seen: links.SeenSet) -> None:
        """After a full pass: linked products the stream did not show are looked up; gone ones
        are deactivated."""
        last = 0
        while True:
            with db.session() as s:
                rows = list(s.exec(select(ListingLink).where(
                    ListingLink.channel_store_id == self.channel.id, col(ListingLink.id) > last,
                    col(ListingLink.remote_product_id).is_not(None),
                    col(ListingLink.status).in_(ACTIVE)).order_by(col(ListingLink.id)).limit(200)))
            if not rows:
                return
            last = rows[-1].id  # type: ignore[assignment]
            missing = seen.missing([r.source_product_id for r in rows])
            if missing:
                products = self.ctx.call(self.eco, "get_products", product_ids=missing)
                self.page(products)
                found = {p.remote_id for p in products}
                self.gone([m for m in missing if m not in found])

    def retry_waiting(self) -> None:
        """Products waiting for the daily limit, and creations a crash interrupted."""
        limit = self.options.daily_limit
        statuses = ("creating",) if limit is not None and self.created_today >= limit else ("waiting", "creating")
        with db.session() as s:
            ids = [r.source_product_id for r in s.exec(select(ListingLink).where(
                ListingLink.channel_store_id == self.channel.id,
                col(ListingLink.status).in_(statuses)).limit(500))]
        if ids:
            self.page(self.ctx.call(self.eco, "get_products", product_ids=ids))

    def gone(self, product_ids: list[str]) -> None:
        for pid, link in links.listing_links(self.channel.id, product_ids).items():  # type: ignore[arg-type]
            if link.remote_product_id and link.status != "deactivated":
                self.deactivate(pid, link, "deleted in the eCommerce store")

    # ------------------------------------------------------------------ one page

    def page(self, products: list[Product]) -> None:
        ids = [p.remote_id for p in products]
        overrides = load_overrides(self.channel.id, ids)  # type: ignore[arg-type]
        known = links.listing_links(self.channel.id, ids)  # type: ignore[arg-type]
        new_skus = [v.sku for p in products if not (known.get(p.remote_id) and known[p.remote_id].remote_product_id)
                    and p.status == "active" and p.published for v in p.variants if v.sku]
        existing: dict[str, ExistingListing] = {}
        if new_skus and self.ctx.has(self.channel, "find_listings"):
            existing = {e.seller_sku: e for e in self.ctx.call(self.channel, "find_listings", seller_skus=new_skus)}
        def one(product: Product) -> None:
            if self.ctx.stopping():
                return
            try:
                self.product(product, known.get(product.remote_id), overrides.get(product.remote_id), existing)
            except Rejected as exc:
                self.fail(product.remote_id, exc)

        if self.pool is None or len(products) < 2:
            for product in products:
                one(product)
        else:
            for _ in self.pool.map(one, products):
                pass

    def count(self, what: str, n: int = 1) -> None:
        with self.lock:
            self.ctx.count(what, n)

    def fail(self, item: str, err: BaseException) -> None:
        with self.lock:
            self.ctx.fail(item, err)

    def product(self, p: Product, link: ListingLink | None, override: ProductMapping | None,
                existing: dict[str, ExistingListing]) -> None:
        ctx = self.ctx
        listed = bool(link and link.remote_product_id and link.status != "deactivated")
        if p.status != "active" or not p.published:
            if listed:
                self.deactivate(p.remote_id, link, f"product is {p.status if p.status != 'active' else 'unpublished'}")  # type: ignore[arg-type]
            return
        try:
            mapped = self.mapper.resolve(p, override)
        except Rejected as exc:  # e.g. TikTok refuses the category itself
            if not self.ctx.dry_run:
                if link is None:
                    self._upsert(p, link, status="failed", reasons=[str(exc)])
                else:
                    links.save(link, status="failed", reasons=[str(exc)], content_hash=None)
            raise
        if not mapped.listable:
            if listed:
                self.deactivate(p.remote_id, link, "unmapped: " + "; ".join(mapped.missing))  # type: ignore[arg-type]
            else:
                self.hold(p, link, "unmapped" if not mapped.category_id else "held", mapped.missing)
            return
        skus_known = {k: v.remote_sku_id for k, v in links.sku_links(self.channel.id, p.remote_id).items()  # type: ignore[arg-type]
                      if v.remote_sku_id} if link and link.remote_product_id else {}
        try:
            built = build_listing(p, mapped, self.options, self.shop, skus_known)
        except ListingProblem as exc:
            if listed:
                self.deactivate(p.remote_id, link, "; ".join(exc.reasons))  # type: ignore[arg-type]
            else:
                self.hold(p, link, "held", exc.reasons)
            return
        listing = self.transform(built.listing, p)
        digest = content_hash(listing)
        detail: dict[str, Any] = {"rule": mapped.source, "category_id": mapped.category_id,
                                  "skus": built.notes, "warnings": built.warnings}
        if link is not None and link.status == "failed" and link.content_hash == digest:
            self.count("unchanged")  # refused as it is: sent again once the product changes
            return
        if link is not None and link.remote_product_id:
            if link.content_hash == digest and link.status != "deactivated":
                self.count("unchanged")
                return
            listing = listing.model_copy(update={"remote_product_id": link.remote_product_id})
            ctx.decide("update", p.remote_id, why="product changed" if link.status != "deactivated"
                       else "product listable again", title=listing.title, **detail)
            if not ctx.dry_run:
                self.write(p, link, listing, digest, "update_listing", built.warnings)
            return
        found = {s.seller_sku: existing[s.seller_sku] for s in listing.skus if s.seller_sku in existing}
        if found:
            self.link_existing(p, link, listing, digest, found, detail)
            return
        if not self._reserve():
            why = (f"TikTok's daily limit of {self.options.daily_limit} new products on this shop is "
                   "reached: waits for the next day")
            ctx.decide("wait", p.remote_id, why=why, title=listing.title, **detail)
            self.count("waiting")
            if not ctx.dry_run:
                self._upsert(p, link, status="waiting", reasons=[why])
            return
        ctx.decide("create", p.remote_id, why="new mapped product", title=listing.title, **detail)
        if ctx.dry_run:
            return
        if link is None:  # a new link is inserted already claimed: the unique key decides the race
            link = links.insert_claimed(ListingLink(
                channel_store_id=self.channel.id, source_product_id=p.remote_id,  # type: ignore[arg-type]
                status="creating", reasons=[links.worker_id()], title=p.title))
            claimed = link is not None
        else:
            claimed = links.claim(ListingLink, link.id, owner_field="reasons")  # type: ignore[arg-type]
        if link is None or not claimed:
            self._reserve(release=True)
            self.count("skipped")  # another worker is creating it
            return
        if not self.write(p, link, listing, digest, "create_listing", built.warnings):
            self._reserve(release=True)

    def _reserve(self, *, release: bool = False) -> bool:
        """Take (or give back) one of today's new-product slots; False when none is left."""
        with self.lock:
            if release:
                self.created_today -= 1
                return True
            limit = self.options.daily_limit
            if limit is not None and self.created_today >= limit:
                return False
            self.created_today += 1
            return True

    # ------------------------------------------------------------------ writes

    def transform(self, listing: Listing, product: Product) -> Listing:
        for out in self.ctx.pm.hook.transform_listing(listing=listing, product=product, store=self.channel):
            if out is not None:
                listing = out
        return listing

    def write(self, p: Product, link: ListingLink, listing: Listing, digest: str, op: str,
              warnings: list[str]) -> bool:
        """Send a listing; True when the channel took it."""
        try:
            result = self.ctx.call(self.channel, op, listing=listing)
        except Rejected as exc:
            links.save(link, status="failed", reasons=[str(exc)], content_hash=digest)
            self.fail(p.remote_id, exc)
            return False
        except BaseException:
            if op == "create_listing":  # outcome unknown: the next run looks it up by seller SKU
                links.save(link, status="pending", reasons=["interrupted while creating: retried"])
            raise
        kind = "created" if op == "create_listing" else "updated"
        with db.session() as s:  # the link, its SKUs and the journal entry: all or nothing
            links.save_in(s, link, remote_product_id=result.remote_product_id, status=result.status,
                          reasons=warnings + result.warnings, content_hash=digest, title=listing.title)
            links.record_skus(self.channel.id, p.remote_id, result.remote_product_id, listing.skus,  # type: ignore[arg-type]
                              result, session=s)
            journal.record(f"products.{kind}", f"'{listing.title}' {kind} as {result.remote_product_id}",
                           org_id=self.ctx.org_id, store_id=self.channel.id, flow="products",
                           item=p.remote_id, data={"status": result.status, "warnings": result.warnings},
                           session=s)
        self.count(kind)
        return True

    def link_existing(self, p: Product, link: ListingLink | None, listing: Listing, digest: str,
                      found: dict[str, ExistingListing], detail: dict[str, Any]) -> None:
        remote = sorted({e.remote_product_id for e in found.values()})
        self.ctx.decide("link", p.remote_id, why=f"seller SKUs already on the shop in {', '.join(remote)}",
                        title=listing.title, **detail)
        if self.ctx.dry_run:
            return
        if len(remote) > 1:
            self.hold(p, link, "held", [f"its SKUs are spread over TikTok products {', '.join(remote)}: "
                                        "merge them on TikTok Shop or change the SKUs"])
            return
        row = self._upsert(p, link, status="live")
        assert row is not None
        ids = {sku: e.remote_sku_id for sku, e in found.items()}
        links.save(row, remote_product_id=remote[0], status=next(iter(found.values())).status or "live",
                   content_hash=None, reasons=["linked to an existing TikTok product by seller SKU"])
        links.record_skus(self.channel.id, p.remote_id, remote[0], listing.skus, None, ids, quantities=False)  # type: ignore[arg-type]
        self.count("linked")
        # the eCommerce store is the source of truth: bring the linked product in line
        listing = listing.model_copy(update={"remote_product_id": remote[0], "skus": [
            s.model_copy(update={"remote_sku_id": ids.get(s.seller_sku)}) for s in listing.skus]})
        self.write(p, row, listing, digest, "update_listing", [])

    def deactivate(self, pid: str, link: ListingLink, why: str) -> None:
        self.ctx.decide("deactivate", pid, why=why, remote_product_id=link.remote_product_id)
        if self.ctx.dry_run:
            return
        try:
            self.ctx.call(self.channel, "deactivate_listing", remote_product_id=link.remote_product_id)
        except Rejected as exc:
            self.fail(pid, exc)
            return
        links.save(link, status="deactivated", reasons=[why], content_hash=None)
        self.count("deactivated")

    def hold(self, p: Product, link: ListingLink | None, status: str, reasons: list[str]) -> None:
        if link is not None and link.status == status and link.reasons == reasons:
            self.count(status)
            return
        self.ctx.decide("hold", p.remote_id, why="; ".join(reasons), title=p.title)
        self.count(status)
        if not self.ctx.dry_run:
            self._upsert(p, link, status=status, reasons=reasons)

    def _upsert(self, p: Product, link: ListingLink | None, *, status: str | None,
                reasons: list[str] | None = None) -> ListingLink | None:
        if link is None:
            return links.insert_claimed(ListingLink(
                channel_store_id=self.channel.id, source_product_id=p.remote_id,  # type: ignore[arg-type]
                status=status or "pending", reasons=reasons or [], title=p.title))
        if status is None:
            return link
        return links.save(link, status=status, reasons=reasons or [], title=p.title)


def products_flow(ctx: FlowContext) -> None:
    run = ProductsRun(ctx)
    try:
        run.run()
    finally:
        if run.pool is not None:
            run.pool.shutdown(wait=True)


register_flow("products", products_flow, interval_key="interval.products",
              description="eCommerce products -> TikTok listings (create, update, deactivate)")

"""The products flow's decisions (reads only): :class:`ProductsDecider` turns a page of products
and their links into actions (:mod:`bridge.sync.products.actions`), with the shop's daily budget
of new products (:class:`DailyBudget`) and what bridge remembers of the page (:class:`PageState`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bridge import db
from bridge.errors import Rejected
from bridge.facade import transform_listing
from bridge.mapping import Mapped, Mapper, load_overrides
from bridge.models import ExistingListing, Listing, Product
from bridge.statuses import ListingStatus
from bridge.sync import links
from bridge.sync.actions import Action
from bridge.sync.base import FlowContext
from bridge.sync.category_facts import CategoryFacts
from bridge.sync.listing import Built, ListingProblem, build_listing
from bridge.sync.listing_changes import SentSku, decide, digests, encode
from bridge.sync.options import ShopOptions, shop_options
from bridge.sync.products.actions import (
    PREFLIGHT,
    AdoptListing,
    CreateListing,
    DeactivateListing,
    FailListing,
    HoldListing,
    LinkListing,
    RelistListing,
    UpdateListing,
    WaitListing,
)
from bridge.sync.requirements import BrandRules, complete, special_values
from bridge.sync.sku_index import SkuIndex
from bridge.tables import Event, ListingLink, ProductMapping, SkuLink, Store, utcnow

CHANNEL_HOLDS = (ListingStatus.FROZEN, ListingStatus.DELETED, ListingStatus.UNLINKED)
"""Link statuses that stop every write to a product (the channel's status, or the merchant's)."""


class DailyBudget:
    """Today's new-product slots of a shop (``products.daily_limit``), taken by decisions.
    ``used``: the slots taken today, or how to count them (counted when first needed: never
    without a limit)."""

    def __init__(self, limit: int | None, used: int | Callable[[], int]) -> None:
        self.limit = limit
        self._used: int | None = used if isinstance(used, int) else None
        self._count: Callable[[], int] | None = None if isinstance(used, int) else used

    @property
    def used(self) -> int:
        if self._used is None:
            assert self._count is not None
            self._used = self._count()
        return self._used

    @property
    def spent(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def take(self) -> bool:
        if self.spent:
            return False
        self._used = self.used + 1
        return True


def created_today(channel_store_id: int | None) -> int:
    midnight = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
    with db.session() as s:
        return s.exec(select(func.count()).select_from(Event).where(
            Event.kind == "products.created", Event.store_id == channel_store_id,
            Event.at >= midnight)).one()


@dataclass
class PageState:
    """What bridge remembers about one page of products."""

    links: dict[str, ListingLink]
    overrides: dict[str, ProductMapping]
    existing: dict[str, ExistingListing]
    """Channel products found by the seller SKUs of products not listed yet."""
    sent: dict[str, dict[str, SentSku]]
    """Per listed product: variant id -> channel SKU id and last price sent."""


class ProductsDecider:
    """Decides what each product needs on one shop; reads only."""

    def __init__(self, ctx: FlowContext, channel: Store, eco: Store) -> None:
        assert channel.id is not None
        self.ctx = ctx
        self.channel_store, self.channel_id = channel, channel.id
        self.channel = ctx.reader(channel)
        self.eco = ctx.reader(eco)
        self.options: ShopOptions = shop_options(channel.options)
        self.mapper = Mapper(channel.id, self.channel.category_attributes)
        self.shop = {"name": channel.name, "region": channel.region, "currency": channel.currency}
        self.budget = DailyBudget(self.options.daily_limit, lambda: created_today(channel.id))
        self.facts = CategoryFacts(self.channel)
        self.brand_rules = BrandRules.parse(self.options.brands)
        search = self.channel.has("find_listings")
        self.index = SkuIndex(self.channel.find_listings if search else None,
                              self.channel.scan_listings if search and self.channel.has("scan_listings") else None)

    def fingerprint(self) -> str:
        with db.session() as s:
            n, latest = s.exec(select(func.count(), func.max(ProductMapping.updated_at)).where(
                ProductMapping.channel_store_id == self.channel_id)).one()
        rules = [(r.id, r.facet, r.value, r.category_id, r.attributes, r.priority) for r in self.mapper.rules]
        raw = json.dumps([self.options.fingerprint(), rules, n, str(latest)], default=str, sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def state(self, products: Sequence[Product]) -> PageState:
        ids = [p.remote_id for p in products]
        known = links.listing_links(self.channel_id, ids)
        listed = [pid for pid, ln in known.items() if ln.remote_product_id]
        sent: dict[str, dict[str, SentSku]] = {}
        if listed:
            with db.session() as s:
                for r in s.exec(select(SkuLink).where(SkuLink.channel_store_id == self.channel_id,
                                                      col(SkuLink.source_product_id).in_(listed))):
                    sent.setdefault(r.source_product_id, {})[r.source_variant_id] = SentSku(r.remote_sku_id,
                                                                                            r.last_price)
        listed_ids = set(listed)
        new_skus = [v.sku for p in products if p.remote_id not in listed_ids
                    and p.status == "active" and p.published for v in p.variants if v.sku]
        existing = self.index.find(new_skus) if new_skus else {}
        return PageState(known, load_overrides(self.channel_id, ids), existing, sent)

    def page(self, products: Sequence[Product]) -> list[Action]:
        st = self.state(products)
        out: list[Action] = []
        for p in products:
            out += self.product(p, st.links.get(p.remote_id), st)
        return out

    def gone(self, product_ids: list[str]) -> list[Action]:
        return [DeactivateListing(item=pid, why="deleted in the eCommerce store", link=link,
                                  remote_product_id=link.remote_product_id)
                for pid, link in links.listing_links(self.channel_id, product_ids).items()
                if link.remote_product_id and link.status != ListingStatus.DEACTIVATED]

    # ------------------------------------------------------------------ one product

    def product(self, p: Product, link: ListingLink | None, st: PageState) -> list[Action]:
        relist = False
        if link is not None and link.status in CHANNEL_HOLDS:
            if not (link.status == ListingStatus.DELETED and self.options.recreate_deleted):
                self.ctx.note("held")  # the channel's status (or the merchant) forbids edits: no call
                return []
            relist = True
        listed = (link if link and link.remote_product_id and link.status != ListingStatus.DEACTIVATED
                  and not relist else None)
        if p.status != "active" or not p.published:
            why = f"product is {p.status if p.status != 'active' else 'unpublished'}"
            return self.deactivate(p, listed, why)
        try:
            mapped = self.mapper.resolve(p, st.overrides.get(p.remote_id))
        except Rejected as exc:  # e.g. TikTok refuses the category itself
            return [FailListing(item=p.remote_id, why=str(exc), link=link, title=p.title, error=exc)]
        if not mapped.listable:
            status = ListingStatus.UNMAPPED if not mapped.category_id else ListingStatus.HELD
            return self.not_listable(p, link, listed, status, mapped.missing, "unmapped: ")
        sent = {} if relist else st.sent.get(p.remote_id, {})
        skus_known = {vid: s.remote_sku_id for vid, s in sent.items() if s.remote_sku_id}
        try:
            built = build_listing(p, mapped, self.options, self.shop, skus_known, st.overrides.get(p.remote_id))
        except ListingProblem as exc:
            return self.not_listable(p, link, listed, ListingStatus.HELD, exc.reasons, "")
        done = complete(built.listing, p, self.facts.rules(mapped.category_id or ""),
                        special_values(self.mapper.rules, p, st.overrides.get(p.remote_id)),
                        self.brand_rules, self.facts.brands)
        if done.missing:  # a listed product keeps selling as it is; the missing item shows on its link
            return self.hold(p, link, link.status if link is not None and listed is not None else ListingStatus.HELD,
                             done.missing)
        built.warnings.extend(done.warnings)
        built.listing = done.listing
        return self.send(p, link, mapped, built, st.existing, sent, relist)

    def send(self, p: Product, link: ListingLink | None, mapped: Mapped, built: Built,
             existing: dict[str, ExistingListing], sent: dict[str, SentSku], relist: bool = False) -> list[Action]:
        listing = transform_listing(self.ctx.pm, built.listing, p, self.channel_store)
        digest = encode(digests(listing))
        base: dict[str, Any] = {
            "item": p.remote_id, "link": link, "title": listing.title, "product_title": p.title,
            "digest": digest,
            "warnings": built.warnings,
            "detail": {"rule": mapped.source, "category_id": mapped.category_id, "skus": built.notes,
                       "warnings": built.warnings, "overrides": built.overridden}}
        if relist:
            if not self.budget.take():
                self.ctx.note("waiting")
                return []
            return [RelistListing(why="deleted on the channel; products.recreate_deleted lists it again",
                                  listing=listing, **base)]
        if link is not None and link.remote_product_id:
            return self.listed(link, listing, sent, base)
        if (link is not None and link.status in (ListingStatus.FAILED, ListingStatus.HELD)
                and link.content_hash == digest):
            self.ctx.note("unchanged")  # refused as it is (or by the pre-flight): sent again once it changes
            return []
        found = {s.seller_sku: existing[s.seller_sku] for s in listing.skus if s.seller_sku in existing}
        if found:
            return self.link_existing(p, link, listing, found, base)
        if self.options.preflight and self.ctx.planning and self.channel.has("check_listing"):
            check = self.channel.check_listing(listing, dry_run=True)  # a plan uploads nothing
            if not check.ok:
                return self.hold(p, link, ListingStatus.HELD, [PREFLIGHT + r for r in check.reasons])
        if not self.budget.take():
            why = (f"TikTok's daily limit of {self.options.daily_limit} new products on this shop is "
                   "reached: waits for the next day")
            self.ctx.note("waiting")
            return [WaitListing(why=why, listing=listing, **base)]
        return [CreateListing(why="new mapped product", listing=listing, **base)]

    def listed(self, link: ListingLink, listing: Listing, sent: dict[str, SentSku],
               base: dict[str, Any]) -> list[Action]:
        """A product with a channel product: what changed since it was last sent, part by part."""
        d = decide(link.status, list(link.reasons or []), link.content_hash, listing, sent,
                   recreate_deleted=self.options.recreate_deleted)
        if d.kind in ("unchanged", "hold"):
            self.ctx.note("unchanged" if d.kind == "unchanged" else "held")
            return []
        assert d.changes is not None
        if d.kind == "adopt":
            return [AdoptListing(item=base["item"], why=d.why, link=link, title=base["title"],
                                 digest=encode(d.changes.digests))]
        listing = listing.model_copy(update={"remote_product_id": link.remote_product_id})
        return [UpdateListing(why=d.why, listing=listing, changes=d.changes, activate=d.activate, **base)]

    def link_existing(self, p: Product, link: ListingLink | None, listing: Listing,
                      found: dict[str, ExistingListing], base: dict[str, Any]) -> list[Action]:
        remote = sorted({e.remote_product_id for e in found.values()})
        if len(remote) > 1:
            return self.hold(p, link, ListingStatus.HELD, [f"its SKUs are spread over TikTok products {', '.join(remote)}: "
                                               "merge them on TikTok Shop or change the SKUs"])
        return [LinkListing(why=f"seller SKUs already on the shop in {remote[0]}", listing=listing,
                            remote_product_id=remote[0], found=found, **base)]

    def not_listable(self, p: Product, link: ListingLink | None, listed: ListingLink | None,
                     status: str, reasons: list[str], prefix: str) -> list[Action]:
        if listed is not None:
            return self.deactivate(p, listed, prefix + "; ".join(reasons))
        return self.hold(p, link, status, reasons)

    def deactivate(self, p: Product, listed: ListingLink | None, why: str) -> list[Action]:
        if listed is None or not listed.remote_product_id:
            return []
        return [DeactivateListing(item=p.remote_id, why=why, link=listed,
                                  remote_product_id=listed.remote_product_id)]

    def hold(self, p: Product, link: ListingLink | None, status: str, reasons: list[str]) -> list[Action]:
        self.ctx.note(status)
        if link is not None and link.status == status and link.reasons == reasons:
            return []
        return [HoldListing(item=p.remote_id, why="; ".join(reasons), link=link, title=p.title,
                            status=status, reasons=reasons)]

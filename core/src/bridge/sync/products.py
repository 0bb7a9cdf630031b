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

Decide (:class:`ProductsDecider`, a page at a time) turns products and their links into actions
(:class:`CreateListing`, :class:`UpdateListing`, :class:`LinkListing`, :class:`WaitListing`,
:class:`HoldListing`, :class:`FailListing`, :class:`DeactivateListing`, :class:`AdoptListing`,
:class:`RelistListing`); :class:`ProductsApplier` writes a page's actions, several products at
once (``products.concurrency``).
Options: see :mod:`bridge.sync.options`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, time
from time import monotonic
from typing import Any

from sqlalchemy import String, cast, func
from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import BridgeError, RateLimited, Rejected, Transient
from bridge.facade import StoreWriter, transform_listing
from bridge.mapping import Mapped, Mapper, load_overrides
from bridge.models import ExistingListing, Listing, Product
from bridge.statuses import LISTED, ListingStatus
from bridge.sync import links
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, SyncSink, register_flow
from bridge.sync.category_facts import CategoryFacts
from bridge.sync.listing import Built, ListingProblem, build_listing
from bridge.sync.listing_calls import PRICE_HELD, ChangeSender, channel_held, sent_skus
from bridge.sync.listing_changes import KEPT, Changes, SentSku, decide, digests, encode
from bridge.sync.options import ShopOptions, shop_options
from bridge.sync.requirements import BrandRules, complete, special_values
from bridge.sync.sku_index import SkuIndex
from bridge.tables import Event, ListingLink, ProductMapping, SkuLink, Store, utcnow

ACTIVE = (*LISTED, ListingStatus.CREATING)
#: Statuses a creation may be claimed from: a product not on the channel (never a listed one).
CLAIMABLE = (ListingStatus.PENDING, ListingStatus.FAILED, ListingStatus.HELD, ListingStatus.UNMAPPED,
             ListingStatus.WAITING)
CHANNEL_HOLDS = (ListingStatus.FROZEN, ListingStatus.DELETED, ListingStatus.UNLINKED)
"""Link statuses that stop every write to a product (the channel's status, or the merchant's)."""
PREFLIGHT = "TikTok's pre-flight: "
#: How often a full pass of the catalog records how far it has got (seconds).
PASS_CHECKPOINT_S = 10.0


# ============================================================================ actions


@dataclass(frozen=True, kw_only=True)
class ListingAction(Action):
    """An action about one product's listing; ``link`` is its link as decide saw it."""

    link: ListingLink | None
    title: str = ""


@dataclass(frozen=True, kw_only=True)
class _Send(ListingAction):
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
class CreateListing(_Send):
    """List a new product (claimed first: two workers never both create it)."""

    kind = "create"


@dataclass(frozen=True, kw_only=True)
class UpdateListing(_Send):
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
class RelistListing(_Send):
    """List again a product deleted on the channel (shop option products.recreate_deleted)."""

    kind = "relist"


@dataclass(frozen=True, kw_only=True)
class LinkListing(_Send):
    """Link a product to the channel product that already has its seller SKUs, then update it."""

    kind = "link"
    remote_product_id: str
    found: dict[str, ExistingListing]


@dataclass(frozen=True, kw_only=True)
class WaitListing(_Send):
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


# ============================================================================ decide


class DailyBudget:
    """Today's new-product slots of a shop (``products.daily_limit``), taken by decisions."""

    def __init__(self, limit: int | None, used: int) -> None:
        self.limit, self.used = limit, used

    @property
    def spent(self) -> bool:
        return self.limit is not None and self.used >= self.limit

    def take(self) -> bool:
        if self.spent:
            return False
        self.used += 1
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
        self.budget = DailyBudget(self.options.daily_limit, created_today(channel.id))
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
            built = build_listing(p, mapped, self.options, self.shop, skus_known)
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
                       "warnings": built.warnings}}
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


# ============================================================================ apply


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
        self.options = shop_options(ctx.channel.options)
        self.sender = ChangeSender(ctx, self.channel)

    def apply_all(self, actions: Iterable[Action]) -> None:
        """Write a page's actions several at a time, while the flow decides the next page (one
        page in flight: the previous one is finished first)."""
        todo = list(actions)
        if self.pool is None or len(todo) < 2:
            self.drain()
            super().apply_all(todo)
            return
        self.drain()
        self.in_flight = [self.pool.submit(self.apply, a) for a in todo]

    def drain(self) -> None:
        futures, self.in_flight = self.in_flight, []
        for f in futures:
            f.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _upsert(self, a: ListingAction, *, status: str, reasons: list[str] | None = None) -> ListingLink | None:
        title = a.product_title if isinstance(a, _Send) else a.title
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
        if self.options.preflight and self.channel.has("check_listing"):
            check = self.channel.check_listing(a.listing, dry_run=False)
            if not check.ok:  # the channel would refuse it: held with its reasons, nothing created
                links.save(link, status=ListingStatus.HELD, reasons=[PREFLIGHT + r for r in check.reasons],
                           content_hash=a.digest)
                self.ctx.count("held")
                return
        # the channel's idempotency key: the same on a retry of this creation, new for a relisting
        listing = a.listing.model_copy(update={"create_key": f"{a.item}:{link.id}"})
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

    def send(self, a: _Send, link: ListingLink, listing: Listing, *, create: bool,
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
            links.save_in(s, link, remote_product_id=result.remote_product_id, status=result.status,
                          reasons=(a.warnings if warnings is None else warnings) + result.warnings,
                          content_hash=a.digest, title=listing.title)
            links.record_skus(self.channel_id, a.item, result.remote_product_id, listing.skus,
                              result, session=s)
            journal.record(f"products.{kind}", f"'{listing.title}' {kind} as {result.remote_product_id}",
                           org_id=self.ctx.org_id, store_id=self.channel_id, flow="products",
                           item=a.item, data={"status": result.status, "warnings": result.warnings},
                           session=s)
        self.ctx.count(kind)


# ============================================================================ the flow


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

    def run(self) -> None:
        if self.ctx.items is not None:
            self.named(list(self.ctx.items))
            return
        fp = self.decider.fingerprint()
        saved = json.loads(self.ctx.cursor(self.eco_store, self.cursor_name) or "{}")
        # a full pass that stopped or failed half-way resumes where its checkpoint says
        resume = saved.get("fp") == fp and saved.get("pass") is not None
        full = resume or saved.get("fp") != fp or saved.get("c") is None
        self.saved = saved
        seen = links.SeenSet()
        try:
            if not self.stream(saved["pass"] if resume else None if full else saved["c"], fp, seen, full):
                return
            if full:
                self.sweep(seen)
            self.retry_waiting(seen)
        finally:
            seen.close()

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
            cursor = page.cursor or cursor
            stopping = self.ctx.stopping()
            if full and page.cursor and (stopping or monotonic() - last >= PASS_CHECKPOINT_S):
                self.checkpoint_pass(page.cursor, fp)
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

    def sweep(self, seen: links.SeenSet) -> None:
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

    def retry_waiting(self, seen: links.SeenSet) -> None:
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


def products_flow(ctx: FlowContext) -> None:
    ProductsRun(ctx).run()


register_flow("products", products_flow, interval_key="interval.products", applier=ProductsApplier,
              description="eCommerce products -> TikTok listings (create, update, deactivate)")

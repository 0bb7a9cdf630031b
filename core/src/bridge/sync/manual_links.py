"""Linking by hand: a store product to a product already on a channel store (SKUs matched by
seller SKU, or named where they differ), unlinking, and listing again a product deleted on the
channel, and retrying products that failed or were held. The CLI (``bridge products
link|unlink|link-sku|unlink-sku|relist``) and the admin pages call these functions.

A product linked by hand keeps the channel's content (title, description, images,
attributes) unless the shop option ``products.take_over_content`` says otherwise; its prices
and stock follow the store from the next run on, through the light calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import BridgeError
from bridge.models import Product
from bridge.statuses import ListingStatus
from bridge.sync import links
from bridge.sync.listing_changes import KEPT
from bridge.sync.options import shop_options
from bridge.tables import ListingLink, SkuLink


class LinkError(BridgeError):
    """A manual link cannot be made as asked (the message says what to do)."""


@dataclass
class LinkOutcome:
    remote_product_id: str
    linked: dict[str, str] = field(default_factory=dict)
    """Variant id -> channel SKU id."""
    unmatched: list[str] = field(default_factory=list)
    """Variants (id, SKU) no channel SKU was found for: link them with ``link_sku``."""


def _link(channel_store_id: int, product_id: str) -> ListingLink | None:
    return links.listing_links(channel_store_id, [product_id]).get(product_id)


def _match_skus(product: Product, remote_product_id: str, sku_ids: dict[str, str],
                wanted: dict[str, str]) -> LinkOutcome:
    """The channel SKU of each variant: named in ``wanted`` (by variant id or seller SKU), else
    the channel SKU with the same seller SKU."""
    remote_ids = set(sku_ids.values())
    bad = [r for r in wanted.values() if r not in remote_ids]
    if bad:
        raise LinkError(f"SKU id(s) {', '.join(bad)} are not SKUs of TikTok product {remote_product_id} "
                        f"(its SKUs: {', '.join(f'{k}={v}' for k, v in sku_ids.items())})")
    out = LinkOutcome(remote_product_id)
    for v in product.variants:
        rid = wanted.get(v.remote_id) or (wanted.get(v.sku) if v.sku else None) or sku_ids.get(v.sku or "")
        if rid:
            out.linked[v.remote_id] = rid
        else:
            out.unmatched.append(f"{v.remote_id} ({v.sku or 'no SKU'})")
    if not out.linked:
        raise LinkError(f"no SKU of product {product.remote_id} matches TikTok product {remote_product_id}: name "
                        "them with --sku VARIANT_ID=TIKTOK_SKU_ID")
    return out


def link_product(ctx: Any, product_id: str, remote_product_id: str,
                 skus: dict[str, str] | None = None) -> LinkOutcome:
    """Link store product ``product_id`` to channel product ``remote_product_id``.

    ``ctx`` is a :class:`~bridge.sync.base.FlowContext` of the shop (reads only). ``skus`` maps a
    variant id or seller SKU to a channel SKU id for SKUs whose seller SKUs differ; the others
    match by seller SKU.
    """
    shop, eco = ctx.channel, ctx.ecommerce
    found = ctx.reader(eco).get_products([product_id])
    if not found:
        raise LinkError(f"no product {product_id} in the eCommerce store: check the id (`bridge map unmapped`)")
    product = found[0]
    status = ctx.reader(shop).listing_status([remote_product_id])[0]
    if status.status == "deleted":
        raise LinkError(f"TikTok product {remote_product_id} does not exist on the shop: check the id")
    out = _match_skus(product, remote_product_id, status.sku_ids, dict(skus or {}))
    take_over = shop_options(shop.options).take_over_content
    with db.session() as s:
        link = s.exec(select(ListingLink).where(ListingLink.channel_store_id == shop.id,
                                                ListingLink.source_product_id == product_id)).first()
        link = link or ListingLink(channel_store_id=shop.id, source_product_id=product_id)
        if link.remote_product_id and link.remote_product_id != remote_product_id and link.status not in ("deleted", "unlinked"):
            raise LinkError(f"product {product_id} is linked to TikTok product {link.remote_product_id}: "
                            "unlink it first (`bridge products unlink`)")
        links.save_in(s, link, remote_product_id=remote_product_id, status=status.status,
                      reasons=["linked by hand" + ("" if take_over else ": TikTok's content kept")],
                      content_hash=None if take_over else KEPT, title=product.title)
        rows = {r.source_variant_id: r for r in s.exec(select(SkuLink).where(
            SkuLink.channel_store_id == shop.id, SkuLink.source_product_id == product_id))}
        for v in product.variants:
            rid = out.linked.get(v.remote_id)
            row = rows.get(v.remote_id)
            if rid is None:
                if row is not None:
                    s.delete(row)
                continue
            row = row or SkuLink(channel_store_id=shop.id, source_product_id=product_id,
                                 source_variant_id=v.remote_id, seller_sku=v.sku or "")
            row.remote_product_id, row.remote_sku_id = remote_product_id, rid
            row.last_price = row.last_quantity = None  # sent on the next run
            s.add(row)
        journal.record("products.linked", f"linked by hand to TikTok product {remote_product_id}",
                       org_id=ctx.org_id, store_id=shop.id, flow="products", item=product_id,
                       data={"skus": out.linked, "unmatched": out.unmatched}, session=s)
    return out


def unlink_product(channel_store_id: int, product_id: str) -> bool:
    """Forget a product's link (its channel product is left as it is); the products flow then
    holds it (status ``unlinked``) instead of linking or listing it again. False: not linked."""
    link = _link(channel_store_id, product_id)
    if link is None or link.status == "unlinked":
        return False
    with db.session() as s:
        for row in s.exec(select(SkuLink).where(SkuLink.channel_store_id == channel_store_id,
                                                SkuLink.source_product_id == product_id)):
            s.delete(row)
        links.save_in(s, link, remote_product_id=None, status="unlinked", content_hash=None,
                      reasons=["unlinked by hand: `bridge products link` links it again"])
    return True


def link_sku(channel_store_id: int, variant_id: str, remote_sku_id: str) -> None:
    """Point one linked variant at a channel SKU of the same channel product."""
    with db.session() as s:
        row = s.exec(select(SkuLink).where(SkuLink.channel_store_id == channel_store_id,
                                           SkuLink.source_variant_id == variant_id)).first()
        if row is None:
            raise LinkError(f"variant {variant_id} belongs to no linked product: link its product first")
        row.remote_sku_id, row.last_price, row.last_quantity = remote_sku_id, None, None
        s.add(row)


def unlink_sku(channel_store_id: int, variant_id: str) -> bool:
    """Forget one variant's channel SKU (the next run adds it to the channel product)."""
    with db.session() as s:
        row = s.exec(select(SkuLink).where(SkuLink.channel_store_id == channel_store_id,
                                           SkuLink.source_variant_id == variant_id)).first()
        if row is None:
            return False
        s.delete(row)
    return True


def relist(channel_store_id: int, product_id: str) -> bool:
    """Let the products flow list again a product deleted on the channel (or unlinked): its old
    channel ids are forgotten, and its link starts afresh (a new link id: the new product gets a
    new idempotency key). False when there was nothing to relist."""
    link = _link(channel_store_id, product_id)
    if link is None or link.status not in ("deleted", "unlinked"):
        return False
    with db.session() as s:
        for row in s.exec(select(SkuLink).where(SkuLink.channel_store_id == channel_store_id,
                                                SkuLink.source_product_id == product_id)):
            s.delete(row)
        old = s.get(ListingLink, link.id)
        if old is not None:
            s.delete(old)
        s.flush()
        s.add(ListingLink(channel_store_id=channel_store_id, source_product_id=product_id, status="pending",
                          title=link.title, reasons=[f"to be listed again (was TikTok product {link.remote_product_id})"]))
    return True


def retry(channel_store_id: int, product_ids: list[str]) -> list[str]:
    """Let the products flow send again, as if never sent, the products among ``product_ids``
    that failed or are held (a refused product is otherwise sent again only once it changes);
    the ids made pending."""
    done = []
    with db.session() as s:
        for link in s.exec(select(ListingLink).where(ListingLink.channel_store_id == channel_store_id,
                                                     col(ListingLink.source_product_id).in_(product_ids))):
            if link.status in (ListingStatus.FAILED, ListingStatus.HELD):
                link.status, link.content_hash = ListingStatus.PENDING, None
                s.add(link)
                done.append(link.source_product_id)
    return done

"""Drift: how each TikTok shop differs from what the eCommerce store says it should show.

Compared per linked SKU and product:

* quantity — the shop's quantity (``read_inventory`` on the channel) against the quantity the
  inventory rules give for the store's available stock;
* price — the price the price rules give for the store's current price against the price
  bridge last sent (the channel contract does not read prices back);
* listing status — the shop's status (``listing_status``) against the link's.

:func:`fix` repairs them: quantities are written again, products with a price or status
difference are sent again (their content hash is cleared, then the products flow runs for them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bridge import db
from bridge.facade import StoreReader
from bridge.models import Product
from bridge.plugins import PluginManager, get_manager
from bridge.statuses import LISTED, ListingStatus
from bridge.sync.base import FlowContext, _stores, run_flow
from bridge.sync.options import shop_options
from bridge.sync.pricing import compute_price, compute_quantity
from bridge.tables import ListingLink, SkuLink, Store

ON_SALE = LISTED


@dataclass
class Difference:
    shop: str
    kind: str  # quantity | price | status
    item: str
    expected: Any
    actual: Any
    product_id: str

    def row(self) -> dict[str, Any]:
        return {"shop": self.shop, "kind": self.kind, "item": self.item, "expected": self.expected,
                "actual": self.actual}


def _sku_links(channel_id: int | None, variant_ids: list[str]) -> dict[str, SkuLink]:
    with db.session() as s:
        return {r.source_variant_id: r for r in s.exec(select(SkuLink).where(
            SkuLink.channel_store_id == channel_id, col(SkuLink.source_variant_id).in_(variant_ids),
            col(SkuLink.remote_sku_id).is_not(None)))}


def compare(ctx: FlowContext) -> list[Difference]:
    """Every difference between one TikTok shop and the eCommerce store (read-only)."""
    assert ctx.channel is not None and ctx.ecommerce is not None
    ch = ctx.channel
    with db.session() as s:
        listed = {ln.source_product_id: ln for ln in s.exec(select(ListingLink).where(
            ListingLink.channel_store_id == ch.id, col(ListingLink.status).in_(ON_SALE),
            col(ListingLink.remote_product_id).is_not(None)))}
    channel = ctx.reader(ch)
    actual_qty = {lv.variant_id: lv.quantity for lv in channel.read_inventory(None)}
    out: list[Difference] = []
    for page in ctx.reader(ctx.ecommerce).list_products(None):
        out += _page_differences(ch, [p for p in page.products if p.remote_id in listed], actual_qty)
    if listed and channel.has("listing_status"):
        out += _status_differences(ch, channel, listed)
    return out


def _page_differences(ch: Store, products: list[Product], actual_qty: dict[str, int]) -> list[Difference]:
    """Quantity and price differences of the SKUs of listed products."""
    opts = shop_options(ch.options)
    variant_ids = [v.remote_id for p in products for v in p.variants]
    links = _sku_links(ch.id, variant_ids) if variant_ids else {}
    out: list[Difference] = []
    for p in products:
        for v in p.variants:
            link = links.get(v.remote_id)
            if link is None:
                continue
            want, _ = compute_quantity(v.quantity, v.inventory_tracked, opts.inventory)
            have = actual_qty.get(link.remote_sku_id or "")
            if have is not None and have != want:
                out.append(Difference(ch.name, "quantity", link.seller_sku, want, have, p.remote_id))
            price, _, _ = compute_price(v.price, v.compare_at_price, opts.pricing)
            if link.last_price is not None and str(price.amount) != link.last_price:
                out.append(Difference(ch.name, "price", link.seller_sku, str(price.amount),
                                      link.last_price, p.remote_id))
    return out


def _status_differences(ch: Store, channel: StoreReader, listed: dict[str, ListingLink]) -> list[Difference]:
    """Listings the channel took off sale, deleted or refused while bridge thinks them on sale."""
    gone = (ListingStatus.DEACTIVATED, ListingStatus.DELETED, ListingStatus.FAILED)
    by_remote = {ln.remote_product_id or "": ln for ln in listed.values()}
    ids = list(by_remote)
    out: list[Difference] = []
    for i in range(0, len(ids), 50):
        for res in channel.listing_status(ids[i:i + 50]):
            ln = by_remote.get(res.remote_product_id)
            if ln is not None and res.status in gone and res.status != ln.status:
                out.append(Difference(ch.name, "status", ln.source_product_id, ln.status, res.status,
                                      ln.source_product_id))
    return out


def drift(org_id: int, shop_id: int | None = None, pm: PluginManager | None = None) -> list[Difference]:
    pm = pm or get_manager()
    ecommerce, channels = _stores(org_id, shop_id)
    out: list[Difference] = []
    for ch in channels:
        ctx = FlowContext(flow="drift", org_id=org_id, ecommerce=ecommerce, channel=ch, pm=pm)
        out += compare(ctx)
    return out


def fix(org_id: int, diffs: list[Difference], pm: PluginManager | None = None) -> None:
    """Repair differences: write quantities again, send products again."""
    shops: dict[str, Store] = {}
    with db.session() as s:
        for st in s.exec(select(Store).where(Store.org_id == org_id, Store.kind == "channel")):
            shops[st.name] = st
    for name in {d.shop for d in diffs}:
        shop = shops[name]
        mine = [d for d in diffs if d.shop == name]
        qty_products = sorted({d.product_id for d in mine if d.kind == "quantity"})
        other_products = sorted({d.product_id for d in mine if d.kind != "quantity"})
        with db.session() as s:
            if qty_products:
                for sku in s.exec(select(SkuLink).where(SkuLink.channel_store_id == shop.id,
                                                        col(SkuLink.source_product_id).in_(qty_products))):
                    sku.last_quantity = None
                    s.add(sku)
            if other_products:
                for row in s.exec(select(ListingLink).where(ListingLink.channel_store_id == shop.id,
                                                            col(ListingLink.source_product_id).in_(other_products))):
                    row.content_hash = None
                    s.add(row)
        if other_products:
            run_flow("products", org_id, shop.id, items=other_products, pm=pm)
        if qty_products:
            run_flow("inventory", org_id, shop.id, items=qty_products, pm=pm)

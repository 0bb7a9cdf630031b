"""Inventory: eCommerce available quantities -> every TikTok shop of the organization.

Each linked SKU gets ``available - buffer`` (units or percent), zero under the threshold, at
most the cap; an untracked variant gets the configured quantity (options in
:mod:`bridge.sync.options`). Only SKUs whose quantity differs from the one last sent
(:attr:`SkuLink.last_quantity`) are written, in one ``update_inventory`` call per TikTok product
with all its changed SKUs. A webhook-triggered run (``items``: product or variant ids) reads
only those variants. Dry run (``bridge plan inventory``) makes no write.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlmodel import col, or_, select

from bridge import db
from bridge.errors import Rejected
from bridge.models import InventoryLevel, InventoryUpdate
from bridge.sync.base import FlowContext, register_flow
from bridge.sync.options import shop_options
from bridge.sync.pricing import compute_quantity
from bridge.tables import ListingLink, SkuLink, utcnow

CHUNK = 500
LISTED = ("pending", "draft", "live")


def _chunks(levels: Iterator[InventoryLevel], size: int) -> Iterator[list[InventoryLevel]]:
    buf: list[InventoryLevel] = []
    for level in levels:
        buf.append(level)
        if len(buf) >= size:
            yield buf
            buf = []
    if buf:
        yield buf


def _links(channel_store_id: int, variant_ids: list[str]) -> dict[str, SkuLink]:
    with db.session() as s:
        rows = s.exec(select(SkuLink).join(ListingLink, (ListingLink.channel_store_id == SkuLink.channel_store_id)
                                           & (ListingLink.source_product_id == SkuLink.source_product_id))
                      .where(SkuLink.channel_store_id == channel_store_id,
                             col(SkuLink.source_variant_id).in_(variant_ids),
                             col(SkuLink.remote_sku_id).is_not(None),
                             col(ListingLink.status).in_(LISTED)))
        return {r.source_variant_id: r for r in rows}


def _variants_for(channel_store_id: int, items: list[str]) -> list[str]:
    """Variant ids of linked SKUs named by ``items`` (product or variant ids); ids that name
    neither (e.g. a platform's inventory item ids) are passed on for the plugin to resolve."""
    with db.session() as s:
        rows = list(s.exec(select(SkuLink).where(
            SkuLink.channel_store_id == channel_store_id,
            or_(col(SkuLink.source_product_id).in_(items), col(SkuLink.source_variant_id).in_(items)))))
    known = {r.source_product_id for r in rows} | {r.source_variant_id for r in rows}
    return sorted({r.source_variant_id for r in rows} | {i for i in items if i not in known})


def inventory_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    channel, eco = ctx.channel, ctx.ecommerce
    rules = shop_options(channel.options).inventory
    variant_ids: list[str] | None = None
    if ctx.items is not None:
        variant_ids = _variants_for(channel.id, ctx.items)  # type: ignore[arg-type]
        if not variant_ids:
            return
    pending: dict[str, list[tuple[InventoryUpdate, SkuLink, str]]] = {}
    levels = ctx.call(eco, "read_inventory", variant_ids=variant_ids)
    for chunk in _chunks(iter(levels), CHUNK):
        known = _links(channel.id, [lv.variant_id for lv in chunk])  # type: ignore[arg-type]
        for lv in chunk:
            link = known.get(lv.variant_id)
            if link is None:
                continue
            qty, why = compute_quantity(lv.quantity, lv.tracked, rules)
            if link.last_quantity == qty:
                ctx.count("unchanged")
                continue
            ctx.decide("update", link.seller_sku, why=why, quantity=qty, was=link.last_quantity,
                       remote_sku_id=link.remote_sku_id)
            update = InventoryUpdate(product_id=link.remote_product_id or "", sku_id=link.remote_sku_id or "",
                                     quantity=qty)
            pending.setdefault(update.product_id, []).append((update, link, why))
        # flush every product but the chunk's last one (its SKUs may continue in the next chunk)
        tail = known.get(chunk[-1].variant_id)
        for pid in [p for p in pending if tail is None or p != tail.remote_product_id]:
            _flush(ctx, pending.pop(pid))
        if ctx.stopping():
            break
    for batch in pending.values():
        _flush(ctx, batch)


def _flush(ctx: FlowContext, batch: list[tuple[InventoryUpdate, SkuLink, str]]) -> None:
    if ctx.dry_run or not batch:
        return
    assert ctx.channel is not None
    updates = [u for u, _, _ in batch]
    try:
        results = ctx.call(ctx.channel, "update_inventory", updates=updates)
    except Rejected as exc:
        for _, link, _ in batch:
            ctx.fail(link.seller_sku, exc)
        return
    by_key: dict[str, Any] = {r.key: r for r in results}
    done = []
    for update, link, _ in batch:
        res = by_key.get(update.sku_id)
        if res is not None and res.ok:
            done.append((link.id, update.quantity))
        else:
            ctx.fail(link.seller_sku, Rejected(
                f"quantity of {link.seller_sku} refused: {res.message if res else 'no result for this SKU'}",
                code=res.code if res else None))
    if done:
        with db.session() as s:
            for link_id, qty in done:
                row = s.get(SkuLink, link_id)
                if row is not None:
                    row.last_quantity = qty
                    row.updated_at = utcnow()
                    s.add(row)
        ctx.count("updated", len(done))


register_flow("inventory", inventory_flow, interval_key="interval.inventory",
              description="eCommerce stock -> TikTok SKU quantities (changed SKUs only, batched per product)")

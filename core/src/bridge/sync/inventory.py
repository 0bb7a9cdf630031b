"""Inventory: eCommerce available quantities -> every TikTok shop of the organization.

Each linked SKU gets ``available - buffer`` (units or percent), zero under the threshold, at
most the cap; an untracked variant gets the configured quantity (options in
:mod:`bridge.sync.options`). Only SKUs whose quantity differs from the one last sent
(:attr:`SkuLink.last_quantity`) are written, in one ``update_inventory`` call per TikTok product
with all its changed SKUs. A webhook-triggered run (``items``: product or variant ids) reads
only those variants.

Quantities are compared with what the channel reports (one read per chunk of SKUs), falling back
on the one last sent: a sale on the channel lowers its figure by itself, so the last-sent figure
can hide a difference for good — an untracked variant's store figure never moves, and a tracked
one's may come back to the last-sent value (a sale of 2, then the merchant adds 2).

Decide: one :class:`UpdateQuantity` per changed SKU; :class:`InventoryApplier` writes a
product's SKUs in one call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, or_, select

from bridge import db
from bridge.errors import Rejected
from bridge.models import InventoryLevel, InventoryUpdate, ItemResult
from bridge.statuses import LISTED
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, SyncSink, register_flow
from bridge.sync.options import InventoryRules, shop_options
from bridge.sync.pricing import compute_quantity
from bridge.sync.read_ahead import read_ahead
from bridge.tables import ListingLink, SkuLink, utcnow

CHUNK = 500


@dataclass(frozen=True, kw_only=True)
class UpdateQuantity(Action):
    """Send one SKU's new quantity (batched with the other SKUs of its product)."""

    kind = "update"
    link: SkuLink
    quantity: int

    @property
    def product_id(self) -> str:
        return self.link.remote_product_id or ""

    def details(self) -> dict[str, Any]:
        return {"quantity": self.quantity, "was": self.link.last_quantity,
                "remote_sku_id": self.link.remote_sku_id}


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
        rows = s.exec(select(SkuLink).join(ListingLink, (col(ListingLink.channel_store_id) == SkuLink.channel_store_id)
                                           & (col(ListingLink.source_product_id) == SkuLink.source_product_id))
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


def channel_quantities(ctx: FlowContext, chunk: list[InventoryLevel],
                       known: dict[str, SkuLink]) -> dict[str, int]:
    """What the channel reports for the chunk's linked SKUs (channel SKU id -> quantity)."""
    assert ctx.channel is not None
    sku_ids = [known[lv.variant_id].remote_sku_id or "" for lv in chunk if lv.variant_id in known]
    reader = ctx.reader(ctx.channel)
    if not sku_ids or not reader.has("read_inventory"):
        return {}
    return {lv.variant_id: lv.quantity for lv in reader.read_inventory(sku_ids)}


def decide(ctx: FlowContext, chunk: list[InventoryLevel], known: dict[str, SkuLink],
           rules: InventoryRules, reported: dict[str, int] | None = None) -> list[UpdateQuantity]:
    """The SKUs of ``chunk`` whose quantity to send differs from the one the channel reports
    (``reported``), else from the one last sent."""
    out = []
    for lv in chunk:
        link = known.get(lv.variant_id)
        if link is None:
            continue
        qty, why = compute_quantity(lv.quantity, lv.tracked, rules)
        current = link.last_quantity
        if reported and link.remote_sku_id in reported:
            current = reported[link.remote_sku_id]
        if current == qty:
            ctx.note("unchanged")
            continue
        out.append(UpdateQuantity(item=link.seller_sku, why=why, link=link, quantity=qty))
    return out


def inventory_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    channel_id = ctx.channel.id
    assert channel_id is not None
    rules = shop_options(ctx.channel.options).inventory
    variant_ids: list[str] | None = None
    if ctx.items is not None:
        variant_ids = _variants_for(channel_id, ctx.items)
        if not variant_ids:
            return
    pending: list[UpdateQuantity] = []
    # the store's next chunk is read while this one is compared with the channel's figures
    with closing(read_ahead(_chunks(ctx.reader(ctx.ecommerce).read_inventory(variant_ids), CHUNK))) as chunks:
        for chunk in chunks:
            known = _links(channel_id, [lv.variant_id for lv in chunk])
            pending += decide(ctx, chunk, known, rules, channel_quantities(ctx, chunk, known))
            # hand on every product but the chunk's last one (its SKUs may continue in the next chunk)
            tail = known.get(chunk[-1].variant_id)
            keep = tail.remote_product_id if tail is not None else None
            ctx.act([a for a in pending if keep is None or a.product_id != keep])
            pending = [a for a in pending if keep is not None and a.product_id == keep]
            if ctx.stopping():
                break
    ctx.act(pending)


class InventoryApplier(Applier):
    """Writes quantities: one ``update_inventory`` call per channel product."""

    def __init__(self, ctx: FlowContext, sink: SyncSink) -> None:
        super().__init__(ctx, sink)
        assert ctx.channel is not None
        self.channel = sink.writer(ctx.channel)

    def apply_all(self, actions: Iterable[Action]) -> None:
        by_product: dict[str, list[UpdateQuantity]] = {}
        for a in actions:
            assert isinstance(a, UpdateQuantity)
            by_product.setdefault(a.product_id, []).append(a)
        for batch in by_product.values():
            self.update(batch)

    @applies(UpdateQuantity)
    def update_one(self, a: UpdateQuantity) -> None:
        self.update([a])

    def update(self, batch: list[UpdateQuantity]) -> None:
        updates = [InventoryUpdate(product_id=a.product_id, sku_id=a.link.remote_sku_id or "",
                                   quantity=a.quantity) for a in batch]
        try:
            results = self.channel.update_inventory(updates)
        except Rejected as exc:
            for a in batch:
                self.ctx.fail(a.item, exc)
            return
        by_key: dict[str, ItemResult] = {r.key: r for r in results}
        done = []
        for a in batch:
            res = by_key.get(a.link.remote_sku_id or "")
            if res is not None and res.ok:
                done.append((a.link.id, a.quantity))
            else:
                self.ctx.fail(a.item, Rejected(
                    f"quantity of {a.item} refused: {res.message if res else 'no result for this SKU'}",
                    code=res.code if res else None))
        if done:
            with db.session() as s:
                for link_id, qty in done:
                    row = s.get(SkuLink, link_id)
                    if row is not None:
                        row.last_quantity = qty
                        row.updated_at = utcnow()
                        s.add(row)
            self.ctx.count("updated", len(done))


register_flow("inventory", inventory_flow, interval_key="interval.inventory", applier=InventoryApplier,
              description="eCommerce stock -> TikTok SKU quantities (changed SKUs only, batched per product)")

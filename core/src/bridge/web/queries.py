"""Small read-only queries the pages share (sync health, counts, pages of rows)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, cast, func
from sqlmodel import col, select

from bridge import db
from bridge.tables import Job, ListingLink, OrderLink, SkuLink, Store, SyncRun

PAGE_SIZE = 50


@dataclass
class Health:
    """A store's sync health: the last run of each flow and the failing jobs."""

    last_runs: list[SyncRun]
    failing: list[Job]

    @property
    def status(self) -> str:
        if self.failing or any(r.status == "failed" for r in self.last_runs):
            return "failing"
        if any(r.status == "partial" for r in self.last_runs):
            return "partial"
        return "ok" if self.last_runs else "not run yet"


def health(stores: list[Store]) -> dict[int, Health]:
    """Health of each store (runs are recorded against the shop of a pair, or the eCommerce
    store for per-organization flows)."""
    ids = [s.id for s in stores if s.id is not None]
    out: dict[int, Health] = {i: Health([], []) for i in ids}
    if not ids:
        return out
    with db.session() as s:
        latest = (select(SyncRun.flow, SyncRun.channel_store_id, SyncRun.store_id,
                         func.max(SyncRun.id).label("mid"))
                  .where(SyncRun.dry_run == False)  # noqa: E712
                  .where(col(SyncRun.channel_store_id).in_(ids) | col(SyncRun.store_id).in_(ids))
                  .group_by(SyncRun.flow, SyncRun.channel_store_id, SyncRun.store_id))
        mids = [r.mid for r in s.exec(latest)]
        runs = list(s.exec(select(SyncRun).where(col(SyncRun.id).in_(mids or [-1]))))
        jobs = list(s.exec(select(Job).where(Job.failures > 0,
                                             col(Job.channel_store_id).in_(ids) | col(Job.store_id).in_(ids))))
    for run in runs:
        sid = run.channel_store_id if run.channel_store_id in out else run.store_id
        if sid in out:
            out[sid].last_runs.append(run)
    for job in jobs:
        sid = job.channel_store_id if job.channel_store_id in out else job.store_id
        if sid in out:
            out[sid].failing.append(job)
    return out


def listing_counts(shop_id: int) -> dict[str, int]:
    with db.session() as s:
        rows = s.exec(select(ListingLink.status, func.count()).where(
            ListingLink.channel_store_id == shop_id).group_by(ListingLink.status))
        return {status: n for status, n in rows}


@dataclass
class SkuTotals:
    """A listed product's SKUs as bridge last sent them: price range and total quantity."""

    skus: int
    min_price: Decimal | None
    max_price: Decimal | None
    quantity: int | None

    @property
    def price(self) -> str:
        if self.min_price is None:
            return ""
        return f"{self.min_price:.2f}" if self.min_price == self.max_price else f"{self.min_price:.2f}–{self.max_price:.2f}"


#: Sort keys of the products list (``-key``: descending).
LISTING_SORTS = ("title", "status", "updated", "price", "stock")


def _sent(shop_id: int, product_ids: list[str] | None = None) -> Any:
    """Per product of the shop (of ``product_ids``, or all): the SKUs' lowest and highest price
    and total quantity last sent."""
    price = cast(SkuLink.last_price, Numeric(12, 2))
    q = (select(SkuLink.source_product_id, func.count().label("skus"), func.min(price).label("min_price"),
                func.max(price).label("max_price"), func.sum(SkuLink.last_quantity).label("quantity"))
         .where(SkuLink.channel_store_id == shop_id))
    if product_ids is not None:
        q = q.where(col(SkuLink.source_product_id).in_(product_ids or [""]))
    return q.group_by(SkuLink.source_product_id)


def listings(shop_id: int, *, status: str = "", search: str = "", page: int = 1,
             sort: str = "") -> tuple[list[tuple[ListingLink, SkuTotals]], int]:
    """One page of a shop's products with their listing status and what bridge last sent, and
    the total: filtered by status, searched by title, store product id or seller SKU, sorted by
    one of :data:`LISTING_SORTS` (``-`` first: descending). Three queries whatever the page holds."""
    key = sort.lstrip("-")
    with db.session() as s:
        q = select(ListingLink).where(ListingLink.channel_store_id == shop_id)
        if status:
            q = q.where(ListingLink.status == status)
        if search:
            like = f"%{search}%"
            by_sku = select(SkuLink.source_product_id).where(SkuLink.channel_store_id == shop_id,
                                                             col(SkuLink.seller_sku).ilike(like))
            q = q.where(col(ListingLink.title).ilike(like) | col(ListingLink.source_product_id).ilike(like)
                        | col(ListingLink.source_product_id).in_(by_sku))
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        if key in ("price", "stock"):  # sorted by what was sent: joined to the totals of the shop
            sent = _sent(shop_id).subquery()
            column = sent.c.min_price if key == "price" else sent.c.quantity
            q = q.outerjoin(sent, sent.c.source_product_id == ListingLink.source_product_id)
        else:
            column = {"title": col(ListingLink.title), "status": col(ListingLink.status),
                      "updated": col(ListingLink.updated_at)}.get(key, col(ListingLink.id))
        order = (column.desc() if sort.startswith("-") else column.asc()).nulls_last()
        links = list(s.exec(q.order_by(order, col(ListingLink.id)).offset((max(page, 1) - 1) * PAGE_SIZE)
                            .limit(PAGE_SIZE)))
        totals = {pid: SkuTotals(n, lo, hi, qty) for pid, n, lo, hi, qty
                  in s.exec(_sent(shop_id, [ln.source_product_id for ln in links]))}
        empty = SkuTotals(0, None, None, None)
        return [(ln, totals.get(ln.source_product_id, empty)) for ln in links], int(total)


def orders(shop_ids: list[int], *, status: str = "", search: str = "", page: int = 1) -> tuple[list[OrderLink], int]:
    with db.session() as s:
        q = select(OrderLink).where(col(OrderLink.channel_store_id).in_(shop_ids or [-1]))
        if status:
            q = q.where(OrderLink.status == status)
        if search:
            like = f"%{search}%"
            q = q.where(col(OrderLink.channel_order_id).ilike(like)
                        | col(OrderLink.ecommerce_order_id).ilike(like))
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        rows = list(s.exec(q.order_by(col(OrderLink.id).desc())
                           .offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return rows, int(total)


def pages(total: int, page: int) -> dict[str, Any]:
    last = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return {"page": min(max(page, 1), last), "last": last, "total": total}

"""Small read-only queries the pages share (sync health, counts, pages of rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bridge import db
from bridge.tables import Job, ListingLink, OrderLink, Store, SyncRun

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


def listings(shop_id: int, *, status: str = "", search: str = "", page: int = 1) -> tuple[list[ListingLink], int]:
    """One page of a shop's products with their listing status, and the total."""
    with db.session() as s:
        q = select(ListingLink).where(ListingLink.channel_store_id == shop_id)
        if status:
            q = q.where(ListingLink.status == status)
        if search:
            like = f"%{search}%"
            q = q.where(col(ListingLink.title).ilike(like) | col(ListingLink.source_product_id).ilike(like))
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        rows = list(s.exec(q.order_by(ListingLink.id).offset((max(page, 1) - 1) * PAGE_SIZE)
                           .limit(PAGE_SIZE)))
        return rows, int(total)


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

"""Small read-only queries the pages share (sync health, counts, pages of rows)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, cast, func, or_
from sqlmodel import col, select

from bridge import db
from bridge.tables import (
    Event,
    Job,
    ListingLink,
    OrderLink,
    RefundRecord,
    SkuLink,
    Store,
    SyncRun,
    TrackingPushRecord,
)

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
    """Health of each store: the runs and failing jobs of every flow that reads or writes it
    (a pair's run counts on its TikTok shop and on the eCommerce store it reads from)."""
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
        for sid in out.keys() & {run.channel_store_id, run.store_id}:
            out[sid].last_runs.append(run)
    for job in jobs:
        for sid in out.keys() & {job.channel_store_id, job.store_id}:
            out[sid].failing.append(job)
    for h in out.values():
        h.last_runs.sort(key=lambda r: (r.flow, r.id or 0))
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
        """``12.50``, or ``10.50–12.50`` when the SKUs differ ('' when nothing was sent)."""
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
    the total: filtered by status, searched in the title and store product id or by the start
    of a seller SKU, sorted by
    one of :data:`LISTING_SORTS` (``-`` first: descending). Three queries whatever the page holds."""
    key = sort.lstrip("-")
    with db.session() as s:
        q = select(ListingLink).where(ListingLink.channel_store_id == shop_id)
        if status:
            q = q.where(ListingLink.status == status)
        if search:
            like = f"%{search}%"
            # seller SKUs that begin with the text (as typed, or in capitals): the SKU index's range
            starts = [(col(SkuLink.seller_sku) >= t) & (col(SkuLink.seller_sku) < t + "\uffff")
                      for t in dict.fromkeys((search, search.upper()))]
            by_sku = select(SkuLink.source_product_id).where(SkuLink.channel_store_id == shop_id, or_(*starts))
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


#: The orders list's sort keys (``sort=-created``: newest first) -> what they order by; order
#: numbers and ids by length first, so ``#999`` comes before ``#1000``.
ORDER_SORTS: dict[str, list[Any]] = {
    "created": [col(OrderLink.id)],
    "updated": [col(OrderLink.updated_at)],
    "tiktok": [func.length(OrderLink.channel_order_id), col(OrderLink.channel_order_id)],
    "store": [func.length(OrderLink.ecommerce_order_number), col(OrderLink.ecommerce_order_number)],
    "status": [col(OrderLink.status)],
}
DEFAULT_ORDER_SORT = "-created"


def order_sort(value: str) -> str:
    """``value`` when it names a sort of :data:`ORDER_SORTS` (``-`` first: descending), else
    the default (newest first)."""
    return value if value.lstrip("-") in ORDER_SORTS else DEFAULT_ORDER_SORT


def orders(shop_ids: list[int], *, status: str = "", search: str = "", page: int = 1,
           sort: str = DEFAULT_ORDER_SORT) -> tuple[list[OrderLink], int]:
    """One page of the shops' orders and the total. ``search`` finds the store order number
    (``#1022`` or ``1022``), the TikTok order id and the seller SKUs; ``sort`` is one of
    :data:`ORDER_SORTS`. Two queries whatever the page holds."""
    with db.session() as s:
        q = select(OrderLink).where(col(OrderLink.channel_store_id).in_(shop_ids or [-1]))
        if status:
            q = q.where(OrderLink.status == status)
        if search.strip():
            like = f"%{search.strip()}%"
            q = q.where(col(OrderLink.channel_order_id).ilike(like)
                        | col(OrderLink.ecommerce_order_number).ilike(like)
                        | col(OrderLink.ecommerce_order_id).ilike(like)
                        | col(OrderLink.skus).ilike(like))
        total = s.exec(select(func.count()).select_from(q.subquery())).one()
        sort = order_sort(sort)
        keys = [*ORDER_SORTS[sort.lstrip("-")], col(OrderLink.id)]
        ordering = [k.desc() if sort.startswith("-") else k.asc() for k in keys]
        rows = list(s.exec(q.order_by(*ordering).offset((max(page, 1) - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
        return rows, int(total)


def order_records(rows: list[OrderLink]) -> tuple[dict[int, list[TrackingPushRecord]],
                                                  dict[tuple[int, str], list[RefundRecord]]]:
    """The tracking pushes (by order link id) and the returns, refunds and cancellations (by
    shop and TikTok order id) of a page of orders: two queries for the page."""
    pushes: dict[int, list[TrackingPushRecord]] = {}
    refunds: dict[tuple[int, str], list[RefundRecord]] = {}
    if not rows:
        return pushes, refunds
    with db.session() as s:
        for t in s.exec(select(TrackingPushRecord).where(
                col(TrackingPushRecord.order_link_id).in_([r.id for r in rows])).order_by(col(TrackingPushRecord.id))):
            pushes.setdefault(t.order_link_id, []).append(t)
        for r in s.exec(select(RefundRecord).where(
                col(RefundRecord.channel_store_id).in_({o.channel_store_id for o in rows}),
                col(RefundRecord.channel_order_id).in_([o.channel_order_id for o in rows]))
                .order_by(col(RefundRecord.id))):
            refunds.setdefault((r.channel_store_id, r.channel_order_id), []).append(r)
    return pushes, refunds


@dataclass
class OrderView:
    """Everything the order page shows of one order link, read in a fixed number of queries."""

    link: OrderLink
    shop: Store
    store: Store | None
    pushes: list[TrackingPushRecord]
    refunds: list[RefundRecord]
    events: list[Event]


def order_view(link: OrderLink, shop: Store, *, events: int = 100) -> OrderView:
    """The order's stores, tracking pushes, returns/refunds/cancellations and its journal
    entries (those of the order and of its returns), newest first."""
    with db.session() as s:
        store = s.get(Store, link.ecommerce_store_id) if link.ecommerce_store_id else None
        pushes = list(s.exec(select(TrackingPushRecord).where(TrackingPushRecord.order_link_id == link.id)
                             .order_by(col(TrackingPushRecord.id))))
        refunds = list(s.exec(select(RefundRecord).where(
            RefundRecord.channel_store_id == link.channel_store_id,
            RefundRecord.channel_order_id == link.channel_order_id).order_by(col(RefundRecord.id))))
        items = [link.channel_order_id, *(r.remote_id for r in refunds)]
        journal = list(s.exec(select(Event).where(Event.store_id == link.channel_store_id,
                                                  col(Event.item).in_(items))
                              .order_by(col(Event.id).desc()).limit(events)))
    return OrderView(link=link, shop=shop, store=store, pushes=pushes, refunds=refunds, events=journal)


def pages(total: int, page: int) -> dict[str, Any]:
    last = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return {"page": min(max(page, 1), last), "last": last, "total": total}


@dataclass(frozen=True)
class ItemName:
    """What a merchant calls a journal or error item, and its page."""

    label: str
    href: str


def item_names(items: set[str], store_ids: list[int]) -> dict[str, ItemName]:
    """Names of journal and run-error items of these stores: products by their title (their
    page), TikTok orders by their store order number (the order page). Two queries whatever
    the number of items."""
    items.discard("")
    if not items or not store_ids:
        return {}
    out: dict[str, ItemName] = {}
    with db.session() as s:
        for pid, shop, title in s.exec(select(ListingLink.source_product_id, ListingLink.channel_store_id,
                                              ListingLink.title).where(
                col(ListingLink.channel_store_id).in_(store_ids), col(ListingLink.source_product_id).in_(items))):
            out[pid] = ItemName(title or pid, f"/products/{shop}/product/{pid}")
        for oid, link_id, number in s.exec(select(OrderLink.channel_order_id, OrderLink.id,
                                                  OrderLink.ecommerce_order_number).where(
                col(OrderLink.channel_store_id).in_(store_ids), col(OrderLink.channel_order_id).in_(items))):
            out[oid] = ItemName(f"TikTok order {oid}" + (f" · {number}" if number else ""), f"/orders/{link_id}")
    return out


def store_order_numbers(order_ids: set[str], store_ids: list[int]) -> dict[str, str]:
    """Store order id -> its number (``#1022``) for these ids of the stores' orders; one query."""
    if not order_ids or not store_ids:
        return {}
    with db.session() as s:
        rows = s.exec(select(OrderLink.ecommerce_order_id, OrderLink.ecommerce_order_number).where(
            col(OrderLink.channel_store_id).in_(store_ids), col(OrderLink.ecommerce_order_id).in_(order_ids),
            col(OrderLink.ecommerce_order_number).is_not(None)))
        return {oid: number for oid, number in rows if oid and number}

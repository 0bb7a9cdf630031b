"""Orders: TikTok orders with the eCommerce order made for each (by its store name, ``#1022``),
status, tracking pushed, returns, refunds and cancelled lines (their state on TikTok and in the
store), errors; sorting, search and paging that keeps them. One order's page: both sides'
numbers and admin links, lines and totals side by side, packages and tracking, returns and
cancellations, its journal. A retry queues the flows for that order."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.responses import Response
from starlette.routing import Route

from bridge.statuses import OrderStatus
from bridge.sync.orders import manual
from bridge.tables import OrderLink, TrackingPushRecord
from bridge.web import access, naming, queries
from bridge.web.base import Ctx, view


@view()
def index(ctx: Ctx) -> Response:
    """The orders of the shops the user sees: filter by shop and status, search, sort, page."""
    visible = access.stores(ctx, include_disconnected=True)
    shops = [s for s in visible if s.kind == "channel"]
    chosen = [access.store(ctx, ctx.q("shop"), kind="channel")] if ctx.q("shop") else shops
    page = ctx.page()
    sort = queries.order_sort(ctx.q("sort"))
    rows, total = queries.orders([s.id for s in chosen], status=ctx.q("status"),  # type: ignore[misc]
                                 search=ctx.q("q"), page=page, sort=sort)
    pushes, refunds = queries.order_records(rows)
    return ctx.render("orders.html", shops=shops, rows=rows, pushes=pushes, refunds=refunds,
                      shop_names={s.id: s.name for s in visible}, statuses=[st.value for st in OrderStatus],
                      retryable=manual.RETRYABLE,
                      pager=queries.pages(total, page), sort=sort,
                      shop=ctx.q("shop"), fstatus=ctx.q("status"), search=ctx.q("q"))


@dataclass
class LineRow:
    """One SKU of an order, TikTok's side beside the store's."""

    sku: str
    title: str
    product_id: str | None = None
    """The store product (the product page), where the store's line names it."""
    channel_quantity: int | None = None
    channel_price: str | None = None
    cancelled: int = 0
    store_quantity: int | None = None
    store_price: str | None = None


def line_rows(data: dict[str, Any]) -> list[LineRow]:
    """The order's lines by SKU and unit price: what TikTok's buyer ordered and what the store
    order was created with (``data`` as the orders flow keeps it)."""
    rows: dict[tuple[str, str | None], LineRow] = {}
    for ln in (data.get("channel") or {}).get("lines") or []:
        row = rows.setdefault((ln.get("sku") or "", ln.get("unit_price")),
                              LineRow(sku=ln.get("sku") or "", title=ln.get("title") or ""))
        row.channel_quantity = (row.channel_quantity or 0) + int(ln.get("quantity") or 0)
        row.channel_price = ln.get("unit_price")
        row.cancelled += int(ln.get("cancelled") or 0)
    for ln in (data.get("store") or {}).get("lines") or []:
        key = (ln.get("sku") or "", ln.get("unit_price"))
        row = rows.get(key) or rows.setdefault(key, LineRow(sku=ln.get("sku") or "", title=ln.get("title") or ""))
        row.store_quantity = (row.store_quantity or 0) + int(ln.get("quantity") or 0)
        row.store_price = ln.get("unit_price")
        row.product_id = row.product_id or ln.get("product_id")
    return list(rows.values())


def totals(data: dict[str, Any]) -> list[tuple[str, str | None, str | None]]:
    """(what, TikTok's amount, the store's amount): subtotal, shipping, tax, total; the store's
    subtotal from the lines it was created with."""
    channel, store = data.get("channel") or {}, data.get("store") or {}
    store_lines = store.get("lines") or []
    subtotal = str(sum((Decimal(ln["unit_price"]) * int(ln["quantity"]) for ln in store_lines), Decimal(0))) \
        if store_lines else None
    return [("Subtotal", channel.get("subtotal"), subtotal),
            ("Shipping", channel.get("shipping"), store.get("shipping")),
            ("Tax", channel.get("tax"), store.get("tax")),
            ("Total", channel.get("total"), store.get("total"))]


@dataclass
class Package:
    """One TikTok package of the order: its tracking pushes, or why it waits."""

    key: str
    pushes: list[TrackingPushRecord]
    waiting: str | None


def packages(view: queries.OrderView) -> list[Package]:
    """Each package with the tracking bridge pushed for it, or why none is pushed yet."""
    link, data = view.link, view.link.data or {}
    keys: list[str] = list(data.get("packages") or [])
    for p in view.pushes:
        if p.package_key not in keys:
            keys.append(p.package_key)
    out = []
    for key in keys or [""]:
        pushes = [p for p in view.pushes if p.package_key == key]
        out.append(Package(key=key, pushes=pushes, waiting=None if pushes else _waiting(link)))
    return out


def _waiting(link: OrderLink) -> str:
    """Why a package has no tracking pushed yet."""
    if (link.data or {}).get("label_by") == "platform":
        return "TikTok issues this order's shipping label and has its tracking: nothing to push"
    if link.status in (OrderStatus.CANCELLED, OrderStatus.RECORDED):
        return f"the order is {link.status}: nothing to ship from the store"
    if not link.ecommerce_order_id:
        return "waiting for the store order to be created"
    return ("waiting for the store to fulfil the order with a tracking number: the tracking flow "
            "pushes it to TikTok on its next run")


@view()
def detail(ctx: Ctx) -> Response:
    """One order: both sides' numbers and admin links, lines and totals, packages and tracking,
    returns and cancellations, its journal, and a retry while it is held."""
    link, shop = access.order_link(ctx, ctx.param("link_id"))
    o = queries.order_view(link, shop)
    data = link.data or {}
    names = naming.order_names(link)
    store_no = naming.order_name(link.ecommerce_order_number, link.ecommerce_order_id) \
        if link.ecommerce_order_id else ""
    return ctx.render("order.html", o=o, link=link, store_no=store_no, lines=line_rows(data),
                      totals=totals(data), packages=packages(o), channel=data.get("channel") or {},
                      store_side=data.get("store") or {}, names=names, retryable=manual.RETRYABLE)


@view()
def retry(ctx: Ctx) -> Response:
    """Retry one order (:func:`bridge.sync.orders.manual.retry`); back to the order's page when
    asked from there."""
    link, shop = access.order_link(ctx, ctx.param("link_id"))
    manual.retry(link.id, shop)  # type: ignore[arg-type]
    back = f"/orders/{link.id}" if ctx.form.get("back") == "order" else f"/orders?shop={shop.id}"
    return ctx.redirect(back, f"TikTok order {link.channel_order_id} queued again: the next orders run "
                              "retries it.")


routes = [
    Route("/orders", index),
    Route("/orders/{link_id}", detail),
    Route("/orders/{link_id}/retry", retry, methods=["POST"]),
]

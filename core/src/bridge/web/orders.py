"""Orders: TikTok orders with the eCommerce order made for each, status, tracking pushed,
returns, refunds and cancelled lines (their state on TikTok and in the store), errors, and a
retry that queues the orders flow for that order."""

from __future__ import annotations

from sqlmodel import col, select
from starlette.responses import Response
from starlette.routing import Route

from bridge import db, scheduler
from bridge.statuses import OrderStatus
from bridge.tables import OrderLink, RefundRecord, TrackingPushRecord
from bridge.web import access, queries
from bridge.web.base import Ctx, view


@view()
def index(ctx: Ctx) -> Response:
    shops = access.stores(ctx, "channel", include_disconnected=True)
    chosen = [access.store(ctx, ctx.q("shop"), kind="channel")] if ctx.q("shop") else shops
    page = ctx.page()
    rows, total = queries.orders([s.id for s in chosen], status=ctx.q("status"),  # type: ignore[misc]
                                 search=ctx.q("q"), page=page)
    with db.session() as s:
        pushes: dict[int, list[TrackingPushRecord]] = {}
        for t in s.exec(select(TrackingPushRecord).where(
                col(TrackingPushRecord.order_link_id).in_([r.id for r in rows] or [-1]))):
            pushes.setdefault(t.order_link_id, []).append(t)
        refunds: dict[tuple[int, str], list[RefundRecord]] = {}
        for r in s.exec(select(RefundRecord).where(
                col(RefundRecord.channel_store_id).in_({o.channel_store_id for o in rows} or {-1}),
                col(RefundRecord.channel_order_id).in_([o.channel_order_id for o in rows] or ["-"]))
                .order_by(col(RefundRecord.id))):
            refunds.setdefault((r.channel_store_id, r.channel_order_id), []).append(r)
    return ctx.render("orders.html", shops=shops, rows=rows, pushes=pushes, refunds=refunds,
                      names={s.id: s.name for s in shops}, pager=queries.pages(total, page),
                      shop=ctx.q("shop"), fstatus=ctx.q("status"), search=ctx.q("q"))


@view()
def retry(ctx: Ctx) -> Response:
    link, shop = access.order_link(ctx, ctx.param("link_id"))
    with db.session() as s:
        row = s.get(OrderLink, link.id)
        assert row is not None
        if row.status in (OrderStatus.HELD, "failed", OrderStatus.PENDING):
            row.status = OrderStatus.PENDING
            s.add(row)
    scheduler.trigger("orders", shop.org_id, shop.id, [link.channel_order_id])
    scheduler.trigger("tracking", shop.org_id, shop.id, [link.channel_order_id])
    scheduler.trigger("refunds", shop.org_id, shop.id, [link.channel_order_id])
    return ctx.redirect(f"/orders?shop={shop.id}", f"Order {link.channel_order_id} queued again.")


routes = [
    Route("/orders", index),
    Route("/orders/{link_id}/retry", retry, methods=["POST"]),
]

"""One run of the orders flow: the channel's orders from the saved cursor (or those a webhook
named), then open orders the stream did not show, then cancellations made in the store.
"""

from __future__ import annotations

from sqlmodel import col, select

from bridge import db
from bridge.facade import StoreReader
from bridge.sync.base import FlowContext
from bridge.sync.orders.actions import OPEN
from bridge.sync.orders.decide import OrdersDecider
from bridge.tables import OrderLink, Store


def _retry_ids(ctx: FlowContext, channel: Store, seen: set[str]) -> list[str]:
    """Open orders (pending, held, creating) the stream did not show."""
    with db.session() as s:
        return [ln.channel_order_id for ln in s.exec(select(OrderLink).where(
            OrderLink.channel_store_id == channel.id, col(OrderLink.status).in_(OPEN)).limit(200))
            if ln.channel_order_id not in seen]


def orders_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    decider = OrdersDecider(ctx, ctx.channel, ctx.ecommerce)
    channel: StoreReader = decider.channel
    if ctx.items is not None:
        for o in channel.get_orders(list(ctx.items)):
            ctx.act(decider.decide(o))
        return
    for page in channel.list_orders(ctx.cursor(ctx.channel)):
        for o in page.orders:
            ctx.act(decider.decide(o))
        for remote_id, why in page.unreadable.items():
            ctx.act(decider.unreadable(remote_id, why))
        if page.cursor:
            ctx.checkpoint(ctx.channel, page.cursor)
        if ctx.stopping():
            return
    retry = _retry_ids(ctx, ctx.channel, decider.seen)
    for i in range(0, len(retry), 50):
        for o in channel.get_orders(retry[i:i + 50]):
            ctx.act(decider.decide(o))
    ctx.act(decider.ecommerce_cancellations())

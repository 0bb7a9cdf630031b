"""One run of the refunds flow: the channel's records from the saved cursor (or those of the
orders a webhook named), then records still open the stream did not show, then lines
cancelled in the store.
"""

from __future__ import annotations

from sqlmodel import col, select

from bridge import db
from bridge.sync.base import FlowContext
from bridge.sync.refunds.actions import OPEN
from bridge.sync.refunds.decide import RefundsDecider
from bridge.tables import RefundRecord


def _open_orders(channel_store_id: int | None, seen: set[tuple[str, str]]) -> list[str]:
    """Channel orders with records still open (held, waiting, interrupted) this run has not seen."""
    with db.session() as s:
        return sorted({rec.channel_order_id for rec in s.exec(select(RefundRecord).where(
            RefundRecord.channel_store_id == channel_store_id, RefundRecord.kind != "store_cancel",
            col(RefundRecord.status).in_(OPEN)).limit(200)) if (rec.kind, rec.remote_id) not in seen})


def refunds_flow(ctx: FlowContext) -> None:
    assert ctx.channel is not None and ctx.ecommerce is not None
    decider = RefundsDecider(ctx, ctx.channel, ctx.ecommerce)
    channel = decider.channel
    if not channel.has("list_refunds"):
        return
    if ctx.items is not None:  # a webhook named these channel orders
        for r in channel.get_refunds(list(ctx.items)):
            ctx.act(decider.channel_refund(r))
        ctx.act(decider.store_cancellations(list(ctx.items)))
        return
    for page in channel.list_refunds(ctx.cursor(ctx.channel)):
        for r in page.refunds:
            ctx.act(decider.channel_refund(r))
        if page.cursor:
            ctx.checkpoint(ctx.channel, page.cursor)
        if ctx.stopping():
            return
    orders = _open_orders(ctx.channel.id, decider.seen)
    for i in range(0, len(orders), 50):
        for r in channel.get_refunds(orders[i:i + 50]):
            if (r.kind, r.remote_id) not in decider.seen:
                ctx.act(decider.channel_refund(r))
    ctx.act(decider.store_cancellations())

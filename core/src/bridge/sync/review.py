"""The listings flow: follow products through the channel's review until they are live or
refused.

A created or updated product usually waits in review (``pending`` or ``draft``). This flow asks
the channel (``listing_status``, 50 products a call) for the status of every link still waiting
and records what it says — ``live``, or ``failed`` with the reasons the channel gives — so the
admin pages and ``bridge log`` show the outcome without anybody asking. It only reads from the
platforms; a status webhook makes it run at once.
"""

from __future__ import annotations

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import Rejected
from bridge.sync import links
from bridge.sync.base import FlowContext, register_flow
from bridge.tables import ListingLink

WAITING = ("pending", "draft")
BATCH = 50


def refresh_listing_status(ctx: FlowContext) -> None:
    """Update every waiting listing link of ``ctx.channel`` from the channel's own status."""
    ch = ctx.channel
    if ch is None or not ctx.has(ch, "listing_status"):
        return
    with db.session() as s:
        q = select(ListingLink).where(ListingLink.channel_store_id == ch.id,
                                      col(ListingLink.status).in_(WAITING),
                                      col(ListingLink.remote_product_id).is_not(None))
        if ctx.items:
            q = q.where(col(ListingLink.source_product_id).in_(ctx.items))
        waiting = {link.remote_product_id: link for link in s.exec(q.order_by(col(ListingLink.id)))}
    ids = list(waiting)
    for start in range(0, len(ids), BATCH):
        if ctx.stopping():
            return
        chunk = ids[start:start + BATCH]
        try:
            results = ctx.call(ch, "listing_status", remote_product_ids=chunk)
        except Rejected as exc:
            ctx.fail(",".join(chunk), exc)
            continue
        for res in results:
            link = waiting.get(res.remote_product_id)
            if link is None or (res.status == link.status and res.reasons == link.reasons):
                ctx.count("unchanged")
                continue
            ctx.decide("status", link.source_product_id, why=f"{link.status} -> {res.status}",
                       remote_product_id=res.remote_product_id, reasons=res.reasons)
            if ctx.dry_run:
                continue
            links.save(link, status=res.status, reasons=res.reasons)
            ctx.count("updated")
            level = "error" if res.status == "failed" else "info"
            journal.record(f"listing.{res.status}",
                           "; ".join(res.reasons) or f"TikTok product {res.remote_product_id} is {res.status}",
                           org_id=ctx.org_id, store_id=ch.id, flow=ctx.flow,
                           item=link.source_product_id, level=level,
                           data={"remote_product_id": res.remote_product_id})


register_flow("listings", refresh_listing_status, interval_key="interval.listings",
              description="follow listings through the channel's review")

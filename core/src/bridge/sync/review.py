"""The listings flow: follow products through the channel's review until they are live or
refused.

A created or updated product usually waits in review (``pending`` or ``draft``); a product the
channel froze or took off sale (``frozen``) is followed too, so edits resume once it is back. This flow asks
the channel (``listing_status``, 50 products a call) for the status of every link still waiting
and records what it says — ``live``, or ``failed`` with the reasons the channel gives — so the
admin pages and ``bridge log`` show the outcome without anybody asking. It only reads from the
platforms; a status webhook makes it run at once.

Decide: one :class:`RecordStatus` per link whose status changed; :class:`ReviewApplier` keeps it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import Rejected
from bridge.statuses import IN_REVIEW, LISTED, ListingStatus
from bridge.sync import links
from bridge.sync.actions import Action, Applier, applies
from bridge.sync.base import FlowContext, register_flow
from bridge.tables import ListingLink

WAITING = (*IN_REVIEW, ListingStatus.FROZEN)
"""Statuses followed: in review, and frozen by the channel (until it lifts the freeze)."""
BATCH = 50


@dataclass(frozen=True, kw_only=True)
class RecordStatus(Action):
    """The channel reports a new status (and reasons) for a listing."""

    kind = "status"
    link: ListingLink
    status: str
    reasons: list[str]
    remote_product_id: str

    def details(self) -> dict[str, Any]:
        return {"remote_product_id": self.remote_product_id, "reasons": self.reasons}


def _waiting(ctx: FlowContext, channel_id: int | None) -> dict[str, ListingLink]:
    """Links to ask the channel about: those waiting; for named products (a status webhook),
    every listed one too — the channel may have frozen, taken off sale or deleted it."""
    statuses = WAITING if not ctx.items else (*WAITING, *LISTED, ListingStatus.DEACTIVATED)
    with db.session() as s:
        q = select(ListingLink).where(ListingLink.channel_store_id == channel_id,
                                      col(ListingLink.status).in_(statuses),
                                      col(ListingLink.remote_product_id).is_not(None))
        if ctx.items:
            q = q.where(col(ListingLink.source_product_id).in_(ctx.items))
        return {link.remote_product_id or "": link for link in s.exec(q.order_by(col(ListingLink.id)))}


def refresh_listing_status(ctx: FlowContext) -> None:
    """Decide a status update for every waiting listing link of ``ctx.channel`` whose status
    on the channel differs."""
    if ctx.channel is None:
        return
    channel = ctx.reader(ctx.channel)
    if not channel.has("listing_status"):
        return
    waiting = _waiting(ctx, ctx.channel.id)
    ids = list(waiting)
    for start in range(0, len(ids), BATCH):
        if ctx.stopping():
            return
        chunk = ids[start:start + BATCH]
        try:
            results = channel.listing_status(chunk)
        except Rejected as exc:
            ctx.fail(",".join(chunk), exc)
            continue
        actions: list[Action] = []
        for res in results:
            link = waiting.get(res.remote_product_id)
            if link is None or (res.status == link.status and res.reasons == link.reasons):
                ctx.note("unchanged")
                continue
            actions.append(RecordStatus(item=link.source_product_id, why=f"{link.status} -> {res.status}",
                                        link=link, status=res.status, reasons=res.reasons,
                                        remote_product_id=res.remote_product_id))
        ctx.act(actions)


class ReviewApplier(Applier):
    """Keeps the statuses the channel reported."""

    @applies(RecordStatus)
    def record(self, a: RecordStatus) -> None:
        ctx = self.ctx
        links.save(a.link, status=a.status, reasons=a.reasons)
        ctx.count("updated")
        level = "error" if a.status == ListingStatus.FAILED else "info"
        journal.record(f"listing.{a.status}",
                       "; ".join(a.reasons) or f"TikTok product {a.remote_product_id} is {a.status}",
                       org_id=ctx.org_id, store_id=ctx.channel.id if ctx.channel else None, flow=ctx.flow,
                       item=a.item, level=level, data={"remote_product_id": a.remote_product_id})


register_flow("listings", refresh_listing_status, interval_key="interval.listings", applier=ReviewApplier,
              description="follow listings through the channel's review")

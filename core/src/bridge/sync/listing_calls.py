"""Sending a listed product's changes with the lightest calls (the write side of
:mod:`bridge.sync.listing_changes`), and recording what the channel said.

* full edit (``update_listing``) when SKUs changed; partial edit (``partial_edit_listing``) of
  the changed parts; price update (``update_prices``) of the SKUs whose price changed; then
  ``activate_listing`` for a product bridge took off sale that is listable again. A channel
  without one of the light operations gets a full edit instead.
* A product the channel froze or took off sale (``FROZEN``) or that was deleted there
  (``DELETED``) is held with the channel's reason and not edited again; a price locked by a
  running promotion (``PRICE_LOCKED``) is held with that reason and sent again on a later run
  (the last price sent is not moved); a price of a product not on sale yet (``NOT_LIVE``) waits.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from bridge import db, journal
from bridge.errors import Rejected
from bridge.models import Listing, ListingResult, PriceUpdate
from bridge.sync import links
from bridge.sync.listing_changes import Changes, SentSku, encode
from bridge.tables import ListingLink, SkuLink

PRICE_HELD = "price held: "
"""Marks a link reason for a price the channel did not take yet (promotion, review): the products
flow sends it again on each run."""
#: Link statuses set from the channel's own refusal: the product is held, never edited.
CHANNEL_HELD = {"FROZEN": "frozen", "DELETED": "deleted"}


def sent_skus(channel_store_id: int, product_id: str) -> dict[str, SentSku]:
    """Per variant id: the channel SKU id and the last price bridge sent."""
    return {vid: SentSku(r.remote_sku_id, r.last_price)
            for vid, r in links.sku_links(channel_store_id, product_id).items()}


def channel_held(link: ListingLink, exc: Rejected) -> bool:
    """Record a FROZEN / DELETED refusal on the link; True when it was one."""
    status = CHANNEL_HELD.get(exc.code or "")
    if status is None:
        return False
    links.save(link, status=status, reasons=[exc.message])
    return True


class ChangeSender:
    """Sends listed products' changes through a channel's typed writer
    (:class:`bridge.facade.StoreWriter`) for a flow run (``ctx``: its FlowContext)."""

    def __init__(self, ctx: Any, channel: Any) -> None:
        self.ctx, self.channel = ctx, channel
        self.count, self.fail = ctx.count, ctx.fail
        self.channel_id: int = channel.store.id

    def has(self, op: str) -> bool:
        return bool(self.channel.has(op))

    def send(self, item: str, link: ListingLink, listing: Listing, changes: Changes, *,
             activate: bool, warnings: list[str]) -> None:
        """Make the calls ``changes`` need (then activate), recording each outcome at once."""
        try:
            calls = changes.calls()
            light = (("partial_edit" not in calls or self.has("partial_edit_listing"))
                     and ("prices" not in calls or self.has("update_prices")))
            if not light or (activate and not self.has("activate_listing")):
                calls = ["full_edit"]  # the channel lacks the light call: a full edit relists too
            for call in calls:
                if call == "full_edit":
                    self._edit(item, link, listing, changes, "update_listing", warnings)
                elif call == "partial_edit":
                    self._edit(item, link, listing, changes, "partial_edit_listing", warnings)
                elif not self._prices(item, link, listing, changes):
                    return
            if activate and self.has("activate_listing"):
                self._activate(item, link)
        except Rejected as exc:
            if channel_held(link, exc):
                self.count("held")
                journal.record("listing.held", exc.message, org_id=self.ctx.org_id, store_id=self.channel_id,
                               flow="products", item=item, level="warning")
                return
            links.save(link, status="failed", reasons=[str(exc)], content_hash=encode(changes.digests))
            self.fail(item, exc)

    def _edit(self, item: str, link: ListingLink, listing: Listing, changes: Changes, op: str,
              warnings: list[str]) -> None:
        full = op == "update_listing"
        result: ListingResult = (self.channel.update_listing(listing) if full
                                 else self.channel.partial_edit_listing(listing, changes.parts))
        with db.session() as s:  # the link, its SKUs and the journal entry: all or nothing
            stays_off = link.status == "deactivated" and self.has("activate_listing")
            links.save_in(s, link, remote_product_id=result.remote_product_id,
                          status="deactivated" if stays_off else result.status,
                          reasons=warnings + result.warnings, content_hash=encode(changes.digests),
                          title=listing.title)
            if full:  # a full edit carries the SKU set and its prices
                links.record_skus(self.channel_id, item, result.remote_product_id, listing.skus, result,
                                  session=s)  # its quantities were sent with it too
            journal.record("products.updated", f"'{listing.title}': "
                           + ("full edit (SKUs changed)" if full else "partial edit of " + ", ".join(changes.parts)),
                           org_id=self.ctx.org_id, store_id=self.channel_id, flow="products", item=item,
                           data={"status": result.status, "call": op, "parts": changes.parts}, session=s)
        self.count("updated")

    def _prices(self, item: str, link: ListingLink, listing: Listing, changes: Changes) -> bool:
        """Send the changed prices; False when the product turned out frozen or deleted."""
        sent = {vid: s for vid, s in self._sku_rows(item).items()}
        updates = [PriceUpdate(product_id=link.remote_product_id or "", sku_id=sent[s.source_variant_id].remote_sku_id or "",
                               price=s.price, original_price=s.original_price)
                   for s in changes.prices if s.source_variant_id in sent]
        if not updates:
            return True
        results = self.channel.update_prices(updates)
        by_sku = {r.key: r for r in results}
        ok_prices = {u.sku_id: str(u.price.amount) for u in updates if by_sku.get(u.sku_id) and by_sku[u.sku_id].ok}
        failed = [r for r in results if not r.ok]
        with db.session() as s:
            for row in sent.values():
                if row.remote_sku_id in ok_prices:
                    row.last_price = ok_prices[row.remote_sku_id]
                    s.add(row)
        if ok_prices:
            self.count("prices")
        if not failed:
            if any(r.startswith(PRICE_HELD) for r in link.reasons or []):
                links.save(link, reasons=[r for r in link.reasons if not r.startswith(PRICE_HELD)])
            return True
        first = failed[0]
        if first.code in CHANNEL_HELD:
            raise Rejected(first.message or first.code or "", code=first.code, item=item)
        why = first.message or f"TikTok refused the price (code {first.code})"
        if first.code in ("PRICE_LOCKED", "NOT_LIVE"):
            why = PRICE_HELD + why
            self.count("price_locked" if first.code == "PRICE_LOCKED" else "price_waiting")
            if link.reasons != [why]:
                links.save(link, reasons=[why])
                journal.record("listing.price_held", why, org_id=self.ctx.org_id, store_id=self.channel_id,
                               flow="products", item=item, level="warning")
            return True
        self.fail(item, Rejected(why, code=first.code, item=item))
        return True

    def _sku_rows(self, product_id: str) -> dict[str, SkuLink]:
        with db.session() as s:
            return {r.source_variant_id: r for r in s.exec(select(SkuLink).where(
                SkuLink.channel_store_id == self.channel_id, SkuLink.source_product_id == product_id,
                col(SkuLink.remote_sku_id).is_not(None)))}

    def _activate(self, item: str, link: ListingLink) -> None:
        result = self.channel.activate_listing(link.remote_product_id or "")
        links.save(link, status=result.status, reasons=["activated again: in review" if result.status == "pending"
                                                       else "activated again"])
        journal.record("products.activated", f"TikTok product {link.remote_product_id} activated again",
                       org_id=self.ctx.org_id, store_id=self.channel_id, flow="products", item=item)
        self.count("activated")

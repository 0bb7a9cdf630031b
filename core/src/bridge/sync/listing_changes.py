"""What changed in a listed product since bridge last sent it, part by part, and the lightest
call that sends it (pure: no database, no platform).

A listing is cut into parts: the content parts of :data:`bridge.models.LISTING_PARTS` (title,
description, images, attributes, package, brand, size chart, certifications, category), the SKU
set (which variants, with their seller SKUs, sales attributes and images) and the price of each
SKU. Stock is the inventory flow's. What was last sent is kept as a digest per content part (in
:attr:`bridge.tables.ListingLink.content_hash`, see :func:`encode`) and per SKU (its channel id
and last price on :class:`bridge.tables.SkuLink`).

:func:`diff` compares and :meth:`Changes.calls` says what to send:

* nothing changed → nothing;
* SKUs added, removed or changed → one full edit (the channel plugin builds it from the
  channel's own product, so nothing set there is blanked), which also carries the prices;
* content changed, same SKU set → one partial edit of only the changed parts;
* prices changed → one price update of the product's changed SKUs (after a partial edit too:
  a partial edit does not carry prices).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bridge.models import LISTING_PARTS, Listing, ListingSku

PREFIX = "parts1:"
"""Marks a content hash that holds digests per part (older links hold one hash of everything)."""
KEPT = "kept:"
"""The content hash of a product linked with the channel's content kept: its parts are taken
as sent (nothing to send) until they change in the store."""


def _digest(value: Any) -> str:
    raw = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def part_values(listing: Listing) -> dict[str, Any]:
    """Each part of a listing as plain data (prices and quantities left out)."""
    data = listing.model_dump(mode="json")
    return {
        "title": data["title"],
        "description": data["description_html"],
        "images": sorted((i["position"], i["url"]) for i in data["images"]),
        "attributes": sorted(data["attributes"], key=lambda a: a["id"]),
        "package": [data["package_weight_g"], data["package_dimensions"]],
        "brand": data["brand_id"],
        "size_chart": [data["size_chart_url"], data["size_chart_template_id"]],
        "certifications": sorted(data["certifications"], key=lambda c: c["id"]),
        "category": data["category_id"],
        "skus": sorted((s["source_variant_id"], s["seller_sku"], s["sales_attributes"], s["image_url"])
                       for s in data["skus"]),
    }


def digests(listing: Listing) -> dict[str, str]:
    """A short digest per part (content parts and ``skus``)."""
    return {k: _digest(v) for k, v in part_values(listing).items()}


def encode(parts: dict[str, str]) -> str:
    """The digests per part as kept in ``ListingLink.content_hash``."""
    return PREFIX + ",".join(f"{k}={parts[k]}" for k in sorted(parts))


def decode(content_hash: str | None) -> dict[str, str] | None:
    """The digests per part of a content hash; None for none or an older whole-listing hash."""
    if not content_hash or not content_hash.startswith(PREFIX):
        return None
    return dict(item.split("=", 1) for item in content_hash[len(PREFIX):].split(",") if "=" in item)


def legacy_hash(listing: Listing) -> str:
    """The whole-listing hash older links hold (what bridge compared before parts)."""
    data = listing.model_dump(mode="json", exclude={"remote_product_id"})
    for key in ("size_chart_url", "size_chart_template_id", "certifications", "create_key"):
        data.pop(key, None)
    for sku in data["skus"]:
        sku.pop("quantity", None)
        sku.pop("remote_sku_id", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class SentSku:
    """What bridge last sent of one SKU."""

    remote_sku_id: str | None
    price: str | None


@dataclass
class Changes:
    """How a listing differs from what was last sent."""

    parts: list[str] = field(default_factory=list)
    """Changed content parts, in :data:`LISTING_PARTS` order."""
    skus_changed: bool = False
    """SKUs added, removed, or their seller SKU, sales attributes or image changed."""
    prices: list[ListingSku] = field(default_factory=list)
    """Listed SKUs whose price differs from the last one sent."""
    digests: dict[str, str] = field(default_factory=dict)
    """The listing's digests per part (kept once sent)."""

    @property
    def nothing(self) -> bool:
        return not (self.parts or self.skus_changed or self.prices)

    def calls(self) -> list[str]:
        """The calls to make, in order: ``full_edit``, or ``partial_edit`` and/or ``prices``."""
        if self.skus_changed:
            return ["full_edit"]
        return (["partial_edit"] if self.parts else []) + (["prices"] if self.prices else [])

    def describe(self) -> str:
        what = []
        if self.skus_changed:
            what.append("SKUs added, removed or changed")
        if self.parts:
            what.append(", ".join(self.parts) + " changed")
        if self.prices:
            what.append(f"price of {len(self.prices)} SKU(s) changed")
        return "; ".join(what) or "no change"


def diff(listing: Listing, content_hash: str | None, sent_skus: dict[str, SentSku]) -> Changes:
    """Compare ``listing`` with what was last sent: the link's ``content_hash`` and, per
    variant id, the SKU's channel id and last price (``sent_skus``)."""
    now = digests(listing)
    out = Changes(digests=now)
    listed = {s.source_variant_id for s in listing.skus}
    known = {vid for vid, s in sent_skus.items() if s.remote_sku_id}
    if listed != known:
        out.skus_changed = True
    for s in listing.skus:
        sent = sent_skus.get(s.source_variant_id)
        if sent is not None and sent.remote_sku_id and sent.price != str(s.price.amount):
            out.prices.append(s)
    if content_hash == KEPT:
        return out
    before = decode(content_hash)
    if before is None:  # an older link: one hash of everything, prices included
        as_sent = listing.model_copy(update={"skus": [
            s.model_copy(update={"price": s.price.model_copy(
                update={"amount": Decimal(str(sent_skus[s.source_variant_id].price))})})
            if s.source_variant_id in sent_skus and sent_skus[s.source_variant_id].price is not None else s
            for s in listing.skus]})
        if content_hash is not None and legacy_hash(as_sent) == content_hash:
            return out  # content as sent: only prices (if any) differ
        out.parts = list(LISTING_PARTS)  # not known (e.g. cleared to send everything again)
        return out
    if before.get("skus") != now["skus"]:
        out.skus_changed = True
    out.parts = [p for p in LISTING_PARTS if before.get(p) != now[p]]
    return out


@dataclass
class Decision:
    """What to do with a listed product (see :func:`decide`)."""

    kind: str
    """``unchanged``, ``adopt`` (record the content as sent, no call), ``update`` (send
    ``changes``, then activate if ``activate``), ``hold`` (the channel's status forbids edits:
    ``why``), ``relist`` (deleted on the channel and the shop lists such products again)."""
    why: str = ""
    changes: Changes | None = None
    activate: bool = False


def decide(link_status: str, link_reasons: list[str], content_hash: str | None, listing: Listing,
           sent_skus: dict[str, SentSku], *, recreate_deleted: bool = False) -> Decision:
    """The decision for a product that has a channel product (its link's status, reasons and
    content hash; the SKUs last sent)."""
    if link_status == "frozen":
        return Decision("hold", "; ".join(link_reasons) or "the channel froze this product: it cannot be edited")
    if link_status == "deleted":
        if recreate_deleted:
            return Decision("relist", "deleted on the channel; the shop option products.recreate_deleted lists it again")
        return Decision("hold", "deleted on the channel: `bridge products relist ID` (or the shop option "
                                "products.recreate_deleted) lists it again")
    if link_status == "unlinked":
        return Decision("hold", "unlinked by hand: `bridge products link` links it again")
    changes = diff(listing, content_hash, sent_skus)
    if link_status == "failed" and content_hash == encode(changes.digests) and not changes.prices:
        return Decision("unchanged", "refused as it is: sent again once the product changes")
    activate = link_status == "deactivated"
    if changes.nothing and not activate:
        if content_hash == KEPT or (content_hash is not None and decode(content_hash) is None):
            return Decision("adopt", "content as on the channel", changes)
        return Decision("unchanged")
    why = changes.describe() if not changes.nothing else ""
    if activate:
        why = "listable again: activate" + (f" ({why})" if why else "")
    return Decision("update", why, changes, activate)

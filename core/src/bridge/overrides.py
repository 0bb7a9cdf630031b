"""Per-product overrides: what a merchant sets for one product on one TikTok shop, over the
shop's rules and templates — title, description, price (fixed or a rule of its own), images
(chosen and ordered), category and attribute values, exclusion.

They are kept on :class:`~bridge.tables.ProductMapping` (keyed by the store product's id, so a
change of the store product keeps them) and applied in one place each: category, attributes and
exclusion by :class:`bridge.mapping.Mapper`, the rest by :func:`bridge.sync.listing.build_listing`.
A changed override changes the listing's content hash, so the products flow sends it; ``bridge
plan products`` shows it.

This module parses and checks what a person types (:func:`parse_price`, :func:`parse_images`,
:func:`changes`) and writes overrides for many products at once (:func:`save`), for the admin
pages' product page and bulk editor and for ``bridge map product``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from sqlmodel import col, select

from bridge import db
from bridge.errors import Misconfigured
from bridge.sync.listing import MAX_DESCRIPTION, MAX_TITLE
from bridge.tables import ProductMapping, utcnow

#: What the bulk editor can set, and the ProductMapping field each one writes.
FIELDS = {"title": "title", "description": "description_html", "price": "price", "images": "images",
          "category": "category_id", "attribute": "attributes"}

_PRICE = re.compile(r"^(?:(?P<fixed>\d+(?:\.\d{1,2})?)|(?P<pct>[+-]\d+(?:\.\d+)?)%(?:\s*(?P<add>[+-]\d+(?:\.\d{1,2})?))?"
                    r"|(?P<addonly>[+-]\d+(?:\.\d{1,2})?))(?:\s+round\s+(?P<round>1|\.\d\d))?$")
PRICE_HELP = ("a price is '12.50' (every SKU), '+10%' or '-5%' of the store price, '+2' or '-1.50' "
              "on it, or '+10% +2'; add ' round .99' or ' round 1' to round")


def parse_price(text: str) -> dict[str, str]:
    """A price override from what a person typed (see :data:`PRICE_HELP`); ``{}`` for blank
    (the shop's price rule). :raises Misconfigured: it is neither."""
    text = " ".join(text.split())
    if not text:
        return {}
    m = _PRICE.match(text)
    if m is None:
        raise Misconfigured(f"price '{text[:40]}' is not understood: {PRICE_HELP}")
    if m["fixed"] is not None:
        if Decimal(m["fixed"]) <= 0:
            raise Misconfigured("a fixed price must be more than 0")
        if m["round"]:
            raise Misconfigured("a fixed price is sent as it is: leave out the rounding")
        out = {"fixed": m["fixed"]}
    else:
        out = {"markup_percent": (m["pct"] or "0").lstrip("+"),
               "markup_fixed": (m["add"] or m["addonly"] or "0").lstrip("+")}
    if m["round"]:
        out["rounding"] = m["round"]
    return out


def parse_variant_prices(prices: dict[str, str]) -> dict[str, str]:
    """Variant id -> its own fixed price, from what a person typed per variant (blanks left
    out). :raises Misconfigured: one is not a price."""
    out = {}
    for vid, text in prices.items():
        text = text.strip()
        if not text:
            continue
        m = _PRICE.match(text)
        if m is None or m["fixed"] is None or m["round"] or Decimal(m["fixed"]) <= 0:
            raise Misconfigured(f"a variant's price is an amount like 12.50, got '{text[:40]}'")
        out[vid] = m["fixed"]
    return out


def describe_price(price: dict[str, Any]) -> str:
    """What a price override says for every SKU, in the syntax :func:`parse_price` reads (''
    for none; variants' own prices are not part of it)."""
    price = {k: v for k, v in (price or {}).items() if k != "skus"}
    if not price:
        return ""
    if price.get("fixed") is not None:
        text = str(price["fixed"])
    else:
        parts = []
        pct, add = Decimal(str(price.get("markup_percent") or 0)), Decimal(str(price.get("markup_fixed") or 0))
        if pct:
            parts.append(f"{pct:+}%")
        if add or not parts:
            parts.append(f"{add:+}")
        text = " ".join(parts)
    return text + (f" round {price['rounding']}" if price.get("rounding") else "")


def parse_images(text: str) -> list[str]:
    """Image URLs, one a line or separated by spaces, in order (blank: the product's own)."""
    urls = list(dict.fromkeys(text.split()))
    bad = [u for u in urls if not u.startswith(("http://", "https://"))]
    if bad:
        raise Misconfigured(f"images are the product's image URLs (http or https), got '{bad[0][:60]}'")
    return urls


def parse_attribute(text: str) -> dict[str, list[str]]:
    """One attribute value, ``Name=Value`` (by the attribute's name or id; ``Name=`` clears the
    product's own value): ``{name: [value]}``, or ``{name: []}`` to clear."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise Misconfigured(f"an attribute is set as Name=Value (e.g. Material=Cotton), got '{text[:40]}'")
    return {name.strip(): [value.strip()] if value.strip() else []}


def changes(form: dict[str, str], fields: list[str]) -> dict[str, Any]:
    """ProductMapping values for ``fields`` (names of :data:`FIELDS`) from a form's texts; a
    blank text clears the override. :raises Misconfigured: a value cannot be used."""
    out: dict[str, Any] = {}
    for name in fields:
        if name not in FIELDS:
            raise Misconfigured(f"choose a field to set: {', '.join(FIELDS)}")
        raw = form.get(name, "")
        if name == "title":
            title = " ".join(raw.split())
            if len(title) > MAX_TITLE:
                raise Misconfigured(f"the title has {len(title)} characters: TikTok Shop takes at most {MAX_TITLE}")
            out["title"] = title or None
        elif name == "description":
            if len(raw) > MAX_DESCRIPTION:
                raise Misconfigured(f"the description has {len(raw)} characters: at most {MAX_DESCRIPTION}")
            out["description_html"] = raw.strip() or None
        elif name == "price":
            out["price"] = parse_price(raw)
        elif name == "images":
            out["images"] = parse_images(raw)
        elif name == "attribute":
            out["attributes"] = parse_attribute(raw)
        else:
            out["category_id"] = raw.strip() or None
    return out


def merged_attributes(current: dict[str, Any], new: dict[str, list[str]]) -> dict[str, Any]:
    """A product's attribute values with ``new`` merged in (an empty list removes that one)."""
    keys = {k.lower() for k in new}
    kept = {k: v for k, v in (current or {}).items() if k.lower() not in keys}
    return {**kept, **{k: v for k, v in new.items() if v}}


def save(channel_store_id: int, product_ids: list[str], values: dict[str, Any], *,
         merge_attributes: bool = False) -> int:
    """Set ``values`` (ProductMapping fields) on these products' overrides of the shop, creating
    the rows that do not exist, in one transaction; the number of products changed.
    ``merge_attributes``: ``values["attributes"]`` is merged into each product's own
    (:func:`merged_attributes`) instead of replacing them."""
    ids = list(dict.fromkeys(product_ids))
    changed = 0
    with db.session() as s:
        rows = {r.source_product_id: r for r in s.exec(select(ProductMapping).where(
            ProductMapping.channel_store_id == channel_store_id, col(ProductMapping.source_product_id).in_(ids)))}
        for pid in ids:
            row = rows.get(pid) or ProductMapping(channel_store_id=channel_store_id, source_product_id=pid)
            wanted = dict(values)
            if merge_attributes and "attributes" in wanted:
                wanted["attributes"] = merged_attributes(row.attributes, wanted["attributes"])
            if row.id is not None and all(getattr(row, k) == v for k, v in wanted.items()):
                continue
            for k, v in wanted.items():
                setattr(row, k, v)
            row.updated_at = utcnow()
            s.add(row)
            changed += 1
    return changed


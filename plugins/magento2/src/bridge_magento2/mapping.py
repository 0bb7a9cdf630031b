"""Magento JSON <-> bridge models (pure functions, no HTTP).

Products: ``name``, ``custom_attributes.description``, ``status`` (1 enabled, 2 disabled),
``visibility`` (1 not visible individually), ``weight`` in the store's ``weight_unit``,
``media_gallery_entries[].file`` under ``{media_url}catalog/product``, configurable children
with their option values resolved to labels. Orders: ``state`` to bridge statuses, addresses,
``ext_order_id`` (the TikTok order id bridge wrote). Shipments: ``tracks[]``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bridge.models import (
    Address,
    Fulfillment,
    Image,
    Money,
    Order,
    OrderLine,
    Product,
    Tracking,
    Variant,
)
from bridge.values import grams

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
ORDER_STATES = {
    "new": "pending", "pending_payment": "unpaid", "processing": "processing",
    "complete": "completed", "closed": "refunded", "canceled": "cancelled",
    "holded": "on_hold", "payment_review": "pending",
}


def parse_time(value: Any) -> datetime | None:
    """Magento's UTC ``YYYY-MM-DD HH:MM:SS`` as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.strptime(str(value)[:19], DATE_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None


def format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(DATE_FORMAT)


def money(value: Any, currency: str) -> Money:
    return Money(amount=Decimal(str(value if value not in (None, "") else 0)), currency=currency)


def attributes(item: dict[str, Any]) -> dict[str, Any]:
    """``custom_attributes`` as a dict of code -> value."""
    return {a.get("attribute_code"): a.get("value") for a in item.get("custom_attributes") or []}


def weight_grams(value: Any, unit: str) -> Decimal | None:
    g = grams(value, unit, default_unit="lbs")  # general/locale/weight_unit: lbs or kgs
    return None if g is None else g.quantize(Decimal("0.01"))


def media(file: str | None, media_url: str) -> str | None:
    """The public URL of a catalog image file (``/m/h/mh01.jpg``)."""
    if not file or file == "no_selection":
        return None
    return f"{media_url.rstrip('/')}/catalog/product/{file.lstrip('/')}"


def images(item: dict[str, Any], media_url: str) -> list[Image]:
    """Enabled images, the main one (``types`` has ``image``) first, then by position."""
    entries = [e for e in item.get("media_gallery_entries") or []
               if e.get("media_type", "image") == "image" and not e.get("disabled")]
    entries.sort(key=lambda e: ("image" not in (e.get("types") or []), e.get("position") or 0))
    out = []
    for i, e in enumerate(entries):
        url = media(e.get("file"), media_url)
        if url:
            out.append(Image(url=url, position=i, alt=e.get("label") or None))
    return out


def prices(item: dict[str, Any], attrs: dict[str, Any], currency: str, today: date
           ) -> tuple[Money, Money | None]:
    """(price, compare-at): an active ``special_price`` lower than ``price`` is the price."""
    base = money(item.get("price"), currency)
    special = attrs.get("special_price")
    if special in (None, ""):
        return base, None
    start = parse_time(attrs.get("special_from_date"))
    end = parse_time(attrs.get("special_to_date"))
    active = (start is None or start.date() <= today) and (end is None or end.date() >= today)
    special_money = money(special, currency)
    if active and special_money.amount < base.amount:
        return special_money, base
    return base, None


def variant(item: dict[str, Any], facts: dict[str, Any], options: dict[str, str]) -> Variant:
    attrs = attributes(item)
    price, compare = prices(item, attrs, facts["currency"], datetime.now(UTC).date())
    return Variant(
        remote_id=str(item["id"]), sku=item.get("sku"), title=str(item.get("name") or ""),
        options=options, price=price, compare_at_price=compare,
        weight_g=weight_grams(item.get("weight"), facts["weight_unit"]),
        image_url=media(attrs.get("image"), facts["media_url"]),
    )


def product(item: dict[str, Any], children: list[dict[str, Any]], labels: dict[str, tuple[str, dict[str, str]]],
            facts: dict[str, Any]) -> Product:
    """A product; ``labels`` maps attribute id -> (attribute code, option value -> label)."""
    attrs = attributes(item)
    ext = item.get("extension_attributes") or {}
    options = sorted(ext.get("configurable_product_options") or [], key=lambda o: o.get("position") or 0)
    names = [str(o.get("label") or labels.get(str(o.get("attribute_id")), ("", {}))[0]) for o in options]
    if item.get("type_id") == "configurable":
        variants = []
        for child in children:
            if int(child.get("status") or 1) != 1:
                continue
            child_attrs = attributes(child)
            chosen: dict[str, str] = {}
            for name, opt in zip(names, options, strict=True):
                code, values = labels.get(str(opt.get("attribute_id")), ("", {}))
                raw = child_attrs.get(code)
                if raw not in (None, ""):
                    chosen[name] = values.get(str(raw), str(raw))
            variants.append(variant(child, facts, chosen))
    else:
        variants = [variant(item, facts, {})]
    enabled = int(item.get("status") or 1) == 1
    return Product(
        remote_id=str(item["id"]), title=str(item.get("name") or item.get("sku") or ""),
        description_html=str(attrs.get("description") or attrs.get("short_description") or ""),
        product_type=item.get("type_id"),
        status="active" if enabled and (variants or item.get("type_id") != "configurable") else "draft",
        published=enabled and int(item.get("visibility") or 4) != 1,
        options=names, variants=variants, images=images(item, facts["media_url"]),
        weight_g=weight_grams(item.get("weight"), facts["weight_unit"]),
        updated_at=parse_time(item.get("updated_at")),
    )


# --------------------------------------------------------------------------- orders


def address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    street = list(raw.get("street") or [])
    first, last = raw.get("firstname") or "", raw.get("lastname") or ""
    return Address(
        name=f"{first} {last}".strip(), first_name=first or None, last_name=last or None,
        company=raw.get("company"), line1=street[0] if street else "",
        line2=", ".join(street[1:]) or None, city=raw.get("city") or "",
        region=raw.get("region") or raw.get("region_code"), postal_code=raw.get("postcode") or "",
        country_code=raw.get("country_id") or "", phone=raw.get("telephone"), email=raw.get("email"),
    )


def order(raw: dict[str, Any]) -> Order:
    currency = str(raw.get("order_currency_code") or raw.get("base_currency_code") or "USD")
    ext = raw.get("extension_attributes") or {}
    assignments = ext.get("shipping_assignments") or []
    ship = (assignments[0].get("shipping") or {}).get("address") if assignments else None
    lines = [
        OrderLine(remote_id=str(i.get("item_id") or i.get("sku")), product_id=_opt(i.get("product_id")),
                  variant_id=_opt(i.get("product_id")), sku=i.get("sku"), title=i.get("name") or "",
                  quantity=max(1, int(float(i.get("qty_ordered") or 1))),
                  unit_price=money(i.get("price"), currency),
                  cancelled_quantity=int(float(i.get("qty_refunded") or 0) + float(i.get("qty_canceled") or 0)))
        for i in raw.get("items") or [] if not i.get("parent_item_id")
    ]
    name = " ".join(p for p in (raw.get("customer_firstname"), raw.get("customer_lastname")) if p)
    return Order(
        remote_id=str(raw["entity_id"]), status=ORDER_STATES.get(str(raw.get("state")), "other"),
        currency=currency, lines=lines, created_at=parse_time(raw.get("created_at")),
        updated_at=parse_time(raw.get("updated_at")), shipping_address=address(ship),
        buyer_email=raw.get("customer_email"), buyer_name=name or None,
        subtotal=money(raw.get("subtotal"), currency), shipping=money(raw.get("shipping_amount"), currency),
        tax=money(raw.get("tax_amount"), currency), total=money(raw.get("grand_total"), currency),
        number=raw.get("increment_id"), source_order_id=raw.get("ext_order_id") or None,
    )


def _opt(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def fulfillment(raw: dict[str, Any]) -> Fulfillment:
    """A shipment with its tracks (``track_number``, ``title`` or ``carrier_code``)."""
    tracks = [Tracking(number=str(t["track_number"]), carrier=str(t.get("title") or t.get("carrier_code") or ""))
              for t in raw.get("tracks") or [] if t.get("track_number")]
    return Fulfillment(
        remote_id=str(raw["entity_id"]), order_id=str(raw.get("order_id")), tracking=tracks,
        line_ids=[str(i.get("order_item_id")) for i in raw.get("items") or [] if i.get("order_item_id")],
        created_at=parse_time(raw.get("created_at")),
    )

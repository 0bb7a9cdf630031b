"""WooCommerce JSON <-> bridge models (products, variations, orders, addresses, order payloads).

Money fields are strings on the wire and :class:`~bridge.models.Money` here; dates are the
``*_gmt`` fields (UTC without offset) made timezone-aware; weights and dimensions are converted
from the store's units to grams and centimetres.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bridge.models import (
    Address,
    Dimensions,
    Image,
    Money,
    Order,
    OrderDraft,
    OrderLine,
    Product,
    Variant,
)
from bridge.values import centimetres, grams, parse_iso
from bridge.values import decimal_or_none as dec

SOURCE_META = "_tiktok_order_id"
SOURCE_NAME_META = "_bridge_source"
PAYMENT_METHOD = "tiktok_shop"

ORDER_STATUS = {"pending": "pending", "processing": "processing", "on-hold": "on_hold",
                "completed": "completed", "cancelled": "cancelled", "refunded": "refunded"}
SELLABLE_TYPES = ("simple", "variable")


def gmt(value: Any) -> datetime | None:
    """A ``*_gmt`` field (``YYYY-MM-DDTHH:MM:SS``, UTC) as an aware datetime."""
    return parse_iso(value)


def wc_gmt(dt: datetime) -> str:
    """An aware datetime as WooCommerce's GMT date parameter (send ``dates_are_gmt=true``)."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def meta_value(obj: dict[str, Any], key: str) -> Any:
    for m in obj.get("meta_data") or []:
        if isinstance(m, dict) and m.get("key") == key:
            return m.get("value")
    return None


# --------------------------------------------------------------------------- catalog


def _weight(raw: Any, unit: str) -> Decimal | None:
    w = grams(raw, unit, default_unit="kg")  # the store's woocommerce_weight_unit
    return None if w is None else w.normalize()


def _dimensions(raw: Any, unit: str) -> Dimensions | None:
    if not isinstance(raw, dict):
        return None
    cms = [centimetres(raw.get(k), unit, default_unit="cm") for k in ("length", "width", "height")]
    if any(v is None for v in cms):
        return None
    length, width, height = (v.normalize() for v in cms if v is not None)
    return Dimensions(length_cm=length, width_cm=width, height_cm=height)


def _prices(obj: dict[str, Any], currency: str) -> tuple[Money, Money | None] | None:
    price = dec(obj.get("price"))
    if price is None:
        price = dec(obj.get("regular_price"))
    if price is None:
        return None
    regular = dec(obj.get("regular_price"))
    compare = Money(amount=regular, currency=currency) if regular is not None and regular > price else None
    return Money(amount=price, currency=currency), compare


def _quantity(obj: dict[str, Any]) -> tuple[bool, int | None]:
    managed = obj.get("manage_stock") in (True, "parent")
    qty = obj.get("stock_quantity")
    if managed and qty is not None:
        return True, int(qty)
    if managed:
        return True, 0
    return False, 0 if obj.get("stock_status") == "outofstock" else None


def _variant(obj: dict[str, Any], currency: str, units: dict[str, str], options: dict[str, str],
             parent: dict[str, Any] | None = None) -> Variant | None:
    prices = _prices(obj, currency)
    if prices is None:
        return None
    tracked, qty = _quantity(obj)
    image = obj.get("image") if parent is not None else None
    return Variant(
        remote_id=str(obj["id"]),
        sku=obj.get("sku") or None,
        title=" / ".join(options.values()),
        options=options,
        price=prices[0],
        compare_at_price=prices[1],
        barcode=obj.get("global_unique_id") or None,
        weight_g=_weight(obj.get("weight"), units.get("weight", "kg")),
        dimensions=_dimensions(obj.get("dimensions"), units.get("dimension", "cm")),
        inventory_tracked=tracked,
        quantity=qty,
        image_url=(image or {}).get("src") if isinstance(image, dict) else None,
    )


def product(obj: dict[str, Any], variations: list[dict[str, Any]], currency: str,
            units: dict[str, str]) -> Product | None:
    """A product and its variations as a :class:`Product`; None for types TikTok cannot sell
    (grouped, external) or a product left without a purchasable variant."""
    kind = obj.get("type") or "simple"
    if kind not in SELLABLE_TYPES:
        return None
    wc_status = obj.get("status") or "publish"
    status = {"publish": "active", "private": "active", "trash": "deleted"}.get(wc_status, "draft")
    variant_attrs = [a["name"] for a in obj.get("attributes") or [] if a.get("variation")]
    variants: list[Variant] = []
    if kind == "variable":
        for v in variations:
            opts = {a["name"]: a["option"] for a in v.get("attributes") or [] if a.get("option")}
            made = _variant(v, currency, units, opts, parent=obj)
            if made is not None and (v.get("status") or "publish") in ("publish", "private"):
                variants.append(made)
    else:
        made = _variant(obj, currency, units, {})
        if made is not None:
            variants.append(made)
    if not variants:
        return None
    return Product(
        remote_id=str(obj["id"]),
        title=obj.get("name") or "",
        description_html=obj.get("description") or obj.get("short_description") or "",
        product_type=kind,
        tags=[t["name"] for t in obj.get("tags") or [] if t.get("name")],
        categories=[c["name"] for c in obj.get("categories") or [] if c.get("name")],
        status=status,  # type: ignore[arg-type]
        published=wc_status == "publish" and obj.get("catalog_visibility", "visible") != "hidden",
        options=variant_attrs if kind == "variable" else [],
        variants=variants,
        images=[Image(url=i["src"], position=n, alt=i.get("alt") or None)
                for n, i in enumerate(obj.get("images") or []) if i.get("src")],
        weight_g=_weight(obj.get("weight"), units.get("weight", "kg")),
        dimensions=_dimensions(obj.get("dimensions"), units.get("dimension", "cm")),
        updated_at=gmt(obj.get("date_modified_gmt")),
        url=obj.get("permalink") or None,
    )


# --------------------------------------------------------------------------- orders


def address(raw: dict[str, Any] | None) -> Address | None:
    if not raw or not any(raw.values()):
        return None
    first, last = raw.get("first_name") or "", raw.get("last_name") or ""
    return Address(
        name=f"{first} {last}".strip(), first_name=first or None, last_name=last or None,
        company=raw.get("company") or None, line1=raw.get("address_1") or "",
        line2=raw.get("address_2") or None, city=raw.get("city") or "", region=raw.get("state") or None,
        postal_code=raw.get("postcode") or "", country_code=raw.get("country") or "",
        phone=raw.get("phone") or None, email=raw.get("email") or None,
    )


def address_json(a: Address, email: str | None = None) -> dict[str, str]:
    first, last = a.first_name, a.last_name
    if first is None and last is None:
        first, _, last = a.name.partition(" ")
    out = {"first_name": first or "", "last_name": last or "", "company": a.company or "",
           "address_1": a.line1, "address_2": a.line2 or "", "city": a.city, "state": a.region or "",
           "postcode": a.postal_code, "country": a.country_code, "phone": a.phone or ""}
    if email or a.email:
        out["email"] = email or a.email or ""
    return out


def order(obj: dict[str, Any]) -> Order:
    currency = obj.get("currency") or "USD"

    def money(v: Any) -> Money | None:
        d = dec(v)
        return None if d is None else Money(amount=d, currency=currency)

    lines = []
    for item in obj.get("line_items") or []:
        qty = int(item.get("quantity") or 0)
        if qty <= 0:
            continue
        sub = dec(item.get("subtotal")) or Decimal(0)
        lines.append(OrderLine(
            remote_id=str(item.get("id")), product_id=str(item.get("product_id") or "") or None,
            variant_id=str(item.get("variation_id") or item.get("product_id") or "") or None,
            sku=item.get("sku") or None, title=item.get("name") or "", quantity=qty,
            unit_price=Money(amount=(sub / qty).quantize(Decimal("0.01")), currency=currency)))
    billing = obj.get("billing") or {}
    source = meta_value(obj, SOURCE_META)
    return Order(
        remote_id=str(obj["id"]),
        status=ORDER_STATUS.get(obj.get("status") or "", "other"),  # type: ignore[arg-type]
        currency=currency, lines=lines,
        created_at=gmt(obj.get("date_created_gmt")), updated_at=gmt(obj.get("date_modified_gmt")),
        shipping_address=address(obj.get("shipping")), buyer_email=billing.get("email") or None,
        buyer_name=f"{billing.get('first_name') or ''} {billing.get('last_name') or ''}".strip() or None,
        shipping=money(obj.get("shipping_total")), tax=money(obj.get("total_tax")),
        total=money(obj.get("total")), number=str(obj.get("number") or obj["id"]),
        source_order_id=str(source) if source not in (None, "") else None,
    )


def order_payload(draft: OrderDraft) -> dict[str, Any]:
    """The ``POST /orders`` body for a channel order: paid, processing, its prices, its id in meta."""
    items = []
    for line in draft.lines:
        total = (line.unit_price.amount * line.quantity).quantize(Decimal("0.01"))
        item: dict[str, Any] = {"product_id": int(line.product_id or line.variant_id or 0),
                                "quantity": line.quantity, "subtotal": str(total), "total": str(total),
                                "meta_data": [{"key": "_tiktok_line_id", "value": line.remote_id}]}
        if line.variant_id and line.variant_id != line.product_id:
            item["variation_id"] = int(line.variant_id)
        items.append(item)
    billing = draft.billing_address or draft.shipping_address
    return {
        "status": "processing", "set_paid": True, "currency": draft.currency,
        "payment_method": PAYMENT_METHOD, "payment_method_title": draft.source,
        "transaction_id": draft.source_order_id, "customer_id": 0,
        "customer_note": draft.note,
        "billing": address_json(billing, draft.buyer_email),
        "shipping": address_json(draft.shipping_address),
        "line_items": items,
        "shipping_lines": [{"method_id": PAYMENT_METHOD, "method_title": f"{draft.source} shipping",
                            "total": str(draft.shipping.amount)}],
        "meta_data": [{"key": SOURCE_META, "value": draft.source_order_id},
                      {"key": SOURCE_NAME_META, "value": draft.source}],
    }

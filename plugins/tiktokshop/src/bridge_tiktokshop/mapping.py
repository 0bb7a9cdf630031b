"""TikTok Shop JSON <-> bridge models. Raw JSON goes no further than this module."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bridge.models import (
    Address,
    AttributeValue,
    Brand,
    Category,
    CategoryAttribute,
    CategoryRules,
    Certification,
    ExistingListing,
    InventoryLevel,
    Listing,
    ListingResult,
    Money,
    Order,
    OrderLine,
)

ORDER_STATUS = {
    "UNPAID": "unpaid", "ON_HOLD": "on_hold", "AWAITING_SHIPMENT": "awaiting_shipment",
    "PARTIALLY_SHIPPING": "processing", "AWAITING_COLLECTION": "awaiting_collection",
    "IN_TRANSIT": "in_transit", "DELIVERED": "delivered", "COMPLETED": "completed",
    "CANCELLED": "cancelled", "CANCEL": "cancelled",
}
PRODUCT_STATUS = {
    "DRAFT": "draft", "PENDING": "pending", "FAILED": "failed", "ACTIVATE": "live",
    "SELLER_DEACTIVATED": "deactivated", "PLATFORM_DEACTIVATED": "frozen",
    "FREEZE": "frozen", "DELETED": "deleted", "SCHEDULED": "pending",
}
#: Why a product the platform took off sale refuses edits (the API gives no reason of its own).
FROZEN_REASONS = {
    "FREEZE": "TikTok Shop froze this product (status FREEZE): it cannot be edited; see Seller "
              "Center > Products for TikTok's notice",
    "PLATFORM_DEACTIVATED": "TikTok Shop took this product off sale (status PLATFORM_DEACTIVATED): "
                            "it cannot be edited; see Seller Center > Products for TikTok's notice",
}
SHIPPED_STATUSES = {"AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED", "COMPLETED"}


def ts(value: Any) -> datetime | None:
    """Unix seconds (int or string) -> aware UTC datetime."""
    try:
        return datetime.fromtimestamp(int(value), tz=UTC) if value else None
    except (TypeError, ValueError):
        return None


# --------------------------------------------------------------------------- categories


def categories(items: list[dict[str, Any]]) -> list[Category]:
    """The flat category list with each one's path (root -> itself) built from ``parent_id``."""
    by_id = {str(c["id"]): c for c in items}

    def path(cid: str) -> list[str]:
        names: list[str] = []
        seen: set[str] = set()
        while cid in by_id and cid not in seen:
            seen.add(cid)
            names.append(by_id[cid].get("local_name") or by_id[cid].get("name") or cid)
            cid = str(by_id[cid].get("parent_id") or "0")
        return names[::-1]

    out = []
    for c in items:
        perms = set(c.get("permission_statuses") or [])
        parent = str(c.get("parent_id") or "0")
        out.append(Category(
            id=str(c["id"]), name=c.get("local_name") or c.get("name") or str(c["id"]),
            parent_id=None if parent == "0" else parent, is_leaf=bool(c.get("is_leaf")),
            path=path(str(c["id"])),
            permission_required=bool(perms & {"INVITE_ONLY", "NON_MAIN_CATEGORY", "PROHIBITED"}),
        ))
    return out


def attribute(a: dict[str, Any]) -> CategoryAttribute:
    required = a.get("is_requried", a.get("is_required", False))  # the API spells it is_requried
    return CategoryAttribute(
        id=str(a["id"]), name=a.get("name", ""), required=bool(required),
        sales=a.get("type") == "SALES_PROPERTY",
        values=[AttributeValue(id=str(v["id"]), name=v.get("name", "")) for v in a.get("values") or []],
        custom_values_allowed=bool(a.get("is_customizable", False)),
        multiple=bool(a.get("is_multiple_selection", False)),
    )


def rules(category_id: str, data: dict[str, Any], region: str | None = None) -> CategoryRules:
    certs = [Certification(id=str(c.get("id")), name=c.get("name") or str(c.get("id")),
                           required=bool(c.get("is_required")),
                           conditions=[(str(x.get("attribute_id")), str(x.get("attribute_value_id")))
                                       for x in c.get("requirement_conditions") or []])
             for c in data.get("product_certifications") or []]
    chart = data.get("size_chart") or {}
    return CategoryRules(
        category_id=category_id,
        brand_required=bool((data.get("brand") or {}).get("is_required", False)),
        package_dimensions_required=bool((data.get("package_dimension") or {}).get("is_required")),
        size_chart_required=bool(chart.get("is_required")),
        size_chart_supported=bool(chart.get("is_supported") or chart.get("is_required")),
        certifications=[c.name for c in certs if c.required],
        required_certifications=[c for c in certs if c.required or c.conditions],
        weight_units=weight_units(region), dimension_units=dimension_units(region),
    )


def weight_units(region: str | None) -> list[str]:
    """Package weight units a market takes (reference §5.7): US KILOGRAM|POUND, BR/JP/MX
    KILOGRAM|GRAM, the others KILOGRAM only."""
    r = (region or "").upper()
    return ["KILOGRAM", "POUND"] if r == "US" else ["KILOGRAM", "GRAM"] if r in ("BR", "JP", "MX") else ["KILOGRAM"]


def dimension_units(region: str | None) -> list[str]:
    return ["CENTIMETER", "INCH"] if (region or "").upper() == "US" else ["CENTIMETER"]


def brand(b: dict[str, Any]) -> Brand:
    authorized = b.get("authorized_status") == "AUTHORIZED"
    available = b.get("brand_status", "AVAILABLE") == "AVAILABLE"
    usable = (authorized and available) or (not authorized and not b.get("is_t1_brand", False))
    return Brand(id=str(b["id"]), name=b.get("name", ""), authorized=usable)


# --------------------------------------------------------------------------- products


def listing_result(p: dict[str, Any]) -> ListingResult:
    reasons: list[str] = []
    for r in p.get("audit_failed_reasons") or []:
        where = f"{r['position']}: " if r.get("position") else ""
        reasons += [where + str(x) for x in r.get("reasons") or []]
        reasons += [f"suggestion: {s}" for s in r.get("suggestions") or []]
    if p.get("status") in FROZEN_REASONS:
        reasons.insert(0, FROZEN_REASONS[p["status"]])
    return ListingResult(
        remote_product_id=str(p["id"]), status=PRODUCT_STATUS.get(p.get("status", ""), "pending"),
        sku_ids={s["seller_sku"]: str(s["id"]) for s in p.get("skus") or [] if s.get("seller_sku")},
        reasons=reasons,
    )


def existing(p: dict[str, Any], wanted: set[str] | None) -> list[ExistingListing]:
    """The SKUs of a searched product (``wanted``: only these seller SKUs; None: all)."""
    status = PRODUCT_STATUS.get(p.get("status", ""), "pending")
    return [ExistingListing(remote_product_id=str(p["id"]), remote_sku_id=str(s["id"]),
                            seller_sku=s["seller_sku"], status=status)
            for s in p.get("skus") or [] if s.get("seller_sku") and (wanted is None or s["seller_sku"] in wanted)]


def inventory_levels(product_id: str, skus: list[dict[str, Any]]) -> list[InventoryLevel]:
    out = []
    for s in skus:
        if "total_available_quantity" in s:
            qty = int(s["total_available_quantity"])
        else:
            qty = sum(int(w.get("quantity", w.get("available_quantity", 0)))
                      for w in s.get("inventory") or s.get("warehouse_inventory") or [])
        out.append(InventoryLevel(product_id=str(product_id), variant_id=str(s["id"]),
                                  sku=s.get("seller_sku"), quantity=qty))
    return out


def weight_kg(grams: Decimal) -> str:
    """Grams -> the KILOGRAM string TikTok takes (at most 3 decimals)."""
    return str((Decimal(grams) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def whole_cm(value: Decimal) -> str:
    return str(max(1, int(Decimal(value).to_integral_value(rounding=ROUND_HALF_UP))))


def product_payload(listing: Listing, *, description: str, main_images: list[str],
                    sku_images: dict[str, str], sales_attrs: list[dict[str, Any]],
                    warehouse_id: str, category_version: str, idempotency_key: str | None,
                    size_chart_uri: str | None = None, certifications: dict[str, list[str]] | None = None,
                    ) -> dict[str, Any]:
    """The Create/Edit Product body. ``sales_attrs`` holds, per option name, the attribute id
    (built-in) or ``None`` (custom) and the value ids known for its values."""
    body: dict[str, Any] = {
        "title": listing.title, "description": description,
        "category_id": listing.category_id, "category_version": category_version,
        "main_images": [{"uri": u} for u in main_images],
        "external_product_id": listing.source_product_id,
        "save_mode": "LISTING",
    }
    if listing.brand_id:
        body["brand_id"] = listing.brand_id
    if size_chart_uri:
        body["size_chart"] = {"image": {"uri": size_chart_uri}}
    elif listing.size_chart_template_id:
        body["size_chart"] = {"template": {"id": listing.size_chart_template_id}}
    if certifications:
        body["certifications"] = [{"id": cid, "images": [{"uri": u} for u in uris]}
                                  for cid, uris in certifications.items()]
    if listing.attributes:
        body["product_attributes"] = [
            {"id": a.id, "values": [{"id": v} for v in a.value_ids] + [{"name": v} for v in a.values]}
            for a in listing.attributes]
    if listing.package_weight_g is not None:
        body["package_weight"] = {"value": weight_kg(listing.package_weight_g), "unit": "KILOGRAM"}
    if listing.package_dimensions is not None:
        d = listing.package_dimensions
        body["package_dimensions"] = {"length": whole_cm(d.length_cm), "width": whole_cm(d.width_cm),
                                      "height": whole_cm(d.height_cm), "unit": "CENTIMETER"}
    by_name = {a["name"].lower(): a for a in sales_attrs}
    skus = []
    for s in listing.skus:
        sku: dict[str, Any] = {
            "seller_sku": s.seller_sku, "external_sku_id": s.source_variant_id,
            "price": {"amount": str(s.price.amount), "currency": s.price.currency},
            "inventory": [{"warehouse_id": warehouse_id, "quantity": s.quantity}],
        }
        if s.remote_sku_id:
            sku["id"] = s.remote_sku_id
        attrs = []
        for i, (name, value) in enumerate(s.sales_attributes.items()):
            known = by_name.get(name.lower()) or {}
            entry: dict[str, Any] = {"value_name": value}
            if known.get("id"):
                entry["id"] = known["id"]
                if value.lower() in known.get("values", {}):
                    entry = {"id": known["id"], "value_id": known["values"][value.lower()]}
            else:
                entry["name"] = name[:20]
            if i == 0 and s.image_url and s.image_url in sku_images:
                entry["sku_img"] = {"uri": sku_images[s.image_url]}
            attrs.append(entry)
        if attrs:
            sku["sales_attributes"] = attrs
        skus.append(sku)
    body["skus"] = skus
    if idempotency_key:
        body["idempotency_key"] = idempotency_key
    return body


# --------------------------------------------------------------------------- orders


def _money(value: Any, currency: str) -> Money | None:
    if value in (None, ""):
        return None
    return Money(amount=Decimal(str(value)), currency=currency)


def address(a: dict[str, Any] | None) -> Address | None:
    if not a:
        return None
    district = {d.get("address_level_name", "").lower(): d.get("address_name", "")
                for d in a.get("district_info") or []}
    return Address(
        name=a.get("name", ""), first_name=a.get("first_name") or None,
        last_name=a.get("last_name") or None,
        line1=a.get("address_line1") or a.get("address_detail") or "",
        line2=" ".join(x for x in (a.get("address_line2"), a.get("address_line3"),
                                   a.get("address_line4")) if x) or None,
        city=a.get("post_town") or district.get("city") or district.get("town") or "",
        region=district.get("county") or district.get("state") or district.get("province"),
        postal_code=a.get("postal_code", ""), country_code=a.get("region_code", ""),
        phone=a.get("phone_number") or None,
    )


def order(o: dict[str, Any]) -> Order:
    """An order; line items (one per unit) are grouped by SKU into lines with a quantity, each
    line's ``remote_id`` being its first line item id."""
    payment = o.get("payment") or {}
    currency = payment.get("currency") or next(
        (li.get("currency") for li in o.get("line_items") or [] if li.get("currency")), "GBP")
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for li in o.get("line_items") or []:
        groups.setdefault(str(li.get("sku_id") or li["id"]), []).append(li)
    lines = []
    for items in groups.values():
        first = items[0]
        lines.append(OrderLine(
            remote_id=str(first["id"]), product_id=str(first.get("product_id") or "") or None,
            variant_id=str(first.get("sku_id") or "") or None, sku=first.get("seller_sku") or None,
            title=" - ".join(x for x in (first.get("product_name"), first.get("sku_name")) if x),
            quantity=len(items),
            unit_price=Money(amount=Decimal(str(first.get("sale_price") or "0")), currency=currency),
            package_id=str(first["package_id"]) if first.get("package_id") else None,
            cancelled_quantity=sum(1 for li in items if li.get("display_status") == "CANCELLED"),
        ))
    status = o.get("status", "")
    on_hold = status in ("UNPAID", "ON_HOLD")
    cancel = o.get("cancel_reason") or None
    return Order(
        remote_id=str(o["id"]), status=ORDER_STATUS.get(status, "other"), currency=currency,
        lines=lines, created_at=ts(o.get("create_time")), updated_at=ts(o.get("update_time")),
        shipping_address=address(o.get("recipient_address")),
        buyer_email=o.get("buyer_email") or None,
        buyer_name=(o.get("recipient_address") or {}).get("name") or None,
        subtotal=_money(payment.get("sub_total"), currency),
        shipping=_money(payment.get("shipping_fee"), currency),
        tax=_money(payment.get("tax"), currency), total=_money(payment.get("total_amount"), currency),
        fulfilled_by="platform" if o.get("fulfillment_type") == "FULFILLMENT_BY_TIKTOK" else "seller",
        shipping_label_by="platform" if o.get("shipping_type") == "TIKTOK" else "seller",
        released=not on_hold, cancel_reason=cancel if status == "CANCELLED" else None,
        package_ids=[str(p["id"]) for p in o.get("packages") or [] if p.get("id")],
        delivery_option_id=str(o["delivery_option_id"]) if o.get("delivery_option_id") else None,
        number=str(o["id"]), raw_status=str(status) or None,
    )

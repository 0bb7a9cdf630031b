"""Shopify JSON ↔ bridge models. Nothing past this module sees raw platform JSON.

Shopify sends Money and Decimal as strings (parsed with ``Decimal``, never float), DateTimes as
ISO-8601 UTC, ids as GIDs (``gid://shopify/Product/123``), weights on the inventory item's
measurement in the shop's unit.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from bridge.models import (
    Address,
    Fulfillment,
    Image,
    Money,
    Order,
    OrderDraft,
    OrderLine,
    Product,
    StoreInfo,
    Tracking,
    Variant,
)
from bridge.values import grams, parse_iso

STATUS = {"ACTIVE": "active", "DRAFT": "draft", "ARCHIVED": "archived"}
#: The tag every order bridge creates carries, and the per-order tag prefix.
ORDER_TAG = "TikTokShop"
ORDER_TAG_PREFIX = "tiktok-"
SOURCE_ATTRIBUTE = "tiktok_order_id"


def parse_time(value: str | None) -> datetime | None:
    """A Shopify ``DateTime`` (ISO-8601 UTC) as an aware datetime."""
    return parse_iso(value)


def money(amount: Any, currency: str) -> Money | None:
    if amount in (None, ""):
        return None
    return Money(amount=Decimal(str(amount)), currency=currency)


def weight_grams(item: dict[str, Any] | None) -> Decimal | None:
    weight = (((item or {}).get("measurement") or {}).get("weight")) or {}
    raw = grams(weight.get("value"), str(weight.get("unit") or ""))  # GRAMS, KILOGRAMS, OUNCES, POUNDS
    if raw is None:
        return None
    g = raw.quantize(Decimal("0.01"))
    return g.quantize(Decimal(1)) if g == g.to_integral_value() else g


def store_info(shop: dict[str, Any], *, credentials: dict[str, Any] | None = None,
               settings: dict[str, Any] | None = None) -> StoreInfo:
    """StoreInfo from the ``shop`` query: name, domain, currency, timezone, plan."""
    plan = shop.get("plan") or {}
    details = {"plan": plan.get("displayName"), "email": shop.get("email"),
               "shopify_plus": plan.get("shopifyPlus"),
               "development_store": plan.get("partnerDevelopment")}
    warnings = []
    if plan.get("partnerDevelopment"):
        warnings.append("development store: Shopify creates at most 5 orders per minute through the API")
    return StoreInfo(
        remote_id=shop["myshopifyDomain"], name=shop["name"], domain=shop["myshopifyDomain"],
        currency=shop["currencyCode"], timezone=shop.get("ianaTimezone"),
        region=(shop.get("billingAddress") or {}).get("countryCodeV2"),
        credentials=credentials or {}, settings=settings or {},
        details={k: v for k, v in details.items() if v is not None}, warnings=warnings,
    )


def variant(node: dict[str, Any], currency: str) -> Variant:
    item = node.get("inventoryItem") or {}
    return Variant(
        remote_id=node["id"], sku=node.get("sku") or None, title=node.get("title") or "",
        options={o["name"]: o["value"] for o in node.get("selectedOptions") or []},
        price=money(node.get("price") or "0", currency),
        compare_at_price=money(node.get("compareAtPrice"), currency),
        barcode=node.get("barcode") or None,
        weight_g=weight_grams(item),
        inventory_tracked=bool(item.get("tracked", True)),
        quantity=node.get("inventoryQuantity"),
        image_url=(node.get("image") or {}).get("url"),
    )


def _images(media: list[dict[str, Any]]) -> list[Image]:
    images = []
    for m in media:
        image = m.get("image") or {}
        if image.get("url"):
            images.append(Image(url=image["url"], position=len(images),
                                alt=image.get("altText") or m.get("alt") or None))
    return images


def product(node: dict[str, Any], variants: list[Variant], *, media: list[dict[str, Any]],
            collections: list[str]) -> Product:
    """A Product from a product node and its already-read variants, media and collections."""
    category = (node.get("category") or {}).get("fullName")
    status = STATUS.get(node.get("status") or "ACTIVE", "active")
    weights = [v.weight_g for v in variants if v.weight_g is not None]
    return Product(
        remote_id=node["id"], title=node.get("title") or "",
        description_html=node.get("descriptionHtml") or "",
        vendor=node.get("vendor") or None, product_type=node.get("productType") or None,
        tags=list(node.get("tags") or []),
        categories=list(collections) + ([category] if category else []),
        status=status, published=status == "active",
        options=[o["name"] for o in node.get("options") or []],
        variants=variants, images=_images(media),
        weight_g=max(weights) if weights else None,
        updated_at=parse_time(node.get("updatedAt")), url=node.get("onlineStoreUrl"),
    )


def product_from_page(node: dict[str, Any], variants: list[Variant]) -> Product:
    """A Product from a node of the ``products``/``nodes`` documents (connections with nodes)."""
    return product(
        node, variants,
        media=(node.get("media") or {}).get("nodes") or [],
        collections=[c["title"] for c in (node.get("collections") or {}).get("nodes") or []],
    )


# --------------------------------------------------------------------------- orders


def _address(node: dict[str, Any] | None) -> Address | None:
    if not node:
        return None
    name = node.get("name") or " ".join(
        p for p in (node.get("firstName"), node.get("lastName")) if p)
    return Address(
        name=name or "", first_name=node.get("firstName"), last_name=node.get("lastName"),
        company=node.get("company"), line1=node.get("address1") or "", line2=node.get("address2"),
        city=node.get("city") or "", region=node.get("provinceCode"),
        postal_code=node.get("zip") or "", country_code=node.get("countryCodeV2") or "",
        phone=node.get("phone"),
    )


def _set_money(node: dict[str, Any] | None) -> Money | None:
    shop_money = (node or {}).get("shopMoney") or {}
    return money(shop_money.get("amount"), shop_money.get("currencyCode") or "XXX") \
        if shop_money else None


def source_order_id(node: dict[str, Any]) -> str | None:
    """The TikTok order id an order carries: source identifier, attribute or tag."""
    for attr in node.get("customAttributes") or []:
        if attr.get("key") == SOURCE_ATTRIBUTE and attr.get("value"):
            return attr["value"]
    if node.get("sourceIdentifier"):
        return node["sourceIdentifier"]
    for tag in node.get("tags") or []:
        if tag.lower().startswith(ORDER_TAG_PREFIX):
            return tag[len(ORDER_TAG_PREFIX):]
    return None


def order_status(node: dict[str, Any]) -> str:
    if node.get("cancelledAt"):
        return "cancelled"
    if node.get("displayFinancialStatus") in ("REFUNDED",):
        return "refunded"
    fulfilment = node.get("displayFulfillmentStatus")
    if fulfilment == "FULFILLED":
        return "completed"
    if fulfilment == "PARTIALLY_FULFILLED":
        return "processing"
    if node.get("displayFinancialStatus") in ("PENDING", "AUTHORIZED"):
        return "pending"
    return "awaiting_shipment"


def order_line(node: dict[str, Any], currency: str) -> OrderLine:
    return OrderLine(
        remote_id=node["id"], product_id=(node.get("product") or {}).get("id"),
        variant_id=(node.get("variant") or {}).get("id"), sku=node.get("sku"),
        title=node.get("title") or "", quantity=max(1, int(node.get("quantity") or 1)),
        unit_price=_set_money(node.get("originalUnitPriceSet")) or Money(amount=0, currency=currency),
        cancelled_quantity=max(0, int(node.get("quantity") or 0) - int(node["currentQuantity"]))
        if node.get("currentQuantity") is not None else 0,
    )


def order(node: dict[str, Any], lines: list[OrderLine]) -> Order:
    return Order(
        remote_id=node["id"], number=node.get("name"), status=order_status(node),
        currency=node.get("currencyCode") or "", lines=lines,
        created_at=parse_time(node.get("createdAt")), updated_at=parse_time(node.get("updatedAt")),
        shipping_address=_address(node.get("shippingAddress")), buyer_email=node.get("email"),
        subtotal=_set_money(node.get("subtotalPriceSet")),
        shipping=_set_money(node.get("totalShippingPriceSet")),
        tax=_set_money(node.get("totalTaxSet")), total=_set_money(node.get("totalPriceSet")),
        cancel_reason=(node.get("cancelReason") or None), source_order_id=source_order_id(node),
    )


def fulfillment(node: dict[str, Any], order_id: str) -> Fulfillment:
    return Fulfillment(
        remote_id=node["id"], order_id=order_id,
        tracking=[Tracking(number=t["number"], carrier=t.get("company") or "", url=t.get("url"))
                  for t in node.get("trackingInfo") or [] if t.get("number")],
        line_ids=[n["lineItem"]["id"] for n in (node.get("fulfillmentLineItems") or {}).get("nodes") or []
                  if n.get("lineItem")],
        created_at=parse_time(node.get("createdAt")),
        status=(node.get("status") or "SUCCESS").lower(),
    )


def _money_bag(value: Money) -> dict[str, Any]:
    return {"shopMoney": {"amount": str(value.amount), "currencyCode": value.currency}}


def _mailing(address: Address | None) -> dict[str, Any] | None:
    if address is None:
        return None
    first, last = address.first_name, address.last_name
    if not first and not last and address.name:
        first, _, last = address.name.partition(" ")
    data = {"firstName": first, "lastName": last or None, "company": address.company,
            "address1": address.line1, "address2": address.line2, "city": address.city,
            "provinceCode": address.region, "countryCode": address.country_code.upper() or None,
            "zip": address.postal_code, "phone": address.phone}
    return {k: v for k, v in data.items() if v not in (None, "")}


def order_input(draft: OrderDraft) -> dict[str, Any]:
    """``OrderCreateOrderInput`` for a TikTok order (platform doc §7.1–7.2): prices TikTok
    charged, customer and address as given (masked data stays masked), source id and tags."""
    source_slug = draft.source.lower().replace(" ", "_")
    order_in: dict[str, Any] = {
        "currency": draft.currency,
        "lineItems": [
            {"variantId": line.variant_id, "quantity": line.quantity,
             "priceSet": _money_bag(line.unit_price)}
            if line.variant_id else
            {"title": line.title or line.sku or "Item", "sku": line.sku, "quantity": line.quantity,
             "requiresShipping": True, "priceSet": _money_bag(line.unit_price)}
            for line in draft.lines
        ],
        "shippingAddress": _mailing(draft.shipping_address),
        "billingAddress": _mailing(draft.billing_address or draft.shipping_address),
        "shippingLines": [{"title": f"{draft.source} shipping", "code": source_slug.upper(),
                           "source": source_slug, "priceSet": _money_bag(draft.shipping)}],
        "financialStatus": "PAID",
        "sourceName": source_slug,
        "sourceIdentifier": draft.source_order_id,
        "tags": [ORDER_TAG, f"{ORDER_TAG_PREFIX}{draft.source_order_id}"],
        "note": draft.note or f"{draft.source} order {draft.source_order_id}, created by bridge",
        "customAttributes": [{"key": SOURCE_ATTRIBUTE, "value": draft.source_order_id}],
    }
    if draft.created_at:
        order_in["processedAt"] = draft.created_at.isoformat()
    if draft.tax and draft.tax.amount:
        subtotal = sum((ln.unit_price.amount * ln.quantity for ln in draft.lines), Decimal(0))
        rate = (draft.tax.amount / subtotal).quantize(Decimal("0.0001")) if subtotal else Decimal(0)
        order_in["taxLines"] = [{"title": f"{draft.source} tax", "rate": str(rate),
                                 "priceSet": _money_bag(draft.tax)}]
    if draft.buyer_email:
        first, _, last = (draft.buyer_name or "").partition(" ")
        customer = {"email": draft.buyer_email, "firstName": first or None, "lastName": last or None}
        order_in["customer"] = {"toUpsert": {k: v for k, v in customer.items() if v}}
    return {k: v for k, v in order_in.items() if v is not None}

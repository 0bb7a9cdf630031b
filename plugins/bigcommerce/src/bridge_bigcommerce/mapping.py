"""BigCommerce JSON <-> bridge models: store, products and variants, orders, shipments.

Catalog (v3) money and sizes are JSON numbers; order (v2) money is decimal strings and dates are
RFC-2822. Weights become grams and dimensions centimetres using the store's units.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from bridge.models import (
    Dimensions,
    Fulfillment,
    Image,
    Money,
    Order,
    OrderLine,
    Product,
    StoreInfo,
    Tracking,
    Variant,
)
from bridge.values import centimetres, grams, parse_iso
from bridge.values import decimal_or_none as dec
from bridge_bigcommerce.payloads import address_from_bc

#: v2 order status id -> bridge order status.
ORDER_STATUS = {0: "pending", 1: "pending", 2: "in_transit", 3: "processing", 4: "refunded",
                5: "cancelled", 6: "cancelled", 7: "unpaid", 8: "awaiting_collection",
                9: "awaiting_shipment", 10: "completed", 11: "awaiting_shipment", 12: "on_hold",
                13: "other", 14: "other"}
CANCELLED = 5
#: Statuses from which an order cannot be cancelled any more (goods left).
SHIPPED_STATUSES = {2, 10}


@dataclass
class StoreFacts:
    """What the catalog mapping needs of ``/v2/store`` (cached per store in ``state``)."""

    currency: str
    weight_units: str = "Grams"
    dimension_units: str = "Centimeters"
    secure_url: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def store_facts(store: dict) -> StoreFacts:
    return StoreFacts(currency=str(store.get("currency") or "USD").upper(),
                      weight_units=str(store.get("weight_units") or "Grams"),
                      dimension_units=str(store.get("dimension_units") or "Centimeters"),
                      secure_url=str(store.get("secure_url") or "").rstrip("/"))


def store_info(store: dict, store_hash: str) -> StoreInfo:
    """StoreInfo from ``GET /v2/store``."""
    tz = store.get("timezone") or {}
    details = {k: store[k] for k in ("plan_name", "status", "weight_units", "dimension_units",
                                     "is_price_entered_with_tax") if k in store}
    warnings = []
    if store.get("status") not in (None, "live"):
        warnings.append(f"the store's status is '{store.get('status')}', not live")
    return StoreInfo(remote_id=store_hash, name=str(store.get("name") or store_hash),
                     domain=store.get("domain") or None,
                     currency=str(store.get("currency") or "USD").upper(),
                     region=store.get("country_code") or None,
                     timezone=tz.get("name") if isinstance(tz, dict) else None,
                     settings={"store_hash": store_hash}, details=details, warnings=warnings)


# --------------------------------------------------------------------------- values


def parse_rfc2822(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        dt = parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return parse_iso(value)
    return (dt if dt.tzinfo else dt.replace(tzinfo=UTC)).astimezone(UTC)


def rfc2822(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC))


def _grams(value: Any, facts: StoreFacts) -> Decimal | None:
    g = grams(value, facts.weight_units, default_unit="g")  # ``/v2/store`` ``weight_units``
    return None if g is None or g <= 0 else g.quantize(Decimal("0.01"))


def _dimensions(obj: dict, facts: StoreFacts) -> Dimensions | None:
    vals = [centimetres(obj.get(k), facts.dimension_units, default_unit="cm") for k in ("depth", "width", "height")]
    cms = [v.quantize(Decimal("0.01")) for v in vals if v is not None and v > 0]
    if len(cms) != 3:
        return None
    return Dimensions(length_cm=cms[0], width_cm=cms[1], height_cm=cms[2])


# --------------------------------------------------------------------------- catalog


def _prices(variant: dict, product: dict, currency: str) -> tuple[Money, Money | None]:
    """Price and compare-at price: a sale price below the price wins, the price is then the
    compare-at; else the MSRP (retail price) above the price is the compare-at."""
    base = dec(variant.get("price"))
    if base is None:
        base = dec(product.get("price")) or Decimal(0)
    sale = dec(variant.get("sale_price"))
    if sale is None:
        sale = dec(product.get("sale_price"))
    retail = dec(variant.get("retail_price"))
    if retail is None:
        retail = dec(product.get("retail_price"))
    if sale and Decimal(0) < sale < base:
        return Money(amount=sale, currency=currency), Money(amount=base, currency=currency)
    if retail and retail > base:
        return Money(amount=base, currency=currency), Money(amount=retail, currency=currency)
    return Money(amount=base, currency=currency), None


def variant_quantity(variant: dict, product: dict) -> int | None:
    """The catalog's stock of a variant as the product's tracking mode says (default location)."""
    mode = product.get("inventory_tracking") or "none"
    if mode == "variant":
        return int(variant.get("inventory_level") or 0)
    if mode == "product":
        return int(product.get("inventory_level") or 0)
    return None


def to_variant(v: dict, product: dict, facts: StoreFacts) -> Variant:
    options = {str(o.get("option_display_name") or ""): str(o.get("label") or "")
               for o in v.get("option_values") or []}
    price, compare = _prices(v, product, facts.currency)
    dims = _dimensions(v, facts) if any(v.get(k) for k in ("width", "height", "depth")) else None
    return Variant(
        remote_id=str(v["id"]), sku=v.get("sku") or None,
        title=" / ".join(options.values()) or str(product.get("name") or ""),
        options=options, price=price, compare_at_price=compare,
        barcode=v.get("upc") or v.get("gtin") or None,
        weight_g=_grams(v.get("weight"), facts) or _grams(product.get("weight"), facts),
        dimensions=dims or _dimensions(product, facts),
        inventory_tracked=(product.get("inventory_tracking") or "none") != "none",
        quantity=variant_quantity(v, product), image_url=v.get("image_url") or None,
    )


def to_product(p: dict, facts: StoreFacts) -> Product:
    """A Product from a v3 product with ``include=variants,images``."""
    raw_variants = p.get("variants") or []
    buyable = [v for v in raw_variants if not v.get("purchasing_disabled")]
    variants = [to_variant(v, p, facts) for v in (buyable or raw_variants)]
    option_names: list[str] = []
    for v in raw_variants:
        for o in v.get("option_values") or []:
            name = str(o.get("option_display_name") or "")
            if name and name not in option_names:
                option_names.append(name)
    images = sorted(p.get("images") or [], key=lambda i: (not i.get("is_thumbnail"),
                                                         i.get("sort_order") or 0, i.get("id") or 0))
    url_path = (p.get("custom_url") or {}).get("url")
    status = "draft" if p.get("availability") == "disabled" or not buyable else "active"
    return Product(
        remote_id=str(p["id"]), title=str(p.get("name") or ""),
        description_html=str(p.get("description") or ""), product_type=p.get("type") or None,
        status=status, published=bool(p.get("is_visible", True)), options=option_names,
        variants=variants,
        images=[Image(url=i.get("url_zoom") or i.get("url_standard") or i.get("image_url") or "",
                      position=n, alt=i.get("description") or None)
                for n, i in enumerate(images) if i.get("url_zoom") or i.get("url_standard")],
        weight_g=_grams(p.get("weight"), facts), dimensions=_dimensions(p, facts),
        updated_at=parse_iso(p.get("date_modified")),
        url=f"{facts.secure_url}{url_path}" if url_path and facts.secure_url else None,
    )


# --------------------------------------------------------------------------- orders


def to_order(o: dict, lines: list[dict], shipping: list[dict]) -> Order:
    """An Order from ``GET /v2/orders/{id}`` with its products and shipping addresses."""
    currency = str(o.get("currency_code") or o.get("default_currency_code") or "USD")

    def m(key: str) -> Money | None:
        v = dec(o.get(key))
        return None if v is None else Money(amount=v, currency=currency)

    billing = o.get("billing_address") or {}
    name = " ".join(x for x in (billing.get("first_name"), billing.get("last_name")) if x)
    return Order(
        remote_id=str(o["id"]), status=ORDER_STATUS.get(int(o.get("status_id") or 0), "other"),  # type: ignore[arg-type]
        currency=currency,
        lines=[OrderLine(remote_id=str(ln["id"]), product_id=str(ln.get("product_id") or "") or None,
                         variant_id=str(ln.get("variant_id") or "") or None, sku=ln.get("sku") or None,
                         title=str(ln.get("name") or ""), quantity=max(1, int(ln.get("quantity") or 1)),
                         unit_price=Money(amount=dec(ln.get("price_inc_tax")) or Decimal(0),
                                          currency=currency),
                         cancelled_quantity=int(ln.get("quantity_refunded") or 0))
               for ln in lines],
        created_at=parse_rfc2822(o.get("date_created")),
        updated_at=parse_rfc2822(o.get("date_modified")),
        shipping_address=address_from_bc(shipping[0]) if shipping else None,
        buyer_email=billing.get("email") or None, buyer_name=name or None,
        subtotal=m("subtotal_inc_tax"), shipping=m("shipping_cost_inc_tax"), tax=m("total_tax"),
        total=m("total_inc_tax"), number=str(o["id"]),
        source_order_id=o.get("external_order_id") or None,
    )


def to_fulfillment(s: dict) -> Fulfillment:
    """A Fulfillment from a v2 shipment."""
    tracking = []
    if s.get("tracking_number"):
        carrier = (s.get("tracking_carrier") or s.get("shipping_provider_display_name")
                   or s.get("shipping_provider") or s.get("shipping_method") or "")
        tracking.append(Tracking(number=str(s["tracking_number"]), carrier=str(carrier),
                                 url=s.get("tracking_link") or s.get("generated_tracking_link") or None))
    return Fulfillment(remote_id=str(s["id"]), order_id=str(s.get("order_id")), tracking=tracking,
                       line_ids=[str(i.get("order_product_id")) for i in s.get("items") or []],
                       created_at=parse_rfc2822(s.get("date_created")))

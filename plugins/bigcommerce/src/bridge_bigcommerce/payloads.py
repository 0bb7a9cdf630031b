"""Request bodies bridge sends to BigCommerce (order create/cancel, webhook hooks) and the
address conversion both ways. Bodies follow the OpenAPI schemas in ``shared/specs/bigcommerce``
(``order_Post``, ``order_Put``, ``webhook_Base``, ``webhook_Put``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from bridge.models import Address, OrderDraft

#: Country names BigCommerce expects beside ``country_iso2`` (TikTok Shop markets and a few more).
COUNTRY_NAMES = {
    "GB": "United Kingdom", "US": "United States", "SG": "Singapore", "VN": "Vietnam",
    "TH": "Thailand", "MY": "Malaysia", "ID": "Indonesia", "PH": "Philippines", "CN": "China",
    "HK": "Hong Kong", "IE": "Ireland", "FR": "France", "DE": "Germany", "ES": "Spain",
    "IT": "Italy", "MX": "Mexico", "CA": "Canada", "AU": "Australia", "JP": "Japan",
}
#: v2 status ids bridge writes.
AWAITING_FULFILLMENT = 11
CANCELLED = 5


def address_from_bc(a: dict) -> Address:
    first, last = a.get("first_name") or None, a.get("last_name") or None
    return Address(
        name=" ".join(x for x in (first, last) if x), first_name=first, last_name=last,
        company=a.get("company") or None, line1=str(a.get("street_1") or ""),
        line2=a.get("street_2") or None, city=str(a.get("city") or ""),
        region=a.get("state") or None, postal_code=str(a.get("zip") or ""),
        country_code=str(a.get("country_iso2") or ""), phone=a.get("phone") or None,
        email=a.get("email") or None,
    )


def address_to_bc(a: Address, email: str | None) -> dict[str, str]:
    """A v2 address object (``billingAddress_Base`` / ``shippingAddress_Base``)."""
    first, last = a.first_name, a.last_name
    if not first and not last and a.name:
        first, _, last = a.name.partition(" ")
    out = {
        "first_name": first or "", "last_name": last or "", "company": a.company or "",
        "street_1": a.line1, "street_2": a.line2 or "", "city": a.city, "state": a.region or "",
        "zip": a.postal_code, "country_iso2": a.country_code.upper(), "phone": a.phone or "",
        "email": a.email or email or "",
    }
    name = COUNTRY_NAMES.get(a.country_code.upper())
    if name:
        out["country"] = name
    return {k: v for k, v in out.items() if v != "" or k in ("zip", "street_1", "city")}


def _num(amount: Decimal) -> float:
    """A catalog-line price as the schema types it (number)."""
    return float(amount.quantize(Decimal("0.0001")))


def _money(amount: Decimal) -> str:
    """Order-level money as the schema types it (decimal string, 4 places)."""
    return f"{amount.quantize(Decimal('0.0001'))}"


def order_line(line: Any) -> dict[str, Any]:
    """One ``products[]`` item: a catalog line when the variant is known, else a custom line."""
    price = _num(line.unit_price.amount)
    if line.product_id and str(line.product_id).isdigit():
        item: dict[str, Any] = {"product_id": int(line.product_id), "quantity": line.quantity,
                                "price_inc_tax": price, "price_ex_tax": price}
        if line.variant_id and str(line.variant_id).isdigit():
            item["variant_id"] = int(line.variant_id)
        return item
    item = {"name": line.title or line.sku or "Item", "quantity": line.quantity,
            "price_inc_tax": price, "price_ex_tax": price}
    if line.sku:
        item["sku"] = line.sku
    return item


def order_post(draft: OrderDraft, *, channel_id: int | None = None,
               merchant_id: str | None = None) -> dict[str, Any]:
    """``POST /v2/orders`` for a channel order: guest, Awaiting Fulfillment, the channel's
    prices, and ``external_source``/``external_order_id`` naming the channel and its order."""
    billing = draft.billing_address or draft.shipping_address
    subtotal = sum((ln.unit_price.amount * ln.quantity for ln in draft.lines), Decimal(0))
    tax = draft.tax.amount if draft.tax else Decimal(0)
    shipping = draft.shipping.amount
    total = draft.total.amount
    # TikTok prices include tax in most markets: then the total is at most lines + shipping and
    # the gap is the discount; when it is above, tax came on top of the prices.
    tax_included = total <= subtotal + shipping
    discount = subtotal + shipping - total if tax_included else Decimal(0)
    shipping_address = {**address_to_bc(draft.shipping_address, draft.buyer_email),
                        "shipping_method": f"{draft.source} shipping"}
    body: dict[str, Any] = {
        "customer_id": 0,
        "status_id": AWAITING_FULFILLMENT,
        "external_source": f"Marketplace ({draft.source})",
        "external_order_id": draft.source_order_id,
        "payment_method": draft.source,
        "staff_notes": draft.note or f"Created by bridge for {draft.source} order {draft.source_order_id}",
        "billing_address": address_to_bc(billing, draft.buyer_email),
        "shipping_addresses": [shipping_address],
        "products": [order_line(ln) for ln in draft.lines],
        "shipping_cost_inc_tax": _money(shipping),
        "shipping_cost_ex_tax": _money(shipping),
        "subtotal_inc_tax": _money(subtotal if tax_included else subtotal + tax),
        "subtotal_ex_tax": _money(subtotal - tax if tax_included else subtotal),
        "total_inc_tax": _money(total),
        "total_ex_tax": _money(total - tax),
    }
    if discount > 0:
        body["discount_amount"] = _money(discount)
    if channel_id:
        body["channel_id"] = int(channel_id)
    if merchant_id:
        body["external_merchant_id"] = merchant_id
    if draft.created_at:
        from bridge_bigcommerce.mapping import rfc2822

        body["date_created"] = rfc2822(draft.created_at)
    return body


def order_cancel(reason: str, staff_notes: str = "") -> dict[str, Any]:
    """``PUT /v2/orders/{id}`` that cancels (status 5, Cancelled), the reason added to the
    staff notes (the order has no cancel-reason field)."""
    note = f"Cancelled by bridge: {reason}" if reason else "Cancelled by bridge"
    return {"status_id": CANCELLED, "staff_notes": f"{staff_notes}\n{note}".strip()}


def hook_post(scope: str, destination: str, headers: dict[str, str]) -> dict[str, Any]:
    """``POST /v3/hooks`` (``webhook_Base``)."""
    return {"scope": scope, "destination": destination, "is_active": True, "headers": headers}


def hook_put(headers: dict[str, str]) -> dict[str, Any]:
    """``PUT /v3/hooks/{id}``: re-activate with our secret header."""
    return {"is_active": True, "headers": headers}

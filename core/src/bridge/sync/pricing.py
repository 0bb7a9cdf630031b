"""Price and quantity rules: what a TikTok SKU gets from an eCommerce variant, and why.

Each function returns the value and a short description of the rule that produced it, so the
plan (``bridge plan``) and the journal can say where every number came from.
"""

from __future__ import annotations

import math
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Any

from bridge.models import Money
from bridge.sync.options import InventoryRules, Pricing

CENT = Decimal("0.01")


def _round(amount: Decimal, rounding: str | None) -> Decimal:
    if rounding is None:
        return amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if rounding == "1":
        return amount.quantize(Decimal(1), rounding=ROUND_HALF_UP)
    cents = Decimal(rounding[1:]) / 100
    whole = amount.quantize(Decimal(1), rounding=ROUND_CEILING)
    candidate = whole - 1 + cents
    if candidate < amount.quantize(CENT, rounding=ROUND_HALF_UP):
        candidate += 1
    return candidate


def apply_markup(amount: Decimal, rules: Pricing) -> Decimal:
    out = amount
    if rules.markup_percent:
        out = out * (1 + rules.markup_percent / 100)
    out += rules.markup_fixed
    return _round(out, rules.rounding)


def describe_pricing(rules: Pricing) -> str:
    parts = []
    if rules.markup_percent:
        parts.append(f"{rules.markup_percent:+}%")
    if rules.markup_fixed:
        parts.append(f"{rules.markup_fixed:+}")
    if rules.rounding:
        parts.append(f"round to {rules.rounding}")
    return "price " + (", ".join(parts) if parts else "as in the store")


def compute_price(price: Money, compare_at: Money | None, rules: Pricing) -> tuple[Money, Money | None, str]:
    """(selling price, original price or None, rule) of a variant on the channel."""
    selling = Money(amount=apply_markup(price.amount, rules), currency=price.currency)
    original = None
    why = describe_pricing(rules)
    if rules.compare_at_as_original and compare_at is not None and compare_at.amount > price.amount:
        original = Money(amount=apply_markup(compare_at.amount, rules), currency=compare_at.currency)
        why += "; compare-at price as original price"
    return selling, original, why


def override_price(price: Money, compare_at: Money | None, rules: Pricing,
                   override: dict[str, Any] | None, variant_id: str = "") -> tuple[Money, Money | None, str]:
    """(selling price, original price or None, rule) of a variant, with a product's price
    override (:attr:`~bridge.tables.ProductMapping.price`) over the shop's ``rules``: this
    variant's own fixed price (``skus``), else a fixed price for every SKU (no original price),
    else a price rule of its own, else the shop's rule."""
    override = override or {}
    own_price = (override.get("skus") or {}).get(variant_id)
    fixed, who = (own_price, "per-variant") if own_price is not None else (override.get("fixed"), "per-product")
    if fixed is not None:
        amount = Decimal(str(fixed)).quantize(CENT, rounding=ROUND_HALF_UP)
        return Money(amount=amount, currency=price.currency), None, f"{who} price {amount}"
    if not any(k in override for k in ("markup_percent", "markup_fixed", "rounding")):
        return compute_price(price, compare_at, rules)
    own = replace(rules, markup_percent=Decimal(str(override.get("markup_percent") or 0)),
                  markup_fixed=Decimal(str(override.get("markup_fixed") or 0)),
                  rounding=override.get("rounding") or None)
    selling, original, why = compute_price(price, compare_at, own)
    return selling, original, "per-product " + why


def compute_quantity(available: int | None, tracked: bool, rules: InventoryRules) -> tuple[int, str]:
    """(quantity to send, rule) for an eCommerce variant's available stock."""
    if not tracked or available is None:
        return rules.untracked_quantity, f"untracked: configured quantity {rules.untracked_quantity}"
    available = max(0, int(available))
    qty = available
    parts = [f"available {available}"]
    if rules.buffer_units:
        qty -= rules.buffer_units
        parts.append(f"- buffer {rules.buffer_units}")
    if rules.buffer_percent:
        units = math.ceil(available * rules.buffer_percent / 100)
        qty -= units
        parts.append(f"- buffer {rules.buffer_percent}% ({units})")
    qty = max(0, qty)
    if rules.threshold and qty < rules.threshold:
        parts.append(f"under threshold {rules.threshold} -> 0")
        qty = 0
    if rules.cap is not None and qty > rules.cap:
        parts.append(f"capped at {rules.cap}")
        qty = rules.cap
    return qty, " ".join(parts)

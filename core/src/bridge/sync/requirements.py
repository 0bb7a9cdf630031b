"""What a category demands of a listing beyond its attributes — brand, size chart,
certifications — filled from the shop's rules, or the precise item that is missing.

The values come from special keys of a mapping rule's or a product's attributes (``bridge map
rule ... --attr "@size_chart=URL"``, ``bridge map product ID --attr "@brand=Acme"``):

* ``@brand``: a brand name or id; else the shop option ``brands`` (``{"from": "vendor",
  "map": {"Acme Ltd": "Acme"}, "default": null}``) takes the product's vendor (or another facet),
  maps it and looks it up among the brands the channel lets the shop use in the category. No
  brand is sent when none matches and the category does not require one ("no brand", the
  default); a category that requires one holds the product.
* ``@size_chart``: an image URL, or ``template:ID`` for one of the channel's size-chart
  templates; else a product image whose alt text says "size chart" (it is then left out of the
  main images).
* ``@certification:ID`` (or ``@certification:NAME``): the document image URL(s) of a
  certification the category requires (always, or because of a chosen attribute value).

The category's rules come from the channel (``category_rules``, by the shop's market); brands
from ``list_brands``. Both are read once per run and category.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bridge.mapping import matching_rule
from bridge.models import Brand, CategoryRules, Listing, ListingCertification, Product
from bridge.tables import CategoryRule, ProductMapping

SIZE_CHART_WORDS = ("size chart", "size guide", "sizing chart")


@dataclass(frozen=True)
class BrandRules:
    """The shop option ``brands``."""

    source: str = "vendor"
    map: dict[str, str] = field(default_factory=dict)
    default: str | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> BrandRules:
        raw = raw or {}
        return cls(source=str(raw.get("from") or "vendor"),
                   map={str(k).lower(): str(v) for k, v in (raw.get("map") or {}).items()},
                   default=raw.get("default") or None)


def special_values(rules: list[CategoryRule], product: Product, override: ProductMapping | None) -> dict[str, list[str]]:
    """The ``@...`` values that apply to a product: per product first, then its rule's (only
    when the rule's category is the product's)."""
    rule = matching_rule(product, rules)
    out: dict[str, list[str]] = {}
    use_rule = rule is not None and not (override is not None and override.category_id
                                         and override.category_id != rule.category_id)
    for source in ([rule.attributes] if use_rule and rule is not None else []) + (
            [override.attributes] if override is not None else []):
        for k, v in (source or {}).items():
            if str(k).startswith("@"):
                out[str(k).lower()] = [str(x) for x in (v if isinstance(v, list) else [v]) if str(x).strip()]
    return out


def _facet(product: Product, source: str) -> str | None:
    if source == "vendor":
        return product.vendor
    if source == "product_type":
        return product.product_type
    if source.startswith("tag:"):
        key = source[4:].lower()
        return next((t.split(":", 1)[1].strip() for t in product.tags
                     if ":" in t and t.split(":", 1)[0].strip().lower() == key), None)
    return None


@dataclass
class Completed:
    listing: Listing
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def complete(listing: Listing, product: Product, rules: CategoryRules | None, specials: dict[str, list[str]],
             brand_rules: BrandRules, brands: Callable[[str], list[Brand]], category_name: str = "") -> Completed:
    """``listing`` with its brand, size chart and certifications, or what is missing."""
    where = f"category {category_name or listing.category_id}"
    out = Completed(listing)
    update: dict[str, Any] = {}
    _brand(listing, product, rules, specials, brand_rules, brands, where, out, update)
    _size_chart(listing, rules, specials, where, out, update)
    _certifications(listing, rules, specials, where, out, update)
    if update:
        out.listing = listing.model_copy(update=update)
    return out


def _brand(listing: Listing, product: Product, rules: CategoryRules | None, specials: dict[str, list[str]],
           brand_rules: BrandRules, brands: Callable[[str], list[Brand]], where: str, out: Completed,
           update: dict[str, Any]) -> None:
    wanted = next(iter(specials.get("@brand") or []), None)
    if wanted is None:
        raw = _facet(product, brand_rules.source)
        wanted = brand_rules.map.get(raw.lower(), raw) if raw else None
    wanted = wanted or brand_rules.default
    required = rules is not None and rules.brand_required
    if not wanted:
        if required:
            out.missing.append(f"brand (required by {where}): set the product's vendor or `--attr \"@brand=NAME\"`")
        return
    usable = [b for b in brands(listing.category_id) if b.authorized]
    hit = next((b for b in usable if b.id == wanted or b.name.lower() == wanted.lower()), None)
    if hit is not None:
        update["brand_id"] = hit.id
    elif required:
        out.missing.append(f"brand: '{wanted}' is not a TikTok brand this shop may use in {where} "
                           "(see `bridge map brands --category ID`; map it with the shop option brands.map "
                           "or `--attr \"@brand=NAME\"`)")
    else:
        out.warnings.append(f"brand '{wanted}' is not a TikTok brand this shop may use: listed without a brand")


def _size_chart(listing: Listing, rules: CategoryRules | None, specials: dict[str, list[str]], where: str,
                out: Completed, update: dict[str, Any]) -> None:
    chart = next(iter(specials.get("@size_chart") or []), None)
    chart_image = None
    if chart is None:
        chart_image = next((i for i in listing.images
                            if i.alt and any(w in i.alt.lower() for w in SIZE_CHART_WORDS)), None)
        chart = chart_image.url if chart_image else None
    if rules is not None and (rules.size_chart_supported or rules.size_chart_required) and chart:
        if chart.startswith("template:"):
            update["size_chart_template_id"] = chart.split(":", 1)[1]
        else:
            update["size_chart_url"] = chart
        if chart_image is not None:
            update["images"] = [i for i in listing.images if i is not chart_image]
    elif rules is not None and rules.size_chart_required:
        out.missing.append(f"size chart (required by {where}): add an image with alt text \"size chart\" to the "
                           "product in the store, or `--attr \"@size_chart=IMAGE_URL\"` (or template:ID) on its rule")


def _certifications(listing: Listing, rules: CategoryRules | None, specials: dict[str, list[str]], where: str,
                    out: Completed, update: dict[str, Any]) -> None:
    chosen = {(a.id, v) for a in listing.attributes for v in a.value_ids}
    certs = []
    for cert in rules.required_certifications if rules is not None else []:
        needed = cert.required or any(c in chosen for c in cert.conditions)
        urls = specials.get(f"@certification:{cert.id}") or specials.get(f"@certification:{cert.name.lower()}")
        if urls:
            certs.append(ListingCertification(id=cert.id, image_urls=urls))
        elif needed:
            why = "required" if cert.required else "required by a chosen attribute value"
            out.missing.append(f"certification '{cert.name}' ({why} by {where}): `--attr "
                               f"\"@certification:{cert.id}=DOCUMENT_IMAGE_URL\"` on its rule or the product")
    if certs:
        update["certifications"] = certs

"""Category mapping: eCommerce facets -> a TikTok category per shop, and attribute values.

A product's category comes from, in order: its per-product choice (:class:`ProductMapping`),
then the first matching :class:`CategoryRule` (highest ``priority`` first, then the most specific
facet: product type, category or collection, tag, vendor, then ``all``). Facet values compare
case-insensitively.

Attribute values, per attribute of the category (by id or name, case-insensitive): the
per-product values, then the rule's per-category defaults, then the product's data (an option
whose value is the same on every variant, a tag ``Name:Value``, the vendor for a *Brand*
attribute). Sales attributes come from the variant options. A product is listable only when its
category is set and every required attribute has a value; otherwise :attr:`Mapped.missing` says
what to fill.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import col, select

from bridge import db
from bridge.models import CategoryAttribute, ListingAttribute, Product
from bridge.tables import CategoryRule, ProductMapping

FACETS = ("product_type", "category", "tag", "vendor", "all")


@dataclass
class Mapped:
    """Where a product goes on one shop, with what, and what is missing."""

    category_id: str | None
    source: str = ""
    attributes: list[ListingAttribute] = field(default_factory=list)
    sales_attribute_names: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    excluded: bool = False

    @property
    def listable(self) -> bool:
        return bool(self.category_id) and not self.missing and not self.excluded


def facet_values(product: Product, facet: str) -> list[str]:
    if facet == "product_type":
        return [product.product_type] if product.product_type else []
    if facet == "category":
        return list(product.categories)
    if facet == "tag":
        return list(product.tags)
    if facet == "vendor":
        return [product.vendor] if product.vendor else []
    return ["*"]


def load_rules(channel_store_id: int) -> list[CategoryRule]:
    with db.session() as s:
        rules = list(s.exec(select(CategoryRule).where(CategoryRule.channel_store_id == channel_store_id)))
    return sorted(rules, key=lambda r: (-r.priority, FACETS.index(r.facet) if r.facet in FACETS else 9, r.id or 0))


_drafts: ContextVar[dict[int, dict[str, dict[str, Any]]] | None] = ContextVar("bridge_override_drafts",
                                                                              default=None)


@contextmanager
def drafted(channel_store_id: int, drafts: dict[str, dict[str, Any]]) -> Iterator[None]:
    """Within the block (this thread only), :func:`load_overrides` returns ``drafts`` (product
    id -> ProductMapping field values) over the saved overrides of the shop: a plan shows the
    effect of overrides not saved yet (the bulk editor's preview). Only a plan is run within."""
    token = _drafts.set({channel_store_id: drafts})
    try:
        yield
    finally:
        _drafts.reset(token)


def load_overrides(channel_store_id: int, product_ids: Iterable[str]) -> dict[str, ProductMapping]:
    """The per-product overrides of these products on the shop (one query)."""
    ids = list(product_ids)
    if not ids:
        return {}
    with db.session() as s:
        rows = s.exec(select(ProductMapping).where(
            ProductMapping.channel_store_id == channel_store_id,
            col(ProductMapping.source_product_id).in_(ids)))
        out = {r.source_product_id: r for r in rows}
    drafts = (_drafts.get() or {}).get(channel_store_id) or {}
    for pid in set(ids) & set(drafts):
        base = out.get(pid) or ProductMapping(channel_store_id=channel_store_id, source_product_id=pid)
        out[pid] = ProductMapping(**{**base.model_dump(), **drafts[pid]})
    return out


def matching_rule(product: Product, rules: list[CategoryRule]) -> CategoryRule | None:
    for rule in rules:
        values = {v.lower() for v in facet_values(product, rule.facet)}
        if rule.facet == "all" or rule.value.lower() in values:
            return rule
    return None


def _lookup(values: dict[str, Any], attr: CategoryAttribute) -> Any:
    for k, v in values.items():
        if k == attr.id or k.lower() == attr.name.lower():
            return v
    return None


def _from_product(product: Product, attr: CategoryAttribute) -> Any:
    name = attr.name.lower()
    for opt in product.options:
        if opt.lower() == name:
            seen = {v.options.get(opt) for v in product.variants}
            if len(seen) == 1 and None not in seen:
                return seen.pop()
    for tag in product.tags:
        if ":" in tag and tag.split(":", 1)[0].strip().lower() == name:
            return tag.split(":", 1)[1].strip()
    if name == "brand" and product.vendor:
        return product.vendor
    return None


def attribute_value(attr: CategoryAttribute, raw: Any) -> tuple[ListingAttribute | None, str | None]:
    """A listing attribute for ``raw`` (a value, a list, ids or names), or why it cannot be."""
    wanted = [str(v) for v in (raw if isinstance(raw, list) else [raw]) if str(v).strip()]
    if not wanted:
        return None, None
    ids: list[str] = []
    custom: list[str] = []
    for w in wanted:
        hit = next((v for v in attr.values if v.id == w or v.name.lower() == w.lower()), None)
        if hit:
            ids.append(hit.id)
        elif attr.custom_values_allowed or not attr.values:
            custom.append(w)
        else:
            allowed = ", ".join(v.name for v in attr.values[:8])
            return None, f"attribute {attr.name}: '{w}' is not allowed (choose one of {allowed})"
    return ListingAttribute(id=attr.id, name=attr.name, value_ids=ids, values=custom), None


class Mapper:
    """Resolves products to categories and attributes for one channel store (caches per run)."""

    def __init__(self, channel_store_id: int, attributes_of: Callable[[str], list[CategoryAttribute]]):
        self.channel_store_id = channel_store_id
        self._rules: list[CategoryRule] | None = None
        self._attributes_of = attributes_of
        self._attrs: dict[str, list[CategoryAttribute]] = {}

    @property
    def rules(self) -> list[CategoryRule]:
        """The shop's category rules, read when first needed (a run that finds no product
        to map reads none)."""
        if self._rules is None:
            self._rules = load_rules(self.channel_store_id)
        return self._rules

    @rules.setter
    def rules(self, rules: list[CategoryRule]) -> None:
        self._rules = rules

    def attributes(self, category_id: str) -> list[CategoryAttribute]:
        if category_id not in self._attrs:
            self._attrs[category_id] = self._attributes_of(category_id)
        return self._attrs[category_id]

    def resolve(self, product: Product, override: ProductMapping | None) -> Mapped:
        if override is not None and override.excluded:
            return Mapped(None, "excluded per product", excluded=True, missing=["excluded by `bridge map product`"])
        rule = matching_rule(product, self.rules)
        defaults: dict[str, Any] = dict(rule.attributes) if rule else {}
        per_product: dict[str, Any] = dict(override.attributes) if override else {}
        if override is not None and override.category_id:
            category_id, source = override.category_id, "per-product choice"
            if rule is None or rule.category_id != category_id:
                defaults = {}
        elif rule is not None:
            category_id, source = rule.category_id, f"rule {rule.facet}={rule.value}"
        else:
            return Mapped(None, "", missing=["category: no rule matches (set one with `bridge map rule`)"])
        out = Mapped(category_id, source)
        for attr in self.attributes(category_id):
            if attr.sales:
                out.sales_attribute_names.append(attr.name)
                continue
            raw = _lookup(per_product, attr)
            if raw is None:
                raw = _lookup(defaults, attr)
            if raw is None:
                raw = _from_product(product, attr)
            value, problem = attribute_value(attr, raw) if raw is not None else (None, None)
            if problem:
                out.missing.append(problem)
            elif value is not None:
                out.attributes.append(value)
            elif attr.required:
                out.missing.append(f"attribute {attr.name} (required): set it with "
                                   f"`bridge map rule ... --attr \"{attr.name}=VALUE\"` or `bridge map product`")
        return out


def set_rule(channel_store_id: int, facet: str, value: str, category_id: str, name: str,
             attributes: dict[str, Any], priority: int) -> None:
    """Create or change the shop's rule mapping ``facet`` = ``value`` to ``category_id``
    (attribute defaults are merged into the rule's)."""
    with db.session() as s:
        row = s.exec(select(CategoryRule).where(CategoryRule.channel_store_id == channel_store_id,
                                                CategoryRule.facet == facet, CategoryRule.value == value)).first()
        row = row or CategoryRule(channel_store_id=channel_store_id, facet=facet, value=value,
                                  category_id=category_id)
        row.category_id, row.category_name, row.priority = category_id, name, priority
        row.attributes = {**(row.attributes or {}), **attributes}
        s.add(row)

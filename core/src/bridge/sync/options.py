"""Per-shop flow options, read from ``Store.options`` of a TikTok shop, with their defaults.

``Store.options`` is a JSON object; every key is optional::

    {
      "pricing":   {"markup_percent": 0, "markup_fixed": "0", "rounding": null,
                    "compare_at_as_original": true},
      "inventory": {"buffer_units": 0, "buffer_percent": 0, "threshold": 0, "cap": null,
                    "untracked_quantity": 100},
      "templates": {"title": null, "description": null},
      "package":   {"weight_g": 500, "length_cm": 20, "width_cm": 15, "height_cm": 5},
      "products":  {"daily_limit": null, "concurrency": 8, "take_over_content": false,
                    "recreate_deleted": false, "preflight": true},
      "brands":    {"from": "vendor", "map": {}, "default": null},
      "orders":    {"create_platform_fulfilled": false},
      "refunds":   {"restock": "returned"},
      "flows":     {"orders": {"enabled": true, "interval": 60}, ...}
    }

* ``pricing.markup_percent`` (e.g. ``10`` for +10 %) is applied first, then ``markup_fixed``
  (an amount in the shop's currency), then ``rounding``: ``".99"`` (or any ``".NN"``) sets the
  cents to NN below the next whole unit, ``"1"`` rounds to a whole unit, null keeps the cents.
  ``compare_at_as_original``: a variant's compare-at price (after the same markup) becomes the
  TikTok original price while the selling price is the discounted one.
* ``inventory``: the quantity sent is ``available - buffer_units - ceil(available *
  buffer_percent / 100)``, zero when that is below ``threshold``, at most ``cap`` when set; a
  variant whose stock is not tracked gets ``untracked_quantity``.
* ``templates``: Jinja2 templates (sandboxed) of the title and the description; they see
  ``product`` (the eCommerce product) and ``shop``; null passes the product's own through.
* ``package``: the package weight and dimensions used when the product has none.
* ``products.daily_limit``: the most new products created per UTC day on this shop (TikTok
  limits new sellers); the rest wait for the next day and are reported as such.
  ``products.concurrency``: products of a page written at the same time (the channel plugin's
  per-API rate limits still pace the requests); 1 writes one after the other.
* ``products.take_over_content``: a store product linked to a product already on the shop (same
  seller SKUs) keeps the shop's title, description, images and attributes (default); true makes
  bridge send its own at once. Price and stock follow the store either way.
  ``products.recreate_deleted``: a listing deleted on the shop (in Seller Center) is listed again
  (default: held until ``bridge products relist``). ``products.preflight``: ask the channel to
  check a new listing before creating it (``check_listing``); one request more per new product.
* ``brands``: the product facet (``vendor``, ``product_type`` or ``tag:NAME``) that names a
  product's brand, a ``map`` of facet values to channel brand names or ids, and the ``default``
  (null: no brand, where the category allows); see :mod:`bridge.sync.requirements`.
* ``orders.create_platform_fulfilled``: also create orders TikTok fulfils itself (stock is then
  deducted by the eCommerce order); by default they are only recorded.
* ``refunds.restock``: when a TikTok refund puts units back into the store's stock: ``returned``
  (default: a return once the item came back to the seller, and units cancelled before
  shipment), ``always``, ``never`` (read by the refunds flow).
* ``flows.<flow>``: ``enabled`` and ``interval`` (seconds) per flow (read by the scheduler).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from bridge.errors import Misconfigured


@dataclass(frozen=True)
class Pricing:
    markup_percent: Decimal = Decimal(0)
    markup_fixed: Decimal = Decimal(0)
    rounding: str | None = None
    compare_at_as_original: bool = True


@dataclass(frozen=True)
class InventoryRules:
    buffer_units: int = 0
    buffer_percent: Decimal = Decimal(0)
    threshold: int = 0
    cap: int | None = None
    untracked_quantity: int = 100


@dataclass(frozen=True)
class Package:
    weight_g: Decimal = Decimal(500)
    length_cm: Decimal = Decimal(20)
    width_cm: Decimal = Decimal(15)
    height_cm: Decimal = Decimal(5)


@dataclass(frozen=True)
class ShopOptions:
    pricing: Pricing = field(default_factory=Pricing)
    inventory: InventoryRules = field(default_factory=InventoryRules)
    title_template: str | None = None
    description_template: str | None = None
    package: Package = field(default_factory=Package)
    daily_limit: int | None = None
    concurrency: int = 8
    create_platform_fulfilled: bool = False
    take_over_content: bool = False
    recreate_deleted: bool = False
    preflight: bool = True
    brands: dict[str, Any] = field(default_factory=dict)

    def fingerprint(self) -> str:
        """A short hash of everything that changes what a listing looks like."""
        data = {"pricing": asdict(self.pricing), "title": self.title_template,
                "description": self.description_template, "package": asdict(self.package),
                "brands": self.brands}
        return hashlib.sha256(json.dumps(data, default=str, sort_keys=True).encode()).hexdigest()[:16]


def _dec(section: str, name: str, value: Any) -> Decimal:
    try:
        return Decimal(str(value))
    except Exception:
        raise Misconfigured(f"shop option {section}.{name} must be a number, got {value!r}") from None


def _int(section: str, name: str, value: Any, *, allow_none: bool = False) -> Any:
    if value is None and allow_none:
        return None
    try:
        out = int(value)
    except (TypeError, ValueError):
        raise Misconfigured(f"shop option {section}.{name} must be a whole number, got {value!r}") from None
    if out < 0:
        raise Misconfigured(f"shop option {section}.{name} must not be negative, got {out}")
    return out


def shop_options(raw: dict[str, Any] | None) -> ShopOptions:
    """Parse a shop's ``Store.options``; a bad value raises :class:`Misconfigured` naming it."""
    raw = raw or {}
    p = raw.get("pricing") or {}
    rounding = p.get("rounding")
    if rounding is not None:
        rounding = str(rounding)
        if rounding != "1" and not (rounding.startswith(".") and rounding[1:].isdigit()
                                    and len(rounding) == 3):
            raise Misconfigured(f"shop option pricing.rounding must be like \".99\" or \"1\", got {rounding!r}")
    pricing = Pricing(
        markup_percent=_dec("pricing", "markup_percent", p.get("markup_percent", 0)),
        markup_fixed=_dec("pricing", "markup_fixed", p.get("markup_fixed", 0)),
        rounding=rounding,
        compare_at_as_original=bool(p.get("compare_at_as_original", True)),
    )
    i = raw.get("inventory") or {}
    inv = InventoryRules(
        buffer_units=_int("inventory", "buffer_units", i.get("buffer_units", 0)),
        buffer_percent=_dec("inventory", "buffer_percent", i.get("buffer_percent", 0)),
        threshold=_int("inventory", "threshold", i.get("threshold", 0)),
        cap=_int("inventory", "cap", i.get("cap"), allow_none=True),
        untracked_quantity=_int("inventory", "untracked_quantity", i.get("untracked_quantity", 100)),
    )
    t = raw.get("templates") or {}
    pk = raw.get("package") or {}
    d = Package()
    package = Package(
        weight_g=_dec("package", "weight_g", pk.get("weight_g", d.weight_g)),
        length_cm=_dec("package", "length_cm", pk.get("length_cm", d.length_cm)),
        width_cm=_dec("package", "width_cm", pk.get("width_cm", d.width_cm)),
        height_cm=_dec("package", "height_cm", pk.get("height_cm", d.height_cm)),
    )
    return ShopOptions(
        pricing=pricing, inventory=inv, title_template=t.get("title") or None,
        description_template=t.get("description") or None, package=package,
        daily_limit=_int("products", "daily_limit", (raw.get("products") or {}).get("daily_limit"),
                         allow_none=True),
        concurrency=max(1, _int("products", "concurrency", (raw.get("products") or {}).get("concurrency", 8))),
        create_platform_fulfilled=bool((raw.get("orders") or {}).get("create_platform_fulfilled", False)),
        take_over_content=bool((raw.get("products") or {}).get("take_over_content", False)),
        recreate_deleted=bool((raw.get("products") or {}).get("recreate_deleted", False)),
        preflight=bool((raw.get("products") or {}).get("preflight", True)),
        brands=_brands(raw.get("brands")),
    )


def _brands(raw: Any) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not isinstance(raw.get("map", {}), dict):
        raise Misconfigured("shop option brands must be like {\"from\": \"vendor\", \"map\": {\"Acme Ltd\": "
                            "\"Acme\"}, \"default\": null}")
    source = str(raw.get("from") or "vendor")
    if source not in ("vendor", "product_type") and not source.startswith("tag:"):
        raise Misconfigured(f"shop option brands.from must be vendor, product_type or tag:NAME, got {source!r}")
    return dict(raw)

"""Building the :class:`~bridge.models.Listing` a product becomes on a TikTok shop.

* Title and description through Jinja2 templates rendered in a sandbox with output, loop and
  time limits (:mod:`bridge.templating`; per shop; default: the product's own), see
  :func:`render` and :func:`preview`.
* Description HTML reduced to the tags TikTok accepts (p, br, strong/b, em/i, u, ul/ol/li,
  h1-h4, img with src) and to its length limit, cut at an element boundary (with a warning).
* A product's overrides (:class:`~bridge.tables.ProductMapping`: title, description, price,
  images) win over the shop's templates and price rule, here and nowhere else.
* Prices through the shop's price rules; package weight/dimensions from the product, else the
  shop's default package; variants -> SKUs with sales attributes. TikTok's limits (SKUs per
  product, sales attributes per product, title length) are checked: a product over a limit is
  held with the reason, never truncated silently.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any

from jinja2 import TemplateError

from bridge import templating
from bridge.errors import Misconfigured
from bridge.mapping import Mapped
from bridge.models import Dimensions, Image, Listing, ListingSku, Product
from bridge.sync.options import ShopOptions
from bridge.sync.pricing import compute_quantity, override_price
from bridge.tables import ProductMapping

MAX_SKUS = 100
MAX_SALES_ATTRIBUTES = 3
MAX_TITLE = 255
MAX_DESCRIPTION = 10000
ALLOWED_TAGS = {"p", "br", "strong", "b", "em", "i", "u", "ul", "ol", "li", "h1", "h2", "h3", "h4", "img"}
VOID_TAGS = {"br", "img"}
DROP_CONTENT = {"script", "style", "iframe", "object", "embed", "noscript", "template", "svg"}

class ListingProblem(Exception):
    """The product cannot be listed as it is; ``reasons`` say what to fix."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = reasons


@dataclass
class Built:
    listing: Listing
    notes: list[dict[str, Any]] = field(default_factory=list)
    """Per SKU: seller SKU, price, original price, quantity and the rules behind them."""
    warnings: list[str] = field(default_factory=list)
    overridden: list[str] = field(default_factory=list)
    """The product's overrides that made this listing (title, description, price, images)."""


# ------------------------------------------------------------------------------ HTML


class _Reducer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.drop = 0
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DROP_CONTENT:
            self.drop += 1
            return
        if self.drop or tag not in ALLOWED_TAGS:
            return
        tag = {"b": "strong", "i": "em"}.get(tag, tag)
        if tag == "img":
            src = dict(attrs).get("src") or ""
            if src.startswith(("http://", "https://")):
                self.parts.append(f'<img src="{escape(src, quote=True)}">')
            return
        if tag == "br":
            self.parts.append("<br>")
            return
        self.open.append(tag)
        self.parts.append(f"<{tag}>")

    def handle_endtag(self, tag: str) -> None:
        if tag in DROP_CONTENT:
            self.drop = max(0, self.drop - 1)
            return
        tag = {"b": "strong", "i": "em"}.get(tag, tag)
        if self.drop or tag not in ALLOWED_TAGS or tag in VOID_TAGS or tag not in self.open:
            return
        while self.open:
            t = self.open.pop()
            self.parts.append(f"</{t}>")
            if t == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.drop:
            self.parts.append(escape(data, quote=False))

    def result(self) -> str:
        while self.open:
            self.parts.append(f"</{self.open.pop()}>")
        return "".join(self.parts).strip()


def reduce_html(html: str, limit: int = MAX_DESCRIPTION) -> tuple[str, list[str]]:
    """HTML reduced to TikTok's tags and cut to ``limit`` characters; (html, warnings)."""
    parser = _Reducer()
    parser.feed(html or "")
    parser.close()
    out = parser.result()
    warnings = []
    if not out.strip():
        out = "<p></p>"
    elif not out.startswith("<"):
        out = f"<p>{out}</p>"
    if len(out) > limit:
        cut = max(out.rfind("</p>", 0, limit - 4), out.rfind("</li>", 0, limit - 5))
        head = out[:cut + (4 if out.startswith("</p>", cut) else 5)] if cut > 0 else ""
        reducer = _Reducer()
        reducer.feed(head or out[:limit - 64])
        out = reducer.result()[:limit]
        warnings.append(f"description cut to {len(out)} characters (TikTok takes at most {limit})")
    return out, warnings


# ------------------------------------------------------------------------------ templates


def render(template: str | None, default: str, product: Product, shop: dict[str, Any]) -> str:
    """Render a per-shop template in the sandbox; None renders ``default`` unchanged."""
    if not template:
        return default
    try:
        return templating.render(template, product=product.model_dump(mode="json"), shop=shop).strip()
    except TemplateError as exc:
        raise Misconfigured(f"shop template cannot be rendered: {exc}: fix it in the shop options") from None


def preview(options: ShopOptions, product: Product, shop: dict[str, Any]) -> dict[str, str]:
    """Title and description a product gets on a shop (``bridge map preview``)."""
    title = render(options.title_template, product.title, product, shop)
    desc, _ = reduce_html(render(options.description_template, product.description_html, product, shop))
    return {"title": title, "description": desc}


# ------------------------------------------------------------------------------ building


def content_hash(listing: Listing) -> str:
    """A hash of what a listing says, without quantities (the inventory flow owns those)."""
    data = listing.model_dump(mode="json", exclude={"remote_product_id"})
    for sku in data["skus"]:
        sku.pop("quantity", None)
        sku.pop("remote_sku_id", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def chosen_images(images: list[Image], chosen: list[str] | None) -> tuple[list[Image], list[str]]:
    """The product's images in its order, or those of ``chosen`` (URLs, a product's images
    override) in that order; (images, warnings). A chosen image the product no longer has is left
    out with a warning; when none is left, the product's own images are sent."""
    own = sorted(images, key=lambda i: i.position)
    if not chosen:
        return own, []
    by_url = {i.url: i for i in own}
    kept = [by_url[u] for u in dict.fromkeys(chosen) if u in by_url]
    gone = [u for u in chosen if u not in by_url]
    warnings = [f"chosen image {u} is no longer on the product: left out" for u in gone]
    if not kept:
        return own, [*warnings, "none of the chosen images is on the product: its own images are sent"]
    return [i.model_copy(update={"position": n}) for n, i in enumerate(kept)], warnings


def build_listing(product: Product, mapped: Mapped, options: ShopOptions, shop: dict[str, Any],
                  remote_sku_ids: dict[str, str] | None = None,
                  override: ProductMapping | None = None) -> Built:
    """The listing of ``product`` on a shop; ``override`` (the product's overrides on the shop)
    wins over the shop's templates and price rule. :raises ListingProblem: it cannot be listed."""
    reasons: list[str] = []
    warnings: list[str] = []
    variants = [v for v in product.variants]
    if len(variants) > MAX_SKUS:
        reasons.append(f"{len(variants)} variants: TikTok Shop takes at most {MAX_SKUS} SKUs per "
                       "product; split the product in the store")
    option_names = [o for o in product.options if any(o in v.options for v in variants)]
    if len(variants) > 1 and len(option_names) > MAX_SALES_ATTRIBUTES:
        reasons.append(f"{len(option_names)} options ({', '.join(option_names)}): TikTok Shop takes at "
                       f"most {MAX_SALES_ATTRIBUTES} sales attributes")
    missing_sku = [v.title or v.remote_id for v in variants if not v.sku]
    if missing_sku:
        reasons.append(f"variant(s) {', '.join(missing_sku[:5])} have no SKU: set one in the store")
    counts = Counter(v.sku for v in variants if v.sku)
    dupes = {sku for sku, n in counts.items() if n > 1}
    if dupes:
        reasons.append(f"SKU(s) {', '.join(sorted(dupes))} repeat within the product: make them unique")
    overridden = [f for f in ("title", "description_html", "price", "images")
                  if override is not None and getattr(override, f)]
    title = (override.title or "").strip() if "title" in overridden and override is not None \
        else render(options.title_template, product.title, product, shop)
    if len(title) > MAX_TITLE:
        reasons.append(f"title has {len(title)} characters: TikTok Shop takes at most {MAX_TITLE}")
    if not title:
        reasons.append("title is empty")
    if reasons:
        raise ListingProblem(reasons)
    description, warns = reduce_html(
        (override.description_html or "") if "description_html" in overridden and override is not None
        else render(options.description_template, product.description_html, product, shop))
    warnings += warns
    images, warns = chosen_images(product.images, override.images if override is not None else None)
    warnings += warns
    price_override = override.price if override is not None else None
    remote_sku_ids = remote_sku_ids or {}
    skus = []
    notes = []
    for v in variants:
        price, original, price_rule = override_price(v.price, v.compare_at_price, options.pricing,
                                                     price_override, v.remote_id)
        qty, qty_rule = compute_quantity(v.quantity, v.inventory_tracked, options.inventory)
        sales = {k: val for k, val in v.options.items() if k in option_names} if len(variants) > 1 else {}
        skus.append(ListingSku(source_variant_id=v.remote_id, seller_sku=v.sku or "", price=price,
                               original_price=original, quantity=qty, sales_attributes=sales,
                               image_url=v.image_url, remote_sku_id=remote_sku_ids.get(v.remote_id)))
        notes.append({"sku": v.sku, "price": str(price.amount), "price_rule": price_rule,
                      "original_price": str(original.amount) if original else None,
                      "quantity": qty, "quantity_rule": qty_rule})
    weight = product.weight_g or next((v.weight_g for v in variants if v.weight_g), None)
    dims = product.dimensions or next((v.dimensions for v in variants if v.dimensions), None)
    if weight is None:
        weight = options.package.weight_g
        warnings.append(f"package weight: shop default {weight} g")
    if dims is None:
        p = options.package
        dims = Dimensions(length_cm=p.length_cm, width_cm=p.width_cm, height_cm=p.height_cm)
    listing = Listing(
        source_product_id=product.remote_id, title=title, description_html=description,
        category_id=mapped.category_id or "", attributes=mapped.attributes,
        images=images, package_weight_g=weight, package_dimensions=dims, skus=skus,
    )
    return Built(listing, notes, warnings, [f.removesuffix("_html") for f in overridden])

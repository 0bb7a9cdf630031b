"""Categories, brands, listings and inventory on a TikTok shop."""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from bridge.errors import Rejected
from bridge.models import (
    Brand,
    Category,
    CategoryAttribute,
    CategoryRules,
    ExistingListing,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    Listing,
    ListingIndexPage,
    ListingResult,
)
from bridge_tiktokshop import errormap, images, mapping, shop
from bridge_tiktokshop.client import TikTokClient
from bridge_tiktokshop.markets import title_limits

CATEGORY_TTL = 86400.0
ATTRIBUTES_TTL = 3600.0
BRANDS_TTL = 3600.0
#: What is kept of a brand (what :func:`bridge_tiktokshop.mapping.brand` reads).
BRAND_FIELDS = ("id", "name", "authorized_status", "brand_status", "is_t1_brand")
ABSENT_TTL = 300.0
"""How long a seller SKU that Search Products did not find counts as absent for a create."""
_ABSENT_MAX = 200_000
_absent: OrderedDict[tuple[str, str], float] = OrderedDict()
"""(shop, seller SKU) -> when a search found it missing; oldest first (a refresh moves it last)."""
_absent_lock = threading.Lock()


class SkuFilter:
    """Seller SKUs that may be on a shop, in a fixed 256 KiB whatever their number (a Bloom
    filter): :meth:`may_hold` is True for every SKU added and, rarely, for one that was not
    (1 in 1,000 at 100,000 SKUs), which costs that create one search, never a duplicate. A set
    of the SKUs themselves grew with the catalog: 94,000 SKUs created within a scan's
    :data:`ABSENT_TTL` held about 13 MB."""

    BITS = 1 << 21
    HASHES = 4

    def __init__(self) -> None:
        self.bits = bytearray(self.BITS // 8)

    def _positions(self, sku: str) -> list[int]:
        h = int.from_bytes(hashlib.blake2b(sku.encode(), digest_size=4 * self.HASHES).digest(), "little")
        return [(h >> (32 * i)) & (self.BITS - 1) for i in range(self.HASHES)]

    def add(self, skus: Iterable[str]) -> None:
        for sku in skus:
            for pos in self._positions(sku):
                self.bits[pos >> 3] |= 1 << (pos & 7)

    def may_hold(self, sku: str) -> bool:
        return all(self.bits[pos >> 3] & (1 << (pos & 7)) for pos in self._positions(sku))


_scanned: dict[str, tuple[float, SkuFilter]] = {}
"""Per shop: when a complete scan ended and the seller SKUs it found (plus those created since);
dropped once older than :data:`ABSENT_TTL`."""
P = "/product/202309"
MAX_DESCRIPTION = 10000
_DROP_TAGS = re.compile(r"<(script|style|iframe|object|embed|form)\b.*?</\1\s*>", re.I | re.S)
_IMG = re.compile(r"<img\b[^>]*>", re.I)
_TIKTOK_IMG = re.compile(r"src=[\"']https://[^\"']*(tiktokcdn|ibyteimg|tiktokshop)[^\"']*[\"']", re.I)


def category_version(client: TikTokClient) -> str:
    return str(client.connection.setting("category_version", "v2"))


def list_categories(client: TikTokClient) -> list[Category]:
    """The category tree, cached in the store state and refreshed daily."""
    version = category_version(client)
    return mapping.categories(client.cached(f"categories:{version}", CATEGORY_TTL, lambda: client.call(
        "GET", f"{P}/categories", query={"category_version": version}).get("categories") or []))


def attributes(client: TikTokClient, category_id: str) -> list[CategoryAttribute]:
    """A category's attributes, cached in the store state for an hour (every create needs them)."""
    version = category_version(client)
    items = client.cached(f"attributes:{version}:{category_id}", ATTRIBUTES_TTL, lambda: client.call(
        "GET", f"{P}/categories/{category_id}/attributes",
        query={"category_version": version}).get("attributes") or [])
    return [mapping.attribute(a) for a in items]


def rules(client: TikTokClient, category_id: str) -> CategoryRules:
    """A category's rules in the shop's market, cached in the store state for an hour."""
    version = category_version(client)
    data = client.cached(f"rules:{version}:{category_id}", ATTRIBUTES_TTL, lambda: [client.call(
        "GET", f"{P}/categories/{category_id}/rules", query={"category_version": version})])
    return mapping.rules(category_id, data[0], client.connection.setting("region"))


def recommend(client: TikTokClient, title: str, description: str) -> Category | None:
    body = {"product_title": title, "description": description,
            "category_version": category_version(client)}
    try:
        data = client.call("POST", f"{P}/categories/recommend", body=body)
    except Rejected as exc:
        if exc.code and int(exc.code) in errormap.NO_RECOMMENDATION:
            return None
        raise
    chain = data.get("categories") or []
    leaf = next((c for c in chain if str(c["id"]) == str(data.get("leaf_category_id"))), None)
    if not leaf:
        return None
    path = [c.get("name", "") for c in chain]
    parent = chain[-2]["id"] if len(chain) > 1 else None
    perms = set(leaf.get("permission_statuses") or [])
    return Category(id=str(leaf["id"]), name=leaf.get("name", ""), parent_id=str(parent) if parent else None,
                    is_leaf=True, path=path, permission_required=bool(perms - {"AVAILABLE"}))


def brands(client: TikTokClient, category_id: str | None) -> list[Brand]:
    """The brands the shop may name in a category (or all), cached in the store state for
    :data:`BRANDS_TTL` (every page task of a shop's initial sync asked for them: 5 times a
    shop); a brand authorized in Seller Center counts within that time."""
    version = category_version(client)
    query: dict[str, Any] = {"page_size": 100, "category_version": version}
    if category_id:
        query["category_id"] = category_id

    def fetch() -> list[Any]:
        return [{k: b[k] for k in BRAND_FIELDS if k in b}
                for items, _ in client.pages("GET", f"{P}/brands", query=query, key="brands") for b in items]

    return [mapping.brand(b) for b in client.cached(f"brands:{version}:{category_id or ''}", BRANDS_TTL, fetch)]


# --------------------------------------------------------------------------- listings


def _remember(client: TikTokClient, *, absent: Sequence[str] = (), present: Sequence[str] = ()) -> None:
    """Remember (this process, :data:`ABSENT_TTL`) which SKUs a search just found missing, and
    forget those that exist (or are about to)."""
    shop_key = client.connection.store_key
    now = time.monotonic()
    with _absent_lock:
        scan = _fresh_scan(shop_key, now)
        if scan is not None:
            scan[1].add(present)
        for sku in present:
            _absent.pop((shop_key, sku), None)
        for sku in absent:
            _absent.pop((shop_key, sku), None)
            _absent[(shop_key, sku)] = now
        oldest = now - ABSENT_TTL  # expired entries go first (the oldest are at the front)
        while _absent and (len(_absent) > _ABSENT_MAX or next(iter(_absent.values())) < oldest):
            _absent.popitem(last=False)


def _fresh_scan(shop_key: str, now: float) -> tuple[float, SkuFilter] | None:
    """The shop's scan while it counts (:data:`ABSENT_TTL`); an older one is dropped (with
    ``_absent_lock`` held)."""
    scan = _scanned.get(shop_key)
    if scan is not None and scan[0] < now - ABSENT_TTL:
        del _scanned[shop_key]
        return None
    return scan


def _known_absent(client: TikTokClient, seller_skus: list[str]) -> bool:
    """Whether a search of this process found every one of these SKUs missing moments ago."""
    shop_key = client.connection.store_key
    now = time.monotonic()
    oldest = now - ABSENT_TTL
    with _absent_lock:
        scan = _fresh_scan(shop_key, now)
        return all(_absent.get((shop_key, s), oldest - 1) >= oldest
                   or (scan is not None and not scan[1].may_hold(s)) for s in seller_skus)


def scan(client: TikTokClient) -> Iterator[ListingIndexPage]:
    """Every product of the shop, 100 a page (Search Products without a filter), as SKU
    entries; a scan read to its end lets :func:`create` skip its duplicate search for SKUs the
    scan did not find (for :data:`ABSENT_TTL`)."""
    found = SkuFilter()
    token: str | None = None
    while True:
        query: dict[str, Any] = {"page_size": 100}
        if token:
            query["page_token"] = token
        data = client.call("POST", f"{P}/products/search", query=query, body={"status": "ALL"})
        token = data.get("next_page_token") or None
        entries = [e for p in data.get("products") or [] if p.get("status") != "DELETED"
                   for e in mapping.existing(p, None)]
        found.add(e.seller_sku for e in entries)
        total = data.get("total_count")
        if not token:  # complete before the last page is handed over (the caller may stop there)
            with _absent_lock:
                _scanned[client.connection.store_key] = (time.monotonic(), found)
        yield ListingIndexPage(listings=entries, total=int(total) if total is not None else None)
        if not token:
            return


def find(client: TikTokClient, seller_skus: list[str]) -> list[ExistingListing]:
    """Products holding these seller SKUs (search takes at most 10 per call), in input order."""
    found: dict[str, ExistingListing] = {}
    unique = list(OrderedDict.fromkeys(seller_skus))
    for i in range(0, len(unique), 10):
        chunk = unique[i:i + 10]
        body = {"seller_skus": chunk, "status": "ALL"}
        for products, _ in client.pages("POST", f"{P}/products/search", query={"page_size": 100},
                                        body=body, key="products"):
            for p in products:
                if p.get("status") == "DELETED":
                    continue
                for e in mapping.existing(p, set(chunk)):
                    found.setdefault(e.seller_sku, e)
    _remember(client, absent=[s for s in unique if s not in found], present=list(found))
    return [found[s] for s in unique if s in found]


def description_html(html: str) -> str:
    """The description within TikTok's rules: no scripts or frames, only TikTok-hosted images."""
    text = _DROP_TAGS.sub("", html or "")
    text = _IMG.sub(lambda m: m.group(0) if _TIKTOK_IMG.search(m.group(0)) else "", text).strip()
    return text or "<p></p>"


def _validate(client: TikTokClient, listing: Listing) -> None:
    region = client.connection.setting("region")
    low, high = title_limits(region)
    if not low <= len(listing.title) <= high:
        raise Rejected(f"title of '{listing.source_product_id}' has {len(listing.title)} characters: "
                       f"TikTok Shop ({region}) needs {low}-{high}", code="TITLE_LENGTH",
                       item=listing.source_product_id)
    if not listing.images:
        raise Rejected(f"'{listing.source_product_id}' has no image: TikTok Shop needs at least one "
                       "main image; add one in the store", code="IMAGE_REQUIRED", item=listing.source_product_id)
    for s in listing.skus:
        if not s.seller_sku or " " in s.seller_sku or len(s.seller_sku) > 50:
            raise Rejected(f"seller SKU '{s.seller_sku}' is not valid on TikTok Shop (1-50 characters, "
                           "no spaces): fix the SKU in the store", code="SELLER_SKU",
                           item=listing.source_product_id)


_checked = threading.local()
"""Per worker thread: the listing a ``listing_check`` was last sent for, with its shop and the
body and warnings built for it (see :func:`checked_body`)."""


def remember_checked(client: TikTokClient, listing: Listing, body: dict[str, Any], warnings: list[str]) -> None:
    """Keep the body just built for ``listing``'s check, for its create (:func:`create`)."""
    _checked.last = (client.connection.store_key, listing, body, list(warnings))


def checked_body(client: TikTokClient, listing: Listing) -> tuple[dict[str, Any], list[str]] | None:
    """The body and warnings the check of this very listing object built in this thread for
    this shop (taken: once), else None. The core checks and creates one object one after the
    other (:meth:`bridge.sync.products.apply.ProductsApplier._create`): its create then sends
    what was checked instead of building it (images, description, attributes) a second time."""
    last = getattr(_checked, "last", None)
    _checked.last = None
    if last is None or last[0] != client.connection.store_key or last[1] is not listing:
        return None
    return last[2], last[3]


class NotUploaded(Exception):
    """A dry run met an image that is not uploaded yet (uploading would be a write)."""


def _payload(client: TikTokClient, listing: Listing, key: str | None, *, upload: bool = True,
             skipped: list[str] | None = None, parts: set[str] | None = None) -> tuple[dict[str, Any], list[str]]:
    """The create/edit body of ``listing``; images uploaded once (``upload=False``: only those
    already uploaded; the others are left out and listed in ``skipped``, or raise
    :class:`NotUploaded` when no list is given). ``parts``: only these parts are sent (a
    partial edit): images of the other parts are not uploaded."""
    _validate(client, listing)
    warnings: list[str] = []
    if len(listing.images) > images.MAX_MAIN_IMAGES:
        warnings.append(f"only the first {images.MAX_MAIN_IMAGES} of {len(listing.images)} images are listed")
    fetched: dict[str, bytes] = {}
    pending: dict[str, Any] = {}  # the images' URL cache entries: one write for the listing

    def wanted(part: str) -> bool:
        return parts is None or part in parts

    ordered = sorted(listing.images, key=lambda i: i.position)[:images.MAX_MAIN_IMAGES]
    # the URL entries of every image put below, read in one go
    known = images.looked_up(client.connection.state, [
        *((img.url, "MAIN_IMAGE") for img in ordered if wanted("images")),
        *((s.image_url, "ATTRIBUTE_IMAGE") for s in (listing.skus if parts is None else []) if s.image_url),
        *([(listing.size_chart_url, "SIZE_CHART_IMAGE")] if listing.size_chart_url and wanted("size_chart") else []),
        *((url, "CERTIFICATION_IMAGE") for c in (listing.certifications if wanted("certifications") else [])
          for url in c.image_urls)]) if upload else None

    def put(url: str, use_case: str = "MAIN_IMAGE") -> str | None:
        if not upload:
            cached = client.connection.state.get(images.url_key(url, use_case))
            if not cached:
                if skipped is None:
                    raise NotUploaded(url)
                skipped.append(url)
                return None
            return str(cached["uri"])
        up, warn = images.upload(client, url, use_case, fetched=fetched, pending=pending, known=known)
        warnings.extend(warn)
        return up.uri

    try:
        main = [u for img in ordered if wanted("images") and (u := put(img.url))]
        sku_images: dict[str, str] = {}
        for s in listing.skus if parts is None else []:
            if s.image_url and s.image_url not in sku_images and (u := put(s.image_url, "ATTRIBUTE_IMAGE")):
                sku_images[s.image_url] = u
        chart = (put(listing.size_chart_url, "SIZE_CHART_IMAGE")
                 if listing.size_chart_url and wanted("size_chart") else None)
        certs = {c.id: [u for url in c.image_urls if (u := put(url, "CERTIFICATION_IMAGE"))]
                 for c in listing.certifications} if wanted("certifications") else {}
    finally:  # also the images done before one that failed
        if pending:
            client.connection.state.update(pending)
    description = description_html(listing.description_html)
    if len(description) > MAX_DESCRIPTION:
        raise Rejected(f"description of '{listing.source_product_id}' has {len(description)} characters: "
                       f"TikTok Shop takes at most {MAX_DESCRIPTION}", code="DESCRIPTION_LENGTH",
                       item=listing.source_product_id)
    sales = []
    if any(s.sales_attributes for s in listing.skus):
        for a in attributes(client, listing.category_id):
            if a.sales:
                sales.append({"id": a.id, "name": a.name,
                              "values": {v.name.lower(): v.id for v in a.values}})
    body = mapping.product_payload(
        listing, description=description, main_images=main, sku_images=sku_images,
        sales_attrs=sales, warehouse_id=shop.sales_warehouse_id(client),
        category_version=category_version(client), idempotency_key=key,
        size_chart_uri=chart, certifications=certs)
    return body, warnings


def _result(data: dict[str, Any], status: str, warnings: list[str]) -> ListingResult:
    warnings = warnings + [w.get("message", "") for w in data.get("warnings") or []]
    return ListingResult(remote_product_id=str(data["product_id"]), status=status,  # type: ignore[arg-type]
                         sku_ids={s["seller_sku"]: str(s["id"]) for s in data.get("skus") or []},
                         warnings=[w for w in warnings if w])


def create(client: TikTokClient, listing: Listing) -> ListingResult:
    """Create a product, refusing when any of its seller SKUs is already on the shop.

    The search is skipped when this process's own search found every SKU missing within
    :data:`ABSENT_TTL` (the core searches a page's SKUs, ten a call, just before creating them);
    the create carries an idempotency key, so a retried create makes no second product.
    """
    seller_skus = [s.seller_sku for s in listing.skus]
    existing = [] if _known_absent(client, seller_skus) else find(client, seller_skus)
    if existing:
        ids = sorted({e.remote_product_id for e in existing})
        raise Rejected(f"seller SKU(s) {', '.join(e.seller_sku for e in existing)} already exist on "
                       f"TikTok Shop in product {', '.join(ids)}: link the product instead of listing "
                       "it again", code="DUPLICATE_SELLER_SKU", item=listing.source_product_id)
    shop_id = client.connection.setting("shop_id") or client.connection.remote_id or ""
    key = hashlib.sha256(f"{shop_id}:{listing.create_key or listing.source_product_id}".encode()).hexdigest()[:64]
    checked = checked_body(client, listing)
    if checked is not None:  # the body is the one checked, with the create's idempotency key last
        body, warnings = {**checked[0], "idempotency_key": key}, checked[1]
    else:
        body, warnings = _payload(client, listing, key)
    _remember(client, present=seller_skus)  # from here on, the SKUs may exist
    return _result(client.call("POST", f"{P}/products", body=body), "pending", warnings)


def _batch_errors(data: dict[str, Any], key: str) -> dict[str, dict[str, Any]]:
    return {str((e.get("detail") or {}).get(key)): e for e in data.get("errors") or []}


def deactivate(client: TikTokClient, product_id: str) -> ListingResult:
    current = statuses(client, [product_id])[0]
    if current.status in ("deactivated", "deleted"):
        return current
    data = client.call("POST", f"{P}/products/deactivate", body={"product_ids": [product_id]})
    err = _batch_errors(data, "product_id").get(str(product_id))
    if err:
        raise Rejected(f"TikTok Shop did not deactivate product {product_id}: {err.get('message')}",
                       code=err.get("code"), item=product_id)
    return ListingResult(remote_product_id=product_id, status="deactivated", sku_ids=current.sku_ids)


def statuses(client: TikTokClient, product_ids: list[str]) -> list[ListingResult]:
    out = []
    for pid in product_ids:
        try:
            out.append(mapping.listing_result(client.call("GET", f"{P}/products/{pid}")))
        except Rejected as exc:
            if exc.code and exc.code.isdigit() and int(exc.code) in errormap.NOT_FOUND:
                out.append(ListingResult(remote_product_id=pid, status="deleted",
                                         reasons=["not found on TikTok Shop"]))
            else:
                raise
    return out


# --------------------------------------------------------------------------- inventory


def read_inventory(client: TikTokClient, sku_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """Per SKU: through Inventory Search for given SKUs (600 per call), else every product."""
    if sku_ids is None:
        for products, _ in client.pages("POST", f"{P}/products/search", query={"page_size": 100},
                                        body={"status": "ALL"}, key="products"):
            for p in products:
                if p.get("status") != "DELETED":
                    yield from mapping.inventory_levels(p["id"], p.get("skus") or [])
        return
    for i in range(0, len(sku_ids), 600):
        data = client.call("POST", f"{P}/inventory/search", body={"sku_ids": sku_ids[i:i + 600]})
        for item in data.get("inventory") or []:
            yield from mapping.inventory_levels(item["product_id"], item.get("skus") or [])


def update_inventory(client: TikTokClient, updates: list[InventoryUpdate]) -> list[ItemResult]:
    """One call per product with all of its SKUs; per-item failures reported as failed items."""
    by_product: OrderedDict[str, list[InventoryUpdate]] = OrderedDict()
    for u in updates:
        by_product.setdefault(u.product_id, []).append(u)
    results: dict[int, ItemResult] = {}
    default_wh: str | None = None
    for product_id, items in by_product.items():
        if any(not u.warehouse_id for u in items) and default_wh is None:
            default_wh = shop.sales_warehouse_id(client)
        skus: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        for u in items:
            skus.setdefault(u.sku_id, []).append(
                {"warehouse_id": u.warehouse_id or default_wh, "quantity": u.quantity})
        body = {"skus": [{"id": sid, "inventory": inv} for sid, inv in skus.items()]}
        try:
            data = client.call("POST", f"{P}/products/{product_id}/inventory/update", body=body)
            errors = _batch_errors(data, "sku_id")
        except Rejected as exc:
            errors = {u.sku_id: {"code": exc.code, "message": exc.message} for u in items}
        for u in items:
            err = errors.get(u.sku_id)
            results[id(u)] = ItemResult(key=u.sku_id, ok=err is None,
                                        code=None if err is None else str(err.get("code")),
                                        message=None if err is None else err.get("message"))
    return [results[id(u)] for u in updates]

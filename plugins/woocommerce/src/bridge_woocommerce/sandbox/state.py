"""The sandbox's in-memory WooCommerce site: products, variations, orders, webhooks, keys, and the
two tracking plugins' data, stored in the shapes the REST API returns."""

from __future__ import annotations

import hashlib
import random
import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.sandboxing.clock import HeldClock

SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
COLOURS = ["Black", "White", "Red", "Blue", "Green"]
CATEGORIES = ["Clothing", "Accessories", "Home", "Outdoor"]
TAGS = ["new", "sale", "cotton", "gift"]
NOUNS = ["T-shirt", "Hoodie", "Cap", "Mug", "Tote bag", "Scarf", "Backpack", "Water bottle"]
ADJECTIVES = ["Classic", "Organic", "Vintage", "Everyday", "Premium", "Recycled"]
STOCK_STATUSES = ("processing", "completed", "on-hold")


def stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


CLOCK = HeldClock()
"""The store's clock (the connector test kit holds it with ``hold_clock``)."""
hold_clock = CLOCK.hold


def now() -> datetime:
    return CLOCK.now()


def slugify(text: str) -> str:
    """WordPress ``sanitize_title``, near enough: lower-case words joined by dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


SITE = "http://woocommerce-sandbox.invalid"
"""Where seeded media live until a request says the site's real address: every answer (and
webhook) replaces it with the home URL the request reached, so images are served by the sandbox
itself (``/wp-content/uploads/...``) and reachable offline."""

class SiteState:
    """Everything the emulated site holds, guarded by one lock."""

    def __init__(self, *, currency: str = "GBP", tracking: str = "both", name: str = "Sandbox Shop") -> None:
        self.lock = threading.RLock()
        #: Seconds before a new order shows in ``GET /wc/v3/orders`` lists (sandbox option
        #: ``search_lag``; the reference documents none, default 0); by id: at once.
        self.search_lag = 0.0
        self.indexed_at: dict[int, float] = {}
        self.currency = currency
        self.tracking = tracking
        self.name = name
        self.next_id = 100
        self.products: dict[int, dict[str, Any]] = {}
        self.variations: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        """Order id -> its refund objects (``GET /orders/{id}/refunds``)."""
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.stock_reduced: set[int] = set()
        self.by_sku: dict[str, tuple[int, int | None]] = {}
        self.consumer_key = "ck_" + hashlib.sha1(b"bridge-sandbox-key").hexdigest()
        self.consumer_secret = "cs_" + hashlib.sha1(b"bridge-sandbox-secret").hexdigest()
        self.keys: dict[str, dict[str, Any]] = {
            self.consumer_key: {"key_id": 1, "secret": self.consumer_secret, "permissions": "read_write"}}
        self.nonces: dict[str, float] = {}
        self.events: list[tuple[str, dict[str, Any]]] = []
        """(topic, payload) waiting for webhook delivery."""

    # ------------------------------------------------------------------ ids and plugins

    def new_id(self) -> int:
        with self.lock:
            self.next_id += 1
            return self.next_id

    @property
    def aftership(self) -> bool:
        return self.tracking in ("aftership", "both")

    @property
    def shipment_tracking(self) -> bool:
        return self.tracking in ("shipment-tracking", "both")

    def emit(self, topic: str, payload: dict[str, Any]) -> None:
        with self.lock:
            self.events.append((topic, payload))

    # ------------------------------------------------------------------ catalog

    def seed(self, products: int, variants: int, seed: int, *, backdate: bool) -> list[str]:
        """``products`` products with ``variants`` variations each (1: simple products).
        Modification times are one second apart, the last one now; ``backdate`` puts the
        creation dates in the past year (a catalog that existed before)."""
        rng = random.Random(seed)
        end = now()
        ids: list[str] = []
        with self.lock:
            for i in range(products):
                modified = end - timedelta(seconds=products - 1 - i)
                created = modified - timedelta(days=rng.randint(1, 365)) if backdate else modified
                ids.append(str(self._seed_product(rng, variants, created, modified, i)))
        return ids

    def _seed_product(self, rng: random.Random, variants: int, created: datetime, modified: datetime,
                      i: int) -> int:
        pid = self.new_id()
        title = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {pid}"
        price = Decimal(rng.randint(500, 9000)) / 100
        managed = i % 7 != 6
        category = rng.choice(CATEGORIES)
        base = {
            "id": pid, "name": title, "slug": slugify(title), "permalink": f"/product/{slugify(title)}/",
            "date_created": stamp(created), "date_created_gmt": stamp(created),
            "date_modified": stamp(modified), "date_modified_gmt": stamp(modified),
            "type": "variable" if variants > 1 else "simple", "status": "publish", "featured": False,
            "catalog_visibility": "visible", "description": f"<p>{title}: a sandbox product.</p>",
            "short_description": f"<p>{title}</p>", "sku": f"WC-{pid}",
            "price": money(price), "regular_price": money(price) if variants == 1 else "",
            "sale_price": "", "on_sale": False, "purchasable": True,
            "manage_stock": managed and variants == 1,
            "stock_quantity": rng.randint(0, 60) if managed and variants == 1 else None,
            "stock_status": "instock", "backorders": "no",
            "weight": str(Decimal(rng.randint(1, 40)) / 10), "dimensions": {
                "length": str(rng.randint(10, 40)), "width": str(rng.randint(5, 30)), "height": str(rng.randint(1, 15))},
            "categories": [{"id": CATEGORIES.index(category) + 10, "name": category, "slug": slugify(category)}],
            "tags": [{"id": 20 + n, "name": t, "slug": t} for n, t in enumerate(TAGS) if rng.random() < 0.3],
            "images": [{"id": pid * 10, "src": f"{SITE}/wp-content/uploads/sandbox/product-{pid}.png", "name": title, "alt": title}],
            "attributes": [], "default_attributes": [], "variations": [], "meta_data": [],
        }
        if variants == 1:
            self._derive_stock_status(base)
            self.products[pid] = base
            self.by_sku[base["sku"]] = (pid, None)
            return pid
        combos = [self._combo(k) for k in range(variants)]
        names = list(dict.fromkeys(n for c in combos for n in c))
        base["attributes"] = [{"id": 0, "name": n, "position": p, "visible": True, "variation": True,
                               "options": list(dict.fromkeys(c[n] for c in combos if n in c))}
                              for p, n in enumerate(names)]
        base["sku"] = f"WC-{pid}"
        self.products[pid] = base
        for k, combo in enumerate(combos):
            vid = self.new_id()
            vprice = price + Decimal(k % 3)
            qty = rng.randint(0, 40)
            v = {"id": vid, "parent_id": pid, "date_created": base["date_created"],
                 "date_created_gmt": base["date_created_gmt"], "date_modified": base["date_modified"],
                 "date_modified_gmt": base["date_modified_gmt"], "description": "",
                 "permalink": base["permalink"] + f"?variation={vid}", "sku": f"WC-{pid}-{k}",
                 "price": money(vprice), "regular_price": money(vprice), "sale_price": "", "on_sale": False,
                 "status": "publish", "purchasable": True, "manage_stock": managed,
                 "stock_quantity": qty if managed else None, "stock_status": "instock", "backorders": "no",
                 "weight": "", "dimensions": {"length": "", "width": "", "height": ""},
                 "image": {"id": vid * 10, "src": f"{SITE}/wp-content/uploads/sandbox/variation-{vid}.png", "name": "", "alt": ""},
                 "attributes": [{"id": 0, "name": n, "option": o} for n, o in combo.items()],
                 "menu_order": k, "meta_data": []}
            self._derive_stock_status(v)
            self.variations[vid] = v
            self.by_sku[v["sku"]] = (pid, vid)
            base["variations"].append(vid)
        base["price"] = min((self.variations[v]["price"] for v in base["variations"]), key=Decimal)
        return pid

    @staticmethod
    def _combo(k: int) -> dict[str, str]:
        combo = {"Colour": COLOURS[(k // len(SIZES)) % len(COLOURS)], "Size": SIZES[k % len(SIZES)]}
        if k >= len(SIZES) * len(COLOURS):
            combo["Edition"] = str(k // (len(SIZES) * len(COLOURS)) + 1)
        return combo

    @staticmethod
    def _derive_stock_status(obj: dict[str, Any]) -> None:
        if obj.get("manage_stock"):
            obj["stock_status"] = "instock" if (obj.get("stock_quantity") or 0) > 0 else "outofstock"

    def item(self, product_id: int, variation_id: int | None) -> dict[str, Any] | None:
        if variation_id:
            v = self.variations.get(variation_id)
            return v if v is not None and v["parent_id"] == product_id or (v and not product_id) else None
        return self.products.get(product_id)

    def touch(self, obj: dict[str, Any]) -> None:
        obj["date_modified"] = obj["date_modified_gmt"] = stamp(now())

    def adjust_stock(self, obj: dict[str, Any], delta: int) -> None:
        """Change managed stock as WooCommerce's stock functions do (no date_modified change)."""
        if not obj.get("manage_stock"):
            return
        obj["stock_quantity"] = int(obj.get("stock_quantity") or 0) + delta
        self._derive_stock_status(obj)
        variation = "parent_id" in obj and obj["id"] in self.variations
        self.emit("action.woocommerce_variation_set_stock" if variation else "action.woocommerce_product_set_stock",
                  {"action": "woocommerce_variation_set_stock" if variation else "woocommerce_product_set_stock",
                   "arg": obj["id"]})

    def set_quantity(self, sku: str, quantity: int) -> None:
        with self.lock:
            pid, vid = self.by_sku[sku]
            obj = self.variations[vid] if vid else self.products[pid]
            obj["manage_stock"] = True
            obj["stock_quantity"] = int(quantity)
            self._derive_stock_status(obj)
            self.touch(obj)
            self.emit("product.updated", dict(obj))

    def quantity(self, sku: str) -> int:
        with self.lock:
            pid, vid = self.by_sku[sku]
            obj = self.variations[vid] if vid else self.products[pid]
            return int(obj.get("stock_quantity") or 0)

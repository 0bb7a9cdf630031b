"""The sandbox's in-memory store: catalog, stock per location, orders, shipments, hooks, and
the seeding of catalogs of any size (compact dicts, fast enough for 10,000 variants in well
under a second)."""

from __future__ import annotations

import itertools
import random
import threading
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

from bridge.sandboxing.clock import HeldClock

COLOURS = ["Red", "Blue", "Green", "Black", "White", "Grey", "Navy", "Pink"]
SIZES = ["S", "M", "L", "XL", "XXL", "3XL", "4XL", "5XL"]
NOUNS = ["Tee", "Hoodie", "Mug", "Cap", "Tote", "Scarf", "Sock", "Jacket", "Poster", "Bottle"]
ADJECTIVES = ["Classic", "Organic", "Vintage", "Everyday", "Premium", "Cosy", "Bold", "Light"]
DEFAULT_LOCATION = 1
SECOND_LOCATION = 2


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).replace(microsecond=0).isoformat()


def rfc2822(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC).replace(microsecond=0))


CLOCK = HeldClock()
"""The store's clock (the connector test kit holds it with ``hold_clock``)."""
hold_clock = CLOCK.hold


def now() -> datetime:
    return CLOCK.now().replace(microsecond=0)


class StoreState:
    """Everything one sandboxed store holds. Guard mutations with ``lock``."""

    def __init__(self, store_hash: str, currency: str = "GBP") -> None:
        #: Seconds before a new order shows in ``GET /v2/orders`` lists and filters (the sandbox
        #: option ``search_lag``; the reference documents none, default 0); by id: at once.
        self.search_lag = 0.0
        self.indexed_at: dict[int, float] = {}
        self.lock = threading.RLock()
        self.store_hash = store_hash
        self.currency = currency
        self.weight_units = "KGS"
        self.dimension_units = "Centimeters"
        self.products: dict[int, dict[str, Any]] = {}
        self.variants: dict[int, list[dict[str, Any]]] = {}
        self.images: dict[int, list[dict[str, Any]]] = {}
        self.variant_index: dict[int, dict[str, Any]] = {}
        self.sku_index: dict[str, dict[str, Any]] = {}
        #: (variant id, location id) -> on hand; product-tracked stock lives under the product id
        #: as ("p", product id, location id).
        self.stock: dict[tuple, int] = {}
        self.safety: dict[tuple, int] = {}
        self.locations = [
            {"id": DEFAULT_LOCATION, "code": "BC-LOCATION-1", "label": "Default location",
             "description": "", "type_id": "PHYSICAL", "enabled": True,
             "managed_by_external_source": False, "storefront_visibility": True,
             "time_zone": "Europe/London"},
            {"id": SECOND_LOCATION, "code": "WAREHOUSE-2", "label": "Second warehouse",
             "description": "", "type_id": "PHYSICAL", "enabled": True,
             "managed_by_external_source": False, "storefront_visibility": True,
             "time_zone": "Europe/London"},
        ]
        self.orders: dict[int, dict[str, Any]] = {}
        self.order_lines: dict[int, list[dict[str, Any]]] = {}
        self.order_addresses: dict[int, list[dict[str, Any]]] = {}
        self.shipments: dict[int, list[dict[str, Any]]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}
        self.refunds: dict[int, list[dict[str, Any]]] = {}
        """Order id -> its v3 payment-action refunds."""
        self.ids = {k: itertools.count(start) for k, start in (
            ("refund", 1), ("refund_payment", 1), ("adjustment", 1),
            ("product", 100), ("variant", 1000), ("image", 5000), ("option", 200),
            ("value", 300), ("order", 100), ("line", 1), ("address", 1), ("shipment", 1),
            ("hook", 18048000), ("sku", 70))}
        self.seeded = 0

    def next_id(self, kind: str) -> int:
        return next(self.ids[kind])

    # ------------------------------------------------------------------ seeding

    def seed(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        """Add ``products`` products with ``variants`` variants each (1: a simple product).
        Their ``date_modified`` are a second apart, ending now."""
        rng = random.Random(seed)
        stamp0 = now() - timedelta(seconds=products)
        combos = list(itertools.product(COLOURS, SIZES))
        out = []
        with self.lock:
            for i in range(products):
                n = self.seeded = self.seeded + 1
                pid = self.next_id("product")
                count = max(1, min(variants, len(combos)))
                mode = "none" if n % 13 == 0 else ("variant" if count > 1 else "product")
                price = rng.randint(5, 120) + 0.99
                stamp = iso(stamp0 + timedelta(seconds=i + 1))
                product = {
                    "id": pid, "name": f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {n}",
                    "type": "physical", "sku": f"SBX-{seed}-{n:05d}",
                    "description": f"<p>Sandbox product {n}, seeded for bridge.</p>",
                    "weight": round(rng.uniform(0.1, 2.5), 2), "width": rng.randint(10, 40),
                    "depth": rng.randint(10, 40), "height": rng.randint(1, 20), "price": price,
                    "cost_price": 0, "retail_price": 0,
                    "sale_price": round(price * 0.8, 2) if n % 5 == 0 else 0,
                    "map_price": 0, "tax_class_id": 0, "categories": [23], "brand_id": 0,
                    "inventory_tracking": mode, "inventory_warning_level": 0,
                    "is_visible": n % 17 != 0, "availability": "available",
                    "availability_description": "", "condition": "New", "is_condition_shown": False,
                    "upc": "", "gtin": "", "mpn": "", "total_sold": 0, "is_free_shipping": False,
                    "custom_url": {"url": f"/sandbox-product-{n}/", "is_customized": False},
                    "date_created": stamp, "date_modified": stamp, "base_variant_id": None,
                }
                self.products[pid] = product
                colour_opt, size_opt = self.next_id("option"), self.next_id("option")
                rows = []
                for j, (colour, size) in enumerate(combos[:count]):
                    vid = self.next_id("variant")
                    options = [] if count == 1 else [
                        {"id": self.next_id("value"), "label": colour, "option_id": colour_opt,
                         "option_display_name": "Colour"},
                        {"id": self.next_id("value"), "label": size, "option_id": size_opt,
                         "option_display_name": "Size"}]
                    v = {"id": vid, "product_id": pid,
                         "sku": product["sku"] if count == 1 else f"{product['sku']}-{j + 1}",
                         "sku_id": None if count == 1 else self.next_id("sku"),
                         "price": None if j % 3 == 0 else price + j, "sale_price": None,
                         "retail_price": None, "map_price": None, "cost_price": None,
                         "weight": None, "width": None, "height": None, "depth": None,
                         "is_free_shipping": False, "purchasing_disabled": False,
                         "purchasing_disabled_message": "", "image_url": "", "upc": "", "gtin": "",
                         "mpn": "", "bin_picking_number": "", "inventory_warning_level": 0,
                         "option_values": options}
                    rows.append(v)
                    self.variant_index[vid] = v
                    self.sku_index[v["sku"]] = v
                    self.stock[(vid, DEFAULT_LOCATION)] = rng.randint(0, 50)
                    self.stock[(vid, SECOND_LOCATION)] = rng.randint(0, 20)
                if count == 1:
                    product["base_variant_id"] = rows[0]["id"]
                self.stock[("p", pid, DEFAULT_LOCATION)] = rng.randint(0, 60)
                self.stock[("p", pid, SECOND_LOCATION)] = rng.randint(0, 10)
                self.variants[pid] = rows
                self.images[pid] = [{"id": self.next_id("image"), "product_id": pid,
                                     "is_thumbnail": k == 0, "sort_order": k,
                                     "description": f"{product['name']} view {k + 1}",
                                     "file": f"p{pid}-{k}.png", "date_modified": stamp}
                                    for k in range(2)]
                out.append(str(pid))
        return out

    # ------------------------------------------------------------------ stock

    def stock_key(self, variant: dict, location: int) -> tuple:
        product = self.products[variant["product_id"]]
        if product["inventory_tracking"] == "product":
            return ("p", product["id"], location)
        return (variant["id"], location)

    def available(self, variant: dict, location: int = DEFAULT_LOCATION) -> int:
        key = self.stock_key(variant, location)
        return self.stock.get(key, 0) - self.safety.get(key, 0)

    def onhand(self, variant: dict, location: int = DEFAULT_LOCATION) -> int:
        return self.stock.get(self.stock_key(variant, location), 0)

    def product_level(self, pid: int) -> int:
        product = self.products[pid]
        mode = product["inventory_tracking"]
        if mode == "product":
            return self.stock.get(("p", pid, DEFAULT_LOCATION), 0)
        if mode == "variant":
            return sum(self.stock.get((v["id"], DEFAULT_LOCATION), 0) for v in self.variants[pid])
        return 0

    def adjust(self, variant: dict, delta: int, location: int = DEFAULT_LOCATION) -> None:
        if self.products[variant["product_id"]]["inventory_tracking"] == "none":
            return
        key = self.stock_key(variant, location)
        self.stock[key] = self.stock.get(key, 0) + delta

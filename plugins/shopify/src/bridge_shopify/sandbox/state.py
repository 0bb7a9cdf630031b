"""The sandbox store's data: shop, locations, catalog, inventory, orders; seeding; merchant acts.

Records are plain dicts keyed by GID (``gid://shopify/Product/1001``) with a numeric ``_num``
used for ordering and cursors. Timestamps are aware UTC datetimes. Every change goes through a
method here, which also queues the webhook the real store would send.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.sandboxing.clock import HeldClock

SIZES = ["S", "M", "L", "XL"]
COLOURS = ["Red", "Blue", "Green", "Black", "White", "Grey", "Navy", "Olive"]
UNITS = [("GRAMS", 1), ("KILOGRAMS", 0.001), ("OUNCES", 0.035274), ("POUNDS", 0.00220462)]
COLLECTIONS = ["Summer", "Basics", "New arrivals", "Sale", "Outdoor"]
WORDS = ["Linen", "Cotton", "Wool", "Denim", "Canvas", "Silk", "Fleece", "Leather"]
KINDS = ["Shirt", "Tee", "Jacket", "Hoodie", "Cap", "Bag", "Scarf", "Trousers"]


CLOCK = HeldClock()
"""The store's clock (the connector test kit holds it with ``hold_clock``)."""
hold_clock = CLOCK.hold


def now() -> datetime:
    return CLOCK.now().replace(microsecond=0)


def iso(when: datetime | None) -> str | None:
    return when.isoformat().replace("+00:00", "Z") if when else None


def gid(kind: str, num: int) -> str:
    return f"gid://shopify/{kind}/{num}"


def num_of(ident: str) -> int:
    return int(str(ident).rsplit("/", 1)[-1])


CDN_PATH = "/s/files/1/0000/0001/products"
"""Where the sandbox serves its products' images itself (generated PNGs): media hold this path,
and answers carry it under the address the request reached, so a catalog is reachable offline."""

class StoreState:
    """Everything one sandbox shop holds. Guard changes with ``lock``."""

    #: Whether a refund with restockType CANCEL takes its units off what is left to ship (the
    #: platform note leaves it UNCONFIRMED; False makes the sandbox keep them fulfillable).
    cancel_refunds_release_units = True

    def __init__(self, *, currency: str = "GBP", emit: Callable[[str, dict], None] | None = None,
                 search_lag: float = 0.0, domain: str = "bridge-sandbox.myshopify.com"):
        #: Seconds before a new order shows in ``orders(query:)`` (Shopify's search index lags:
        #: platform doc §7.1); lookups by id see it at once.
        self.search_lag = float(search_lag)
        self.lock = threading.RLock()
        self.emit = emit or (lambda topic, payload: None)
        self.shop = {
            "id": gid("Shop", 1), "name": "Bridge Sandbox", "email": "owner@bridge-sandbox.example",
            "myshopifyDomain": domain, "currencyCode": currency,
            "ianaTimezone": "Europe/London", "host": domain,
            "plan": {"displayName": "Basic", "partnerDevelopment": False, "shopifyPlus": False},
            "country": "GB",
        }
        self._next = 1000
        self.locations: dict[str, dict[str, Any]] = {}
        for name, active in (("Warehouse", True), ("Shop floor", True), ("Old depot", False)):
            n = self.next_num()
            self.locations[gid("Location", n)] = {"_num": n, "id": gid("Location", n),
                                                  "name": name, "isActive": active}
        self.collections: dict[str, dict[str, Any]] = {}
        for title in COLLECTIONS:
            n = self.next_num()
            self.collections[gid("Collection", n)] = {"_num": n, "id": gid("Collection", n), "title": title}
        self.products: dict[str, dict[str, Any]] = {}
        self.variants: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.by_sku: dict[str, str] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_number = 1000

    def next_num(self) -> int:
        self._next += 1
        return self._next

    @property
    def currency(self) -> str:
        return self.shop["currencyCode"]

    def active_locations(self) -> list[dict[str, Any]]:
        return [loc for loc in self.locations.values() if loc["isActive"]]

    # ------------------------------------------------------------------ catalog

    def seed(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        """Add products with ``variants`` variants each (Size × Colour options); returns ids."""
        rng = random.Random(seed)
        base = now() - timedelta(seconds=products + 1)
        locs = list(self.locations)
        collections = list(self.collections)
        ids = []
        with self.lock:
            for i in range(products):
                stamp = base + timedelta(seconds=i)
                pn = self.next_num()
                pid = gid("Product", pn)
                count = max(1, variants)
                sizes = SIZES[:min(count, len(SIZES))]
                colours = COLOURS[: -(-count // len(sizes))] if count > 1 else []
                options = ([{"name": "Size", "values": sizes}] +
                           ([{"name": "Colour", "values": colours}] if len(colours) > 1 else [])
                           if count > 1 else [{"name": "Title", "values": ["Default Title"]}])
                title = f"{rng.choice(WORDS)} {rng.choice(KINDS)} {pn}"
                product = {
                    "_num": pn, "id": pid, "title": title, "handle": title.lower().replace(" ", "-"),
                    "descriptionHtml": f"<p>{title}, seeded by the bridge sandbox.</p>",
                    "vendor": rng.choice(["Acme", "Northwind", "Globex"]),
                    "productType": title.split()[1], "tags": [title.split()[0].lower(), "sandbox"],
                    "status": "ACTIVE" if i % 10 else ("DRAFT" if i % 20 else "ACTIVE"),
                    "createdAt": stamp, "updatedAt": stamp, "options": options,
                    "category": "Apparel & Accessories > Clothing",
                    "collections": rng.sample(collections, 2),
                    "media": [{"id": gid("MediaImage", self.next_num()), "alt": title,
                               "url": f"{CDN_PATH}/{pn}-{k}.png"}
                              for k in range(1 + i % 2)],
                    "variants": [],
                }
                for k in range(count):
                    vn = self.next_num()
                    vid, iid = gid("ProductVariant", vn), gid("InventoryItem", vn)
                    selected = ([{"name": "Size", "value": sizes[k % len(sizes)]}] +
                                ([{"name": "Colour", "value": colours[k // len(sizes)]}]
                                 if len(colours) > 1 else [])
                                if count > 1 else [{"name": "Title", "value": "Default Title"}])
                    sku = f"SB-{pn}-{k + 1}"
                    unit, factor = UNITS[(i + k) % len(UNITS)]
                    grams = 150 + 10 * (k % 7)
                    price = Decimal(rng.randrange(500, 9000)) / 100
                    self.variants[vid] = {
                        "_num": vn, "id": vid, "product": pid, "position": k + 1, "sku": sku,
                        "title": " / ".join(o["value"] for o in selected), "selectedOptions": selected,
                        "price": str(price), "compareAtPrice": str(price + 10) if k % 3 == 0 else None,
                        "barcode": f"50{vn:011d}", "inventoryPolicy": "DENY", "item": iid,
                        "createdAt": stamp, "updatedAt": stamp,
                    }
                    self.items[iid] = {
                        "_num": vn, "id": iid, "variant": vid, "sku": sku, "tracked": k % 11 != 10,
                        "weight": {"value": round(grams * factor, 4), "unit": unit},
                        "levels": {locs[0]: rng.randrange(0, 40), locs[1]: rng.randrange(0, 10),
                                   locs[2]: 100},
                        "updatedAt": stamp,
                    }
                    self.by_sku[sku] = vid
                    product["variants"].append(vid)
                self.products[pid] = product
                ids.append(pid)
        for pid in ids:
            self.emit("products/create", self.product_payload(pid))
        return ids

    def product_payload(self, pid: str) -> dict[str, Any]:
        p = self.products[pid]
        return {"id": p["_num"], "admin_graphql_api_id": pid, "title": p["title"],
                "updated_at": iso(p["updatedAt"]), "status": p["status"].lower()}

    def available(self, vid: str) -> int:
        item = self.items[self.variants[vid]["item"]]
        return sum(q for loc, q in item["levels"].items() if self.locations[loc]["isActive"])

    def set_available(self, vid: str, total: int) -> None:
        """Make the summed available quantity ``total`` (the first active location absorbs it)."""
        with self.lock:
            item = self.items[self.variants[vid]["item"]]
            active = [loc["id"] for loc in self.active_locations()]
            others = sum(item["levels"].get(loc, 0) for loc in active[1:])
            if total - others < 0:
                for loc in active[1:]:
                    item["levels"][loc] = 0
                others = 0
            item["levels"][active[0]] = total - others
            item["updatedAt"] = now()
        self.emit("inventory_levels/update", {
            "inventory_item_id": item["_num"], "location_id": num_of(active[0]),
            "available": item["levels"][active[0]], "updated_at": iso(item["updatedAt"]),
            "admin_graphql_api_id": item["id"]})

    def adjust(self, vid: str, delta: int) -> None:
        """Claim (negative) or restock (positive) at the first active location."""
        with self.lock:
            item = self.items[self.variants[vid]["item"]]
            loc = self.active_locations()[0]["id"]
            item["levels"][loc] = item["levels"].get(loc, 0) + delta
            item["updatedAt"] = now()
        self.emit("inventory_levels/update", {
            "inventory_item_id": item["_num"], "location_id": num_of(loc),
            "available": item["levels"][loc], "updated_at": iso(item["updatedAt"]),
            "admin_graphql_api_id": item["id"]})

    def touch_product(self, pid: str, **changes: Any) -> None:
        """Edit a product as the merchant would (bumps ``updatedAt``)."""
        with self.lock:
            self.products[pid].update(changes)
            self.products[pid]["updatedAt"] = now()
        self.emit("products/update", self.product_payload(pid))

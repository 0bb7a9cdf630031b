"""The sandbox's in-memory world: tokens, shops, warehouses, products, orders, packages."""

from __future__ import annotations

import itertools
import random
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bridge_tiktokshop.markets import REGION_CURRENCY
from bridge_tiktokshop.sandbox import seed

TOKEN_TTL = 7 * 86400
REFRESH_TTL = 365 * 86400


class ApiError(Exception):
    """An answer in TikTok's error shape: ``code``, ``message`` and the HTTP status."""

    def __init__(self, code: int, message: str, status: int = 200) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class Shop:
    id: str
    name: str
    region: str
    seller_type: str
    cipher: str
    code: str
    seller: str
    currency: str
    warehouses: list[dict[str, Any]] = field(default_factory=list)
    delivery_options: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    providers: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
    sku_index: dict[str, tuple[str, str]] = field(default_factory=dict)
    """seller SKU -> (product id, SKU id)."""
    idempotency: dict[str, str] = field(default_factory=dict)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    packages: dict[str, dict[str, Any]] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    return_records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    cancellations: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_checks: dict[str, str] = field(default_factory=dict)
    price_locks: set[str] = field(default_factory=set)
    """Products in a running promotion: prices/update answers 12019045."""

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "region": self.region, "seller_type": self.seller_type,
                "cipher": self.cipher, "code": self.code}


class World:
    """Everything the sandbox holds; one lock guards it (handlers are short)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._ids = itertools.count(1729592969712200001)
        self.shops: dict[str, Shop] = {}
        self.by_cipher: dict[str, Shop] = {}
        self.sellers: dict[str, dict[str, Any]] = {}
        self.access: dict[str, dict[str, Any]] = {}
        self.refresh: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.images: dict[str, dict[str, Any]] = {}
        self.audit_failures: dict[str, list[str]] = {}
        self.prohibited_words: set[str] = set()
        """Words TikTok's content rules refuse in titles (create, edits and listing_check)."""
        self.clock_offset = 0.0
        self.held: int | None = None
        """While the connector test kit holds the clock: the one second every change gets."""
        for s in seed.SELLERS:
            self.sellers[s["open_id"]] = s
            for sh in s["shops"]:
                self._add_shop(sh, s["open_id"])

    # ------------------------------------------------------------------ basics

    def now(self) -> int:
        if self.held is not None:
            return self.held
        return int(time.time() + self.clock_offset)

    def new_id(self) -> str:
        return str(next(self._ids))

    def _add_shop(self, data: dict[str, Any], seller: str) -> None:
        shop = Shop(seller=seller, currency=REGION_CURRENCY[data["region"]], **data)
        sales, returns = self.new_id(), self.new_id()
        addr = {"region_code": shop.region, "city": "Demo City", "postal_code": "00000",
                "full_address": "1 Warehouse Way", "contact_person": "Lee", "distict": "Centre"}
        shop.warehouses = [
            {"id": sales, "name": f"{shop.region} main warehouse", "effect_status": "ENABLED",
             "type": "SALES_WAREHOUSE", "sub_type": "DOMESTIC_WAREHOUSE", "is_default": True, "address": addr},
            {"id": returns, "name": f"{shop.region} returns", "effect_status": "ENABLED",
             "type": "RETURN_WAREHOUSE", "sub_type": "DOMESTIC_WAREHOUSE", "is_default": False, "address": addr},
        ]
        seller_opt, tiktok_opt = self.new_id(), self.new_id()
        shop.delivery_options[sales] = [
            {"id": seller_opt, "name": "Shipped by seller", "type": "SEND_BY_SELLER", "platform": ["TIKTOK_SHOP"]},
            {"id": tiktok_opt, "name": "Standard shipping", "type": "STANDARD", "platform": ["TIKTOK_SHOP"]},
        ]
        shop.providers[seller_opt] = [{"id": self.new_id(), "name": n}
                                      for n in seed.PROVIDERS.get(shop.region, seed.PROVIDERS["SG"])]
        self.shops[shop.id] = shop
        self.by_cipher[shop.cipher] = shop

    def add_local_seller(self, region: str = "GB") -> Shop:
        """A new local seller with one shop in ``region`` (benchmarks of many store pairs);
        its tokens come from :meth:`issue_tokens`."""
        with self.lock:
            n = len(self.sellers) + 1
            open_id = f"70107360571{n:08d}"
            shop = {"id": f"70007145328{n:08d}", "name": f"Bridge Bench {n}", "region": region,
                    "seller_type": "LOCAL", "cipher": f"ROW_sbxbench{n:08d}", "code": f"{region}BENCH{n:05d}"}
            self.sellers[open_id] = {"open_id": open_id, "name": shop["name"], "base_region": region,
                                     "shops": [shop]}
            self._add_shop(shop, open_id)
            return self.shops[shop["id"]]

    # ------------------------------------------------------------------ tokens

    def issue_tokens(self, seller: str) -> dict[str, Any]:
        now = self.now()
        access, refresh = "ROW_" + secrets.token_urlsafe(24), "ROW_" + secrets.token_urlsafe(24)
        self.access[access] = {"seller": seller, "expires": now + TOKEN_TTL}
        self.refresh[refresh] = {"seller": seller, "expires": now + REFRESH_TTL}
        s = self.sellers[seller]
        return {"access_token": access, "access_token_expire_in": now + TOKEN_TTL,
                "refresh_token": refresh, "refresh_token_expire_in": now + REFRESH_TTL,
                "open_id": seller, "seller_name": s["name"], "seller_base_region": s["base_region"],
                "user_type": 0, "granted_scopes": ["seller.product.basic", "seller.order.info",
                                                   "seller.fulfillment.basic", "seller.authorization.info"]}

    def seller_of(self, token: str | None) -> str:
        info = self.access.get(token or "")
        if not info:
            raise ApiError(36009004, "Invalid credentials. The x-tts-access-token is invalid.")
        if info["expires"] <= self.now():
            raise ApiError(105002, "Access token is expired, please refresh it.")
        return info["seller"]

    def shops_of(self, seller: str) -> list[Shop]:
        return [s for s in self.shops.values() if s.seller == seller]

    # ------------------------------------------------------------------ catalog seeding

    def seed_products(self, shop: Shop, count: int, variants: int, rnd: random.Random) -> list[str]:
        wh = shop.warehouses[0]["id"]
        ids = []
        now = self.now()
        for n in range(count):
            pid = self.new_id()
            base = len(shop.products)
            k = rnd.randint(1, max(1, variants))
            skus = []
            for v in range(k):
                sid = self.new_id()
                seller_sku = f"SBX-{base:05d}-{v}"
                skus.append({
                    "id": sid, "seller_sku": seller_sku, "external_sku_id": "",
                    "price": {"currency": shop.currency, "sale_price": f"{rnd.randint(500, 9999) / 100:.2f}"},
                    "inventory": [{"warehouse_id": wh, "quantity": rnd.randint(0, 200)}],
                    "sales_attributes": [{"id": "100007", "name": "Size", "value_id": f"10070{v % 5}",
                                          "value_name": seed.SIZES[v % 5]}] if k > 1 else [],
                })
                shop.sku_index[seller_sku] = (pid, sid)
            shop.products[pid] = {
                "id": pid, "title": f"Sandbox product {base} cotton tee", "description": "<p>Seeded.</p>",
                "category_id": "601152", "status": "ACTIVATE", "audit": {"status": "APPROVED"},
                "main_images": [], "product_attributes": [], "skus": skus, "create_time": now - n,
                "update_time": now - n, "external_product_id": "", "sales_regions": [shop.region],
            }
            ids.append(pid)
        return ids

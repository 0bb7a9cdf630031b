"""The sandbox's in-memory Magento: store configuration, catalog, stock, orders, shipments.

Rows are kept as the JSON Magento answers (products, orders, shipments), so routes serve them
as they are. Seeding writes dicts directly: 10,000 variants take well under a second.
"""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.sandboxing.clock import HeldClock

SIZES = ["XS", "S", "M", "L", "XL", "XXL"]
COLOURS = ["Black", "White", "Red", "Blue", "Green", "Grey", "Navy", "Yellow"]
COLOR_ID, SIZE_ID = 93, 141
NOUNS = ["Hoodie", "Tee", "Jacket", "Jogger", "Cap", "Tote", "Scarf", "Sweater", "Polo", "Short"]
ADJECTIVES = ["Chaz", "Aero", "Breathe-Easy", "Mona", "Helios", "Stellar", "Ida", "Orion", "Juno"]


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


CLOCK = HeldClock()
"""The store's clock (the connector test kit holds it with ``hold_clock``)."""
hold_clock = CLOCK.hold


def now() -> str:
    return stamp(CLOCK.now())



def select_attribute(attribute_id: int, code: str, label: str, values: list[str], first: int) -> dict[str, Any]:
    """A user-defined dropdown product attribute as ``GET /V1/products/attributes`` answers it
    (``catalog-data-product-attribute-interface``: every required field, the empty first option)."""
    return {
        "is_wysiwyg_enabled": False, "is_html_allowed_on_front": True, "used_for_sort_by": False,
        "is_filterable": True, "is_filterable_in_search": False, "is_used_in_grid": True,
        "is_visible_in_grid": False, "is_filterable_in_grid": True, "position": 0, "apply_to": [],
        "is_searchable": "1", "is_visible_in_advanced_search": "1", "is_comparable": "1",
        "is_used_for_promo_rules": "0", "is_visible_on_front": "0", "used_in_product_listing": "0",
        "is_visible": True, "scope": "global", "attribute_id": attribute_id, "attribute_code": code,
        "frontend_input": "select", "entity_type_id": "4", "is_required": False,
        "options": [{"label": " ", "value": ""},
                    *({"label": v, "value": str(first + i)} for i, v in enumerate(values))],
        "is_user_defined": True, "default_frontend_label": label,
        "frontend_labels": [{"store_id": 1, "label": label}], "backend_type": "int",
        "source_model": "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Table", "default_value": "",
        "is_unique": "0", "validation_rules": [],
    }

class State:
    """One Magento store with a single website ``base`` and store view ``default``."""

    def __init__(self, *, currency: str = "GBP", msi: bool = True) -> None:
        #: Seconds before a new order shows in ``GET /V1/orders`` searches (sandbox option
        #: ``search_lag``; the reference documents none, default 0); by id: at once.
        self.search_lag = 0.0
        self.indexed_at: dict[int, float] = {}
        self.lock = threading.RLock()
        self.currency = currency
        self.msi = msi
        self.products: dict[int, dict[str, Any]] = {}
        self.by_sku: dict[str, int] = {}
        self.quantity: dict[str, int] = {}
        """Source quantity (MSI ``default`` source) = legacy stock item qty."""
        self.reservations: dict[str, int] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.shipments: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.creditmemos: dict[int, dict[str, Any]] = {}
        self.next_id = {"product": 1, "order": 1, "item": 1, "shipment": 1, "track": 1, "comment": 1,
                        "invoice": 1, "creditmemo": 1}
        self.attributes = {
            COLOR_ID: select_attribute(COLOR_ID, "color", "Color", COLOURS, 49),
            SIZE_ID: select_attribute(SIZE_ID, "size", "Size", SIZES, 166),
        }

    def new_id(self, kind: str) -> int:
        with self.lock:
            value = self.next_id[kind]
            self.next_id[kind] += 1
            return value

    # ------------------------------------------------------------------ store

    def store_config(self, base: str) -> dict[str, Any]:
        base = base.rstrip("/") + "/"
        return {
            "id": 1, "code": "default", "website_id": 1, "locale": "en_GB",
            "base_currency_code": self.currency, "default_display_currency_code": self.currency,
            "timezone": "Europe/London", "weight_unit": "kgs",
            "base_url": base, "base_link_url": base, "base_static_url": f"{base}static/",
            "base_media_url": f"{base}media/", "secure_base_url": base, "secure_base_link_url": base,
            "secure_base_static_url": f"{base}static/", "secure_base_media_url": f"{base}media/",
        }

    # ------------------------------------------------------------------ catalog

    def _product(self, pid: int, sku: str, name: str, type_id: str, price: float, visibility: int,
                 updated: str, attrs: list[dict[str, Any]], ext: dict[str, Any]) -> dict[str, Any]:
        row = {
            "id": pid, "sku": sku, "name": name, "attribute_set_id": 4, "price": price, "status": 1,
            "visibility": visibility, "type_id": type_id, "created_at": updated, "updated_at": updated,
            "weight": 0.45, "extension_attributes": {"website_ids": [1], **ext},
            "product_links": [], "options": [], "tier_prices": [],
            "media_gallery_entries": [{"id": pid, "media_type": "image", "label": name, "position": 1,
                                       "disabled": False, "types": ["image", "small_image", "thumbnail"],
                                       "file": f"/m/b/{sku.lower()}.png"}],
            "custom_attributes": [{"attribute_code": "url_key", "value": sku.lower()},
                                  {"attribute_code": "image", "value": f"/m/b/{sku.lower()}.png"}, *attrs],
        }
        self.products[pid] = row
        self.by_sku[sku] = pid
        return row

    def seed(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        """``products`` products; with ``variants`` > 1 each is configurable with that many
        children (size, then colour). Timestamps ascend, the newest being now."""
        rnd = random.Random(seed)
        newest = datetime.now(UTC)
        ids = []
        with self.lock:
            for k in range(products):
                updated = stamp(newest - timedelta(minutes=products - 1 - k))
                pid = self.new_id("product")
                name = f"{rnd.choice(ADJECTIVES)} {rnd.choice(NOUNS)} {pid}"
                sku = f"MB{pid:06d}"
                price = round(rnd.randint(900, 9900) / 100, 2)
                desc = [{"attribute_code": "description", "value": f"<p>{name}: soft cotton, regular fit.</p>"}]
                if variants <= 1:
                    self._product(pid, sku, name, "simple", price, 4, updated, desc, {})
                    self.quantity[sku] = rnd.randint(0, 50)
                    ids.append(str(pid))
                    continue
                children = []
                for j in range(variants):
                    cid = self.new_id("product")
                    size, colour = SIZES[j % len(SIZES)], COLOURS[(j // len(SIZES)) % len(COLOURS)]
                    csku = f"{sku}-{size}-{colour}-{j}"
                    self._product(cid, csku, f"{name}-{size}-{colour}", "simple", price, 1, updated, [
                        {"attribute_code": "size", "value": str(166 + SIZES.index(size))},
                        {"attribute_code": "color", "value": str(49 + COLOURS.index(colour))},
                    ], {})
                    self.quantity[csku] = rnd.randint(0, 50)
                    children.append(cid)
                options = [{"id": pid * 10, "attribute_id": str(SIZE_ID), "label": "Size", "position": 0,
                            "values": [{"value_index": 166 + i} for i in range(min(variants, len(SIZES)))],
                            "product_id": pid}]
                if variants > len(SIZES):
                    options.append({"id": pid * 10 + 1, "attribute_id": str(COLOR_ID), "label": "Color",
                                    "position": 1, "product_id": pid,
                                    "values": [{"value_index": 49 + i}
                                               for i in range(min(-(-variants // len(SIZES)), len(COLOURS)))]})
                self._product(pid, sku, name, "configurable", 0, 4, updated, desc, {
                    "configurable_product_options": options, "configurable_product_links": children})
                ids.append(str(pid))
        return ids

    def salable(self, sku: str) -> int:
        return self.quantity.get(sku, 0) - self.reservations.get(sku, 0)

    def stock_item(self, sku: str) -> dict[str, Any] | None:
        pid = self.by_sku.get(sku)
        if pid is None:
            return None
        qty = self.quantity.get(sku, 0)
        # every field of cataloginventory's StockItemInterface, as Magento answers a default item
        # (low_stock_date null until stock first falls below the notify quantity)
        return {"item_id": pid, "product_id": pid, "stock_id": 1, "qty": float(qty), "is_in_stock": qty > 0,
                "is_qty_decimal": False, "show_default_notification_message": False,
                "use_config_min_qty": True, "min_qty": 0, "use_config_min_sale_qty": 1, "min_sale_qty": 1,
                "use_config_max_sale_qty": True, "max_sale_qty": 10000, "use_config_backorders": True,
                "backorders": 0, "use_config_notify_stock_qty": True, "notify_stock_qty": 1,
                "use_config_qty_increments": True, "qty_increments": 0, "use_config_enable_qty_inc": True,
                "enable_qty_increments": False, "use_config_manage_stock": True, "manage_stock": True,
                "low_stock_date": None, "is_decimal_divided": False, "stock_status_changed_auto": 0}

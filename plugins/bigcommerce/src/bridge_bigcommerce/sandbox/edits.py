"""Merchant edits in the sandboxed store, as the control panel makes them (tests, benchmarks):
a new price, a new description, one more variant. Each edit stamps ``date_modified`` so an
incremental read (``date_modified:min``) sees it."""

from __future__ import annotations

from typing import Any

from bridge_bigcommerce.sandbox.state import DEFAULT_LOCATION, StoreState, iso, now


def _touch(state: StoreState, product: dict[str, Any]) -> None:
    product["date_modified"] = iso(now())


def set_visible(state: StoreState, product_id: str | int, visible: bool) -> None:
    """Publish or unpublish a product (``is_visible``)."""
    with state.lock:
        p = state.products[int(product_id)]
        p["is_visible"] = visible
        _touch(state, p)


def change_price(state: StoreState, product_id: str | int, delta: float = 1.0) -> None:
    """Raise the product's price, sale price and every variant's own prices by ``delta``."""
    with state.lock:
        p = state.products[int(product_id)]
        p["price"] = round(p["price"] + delta, 2)
        if p.get("sale_price"):
            p["sale_price"] = round(p["sale_price"] + delta, 2)
        for v in state.variants[p["id"]]:
            for key in ("price", "sale_price"):
                if v.get(key) is not None:
                    v[key] = round(v[key] + delta, 2)
        _touch(state, p)


def change_description(state: StoreState, product_id: str | int, html: str) -> None:
    with state.lock:
        p = state.products[int(product_id)]
        p["description"] = html
        _touch(state, p)


def add_variant(state: StoreState, product_id: str | int, colour: str = "Purple", size: str = "S") -> str:
    """One more variant (a new colour) on a product that has options; returns its SKU."""
    with state.lock:
        p = state.products[int(product_id)]
        rows = state.variants[p["id"]]
        first = rows[0]
        if not first["option_values"]:
            raise ValueError(f"product {product_id} has no options: a variant needs one")
        vid = state.next_id("variant")
        options = []
        for ov in first["option_values"]:
            label = colour if ov["option_display_name"] == "Colour" else size
            options.append({**ov, "id": state.next_id("value"), "label": label})
        sku = f"{p['sku']}-{len(rows) + 1}x"
        v = {**first, "id": vid, "sku": sku, "sku_id": state.next_id("sku"), "option_values": options}
        rows.append(v)
        state.variant_index[vid] = v
        state.sku_index[sku] = v
        state.stock[(vid, DEFAULT_LOCATION)] = 7
        _touch(state, p)
        return sku

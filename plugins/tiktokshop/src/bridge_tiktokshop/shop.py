"""Shops: who a token covers, store info, warehouses and the prerequisites checklist."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from bridge.errors import Misconfigured
from bridge.models import Prerequisite, StoreInfo
from bridge_tiktokshop.client import TikTokClient
from bridge_tiktokshop.markets import REGION_CURRENCY

WAREHOUSE_TTL = 3600.0

FIXES = {
    "SHOP_STATUS": "Seller Center > Account: finish the shop's activation",
    "SHOP_TAX": "Seller Center > Account > Tax information",
    "PICKUP_WAREHOUSE": "Seller Center > My Account > Account Settings > Warehouse: add a pickup warehouse",
    "RETURN_WAREHOUSE": "Seller Center > My Account > Account Settings > Warehouse: add a return warehouse",
    "DELIVERY_OPTION": "Seller Center > Shipping > Delivery options: enable at least one",
    "SHIPPING_TEMPLATE": "Seller Center > Shipping > Shipping templates: create one",
    "PRODUCT_QUANTITY_LIMIT": "Seller Center > Products: the shop reached its product limit",
    "EXTENDED_PRODUCER_RESPONSIBILITY": "Seller Center > Account > EPR registration",
    "BANK_ACCOUNT": "Seller Center > Finance > Bank account: add one",
    "CONTACT_INFO": "Seller Center > Account > Contact information",
}


def store_info(shop: dict[str, Any], credentials: dict[str, Any], base_url: str | None) -> StoreInfo:
    """A bridge store for one authorized shop."""
    region = str(shop.get("region") or "").upper()
    if region not in REGION_CURRENCY:
        raise Misconfigured(f"TikTok Shop: shop {shop.get('id')} is in region {region or '?'}, "
                            "which bridge cannot price")
    settings: dict[str, Any] = {"shop_id": str(shop["id"]), "shop_cipher": shop["cipher"],
                                "region": region, "seller_type": shop.get("seller_type", "")}
    if base_url:
        settings["base_url"] = base_url
    expires = credentials.get("refresh_token_expires_at")
    return StoreInfo(
        remote_id=str(shop["id"]), name=shop.get("name") or str(shop["id"]),
        currency=REGION_CURRENCY[region], region=region, seller_region=seller_region(shop, credentials),
        credentials=dict(credentials),
        settings=settings,
        auth_expires_at=datetime.fromtimestamp(int(expires), tz=UTC) if expires else None,
        details={"seller_type": shop.get("seller_type"), "shop_code": shop.get("code"),
                 "cipher": shop["cipher"]},
    )


def seller_region(shop: dict[str, Any], credentials: dict[str, Any]) -> str | None:
    """The seller account's base region: the shop's market for a local seller; for a cross-border
    seller the token's ``seller_base_region`` (§3.4, CN/HK expected, unconfirmed), or None when
    the store was connected with given tokens and TikTok has not told it."""
    if shop.get("seller_type") != "CROSS_BORDER":
        return str(shop.get("region") or "").upper() or None
    base = credentials.get("seller_base_region")
    return str(base).upper() if base else None


def pick(shops: list[dict[str, Any]], shop_id: str | None, cipher: str | None) -> dict[str, Any]:
    """The shop a connection names (by id or cipher), or the only one."""
    if shop_id or cipher:
        for s in shops:
            if (shop_id and str(s["id"]) == str(shop_id)) or (cipher and s.get("cipher") == cipher):
                return s
        raise Misconfigured(f"TikTok Shop: shop {shop_id or cipher} is not in this authorization; "
                            "it covers " + ", ".join(str(s["id"]) for s in shops))
    if len(shops) != 1:
        raise Misconfigured("TikTok Shop: this authorization covers several shops; pick one with "
                            "--shop-id: " + ", ".join(f"{s['id']} ({s.get('region')})" for s in shops))
    return shops[0]


def warehouses(client: TikTokClient) -> list[dict[str, Any]]:
    """The shop's warehouses (cached for an hour in the store state)."""
    return client.cached("warehouses", WAREHOUSE_TTL, lambda: client.call(
        "GET", "/logistics/202309/warehouses").get("warehouses") or [])


def sales_warehouse_id(client: TikTokClient) -> str:
    """The default enabled sales warehouse (where bridge puts stock)."""
    sales = [w for w in warehouses(client)
             if w.get("type") == "SALES_WAREHOUSE" and w.get("effect_status") == "ENABLED"]
    if not sales:
        raise Misconfigured("TikTok Shop: the shop has no enabled sales warehouse: add one in "
                            "Seller Center > Account Settings > Warehouse")
    default = [w for w in sales if w.get("is_default")] or sales
    return str(default[0]["id"])


def prerequisites(client: TikTokClient) -> list[Prerequisite]:
    """TikTok's own listing prerequisites, then warehouses and seller shipping set-up."""
    out: list[Prerequisite] = []
    checks = client.call("GET", "/product/202312/prerequisites").get("check_results") or []
    for c in checks:
        item = str(c.get("check_item", "")).upper()
        out.append(Prerequisite(
            key=f"tiktok.{item.lower()}", title=item.replace("_", " ").capitalize(),
            ok=not c.get("is_failed"), detail="; ".join(c.get("fail_reasons") or []),
            fix=FIXES.get(item, "Seller Center: fix the item TikTok names"), flows=["products"],
        ))
    houses = warehouses(client)
    sales = [w for w in houses if w.get("type") == "SALES_WAREHOUSE" and w.get("effect_status") == "ENABLED"]
    returns = [w for w in houses if w.get("type") == "RETURN_WAREHOUSE"]
    out.append(Prerequisite(
        key="warehouse.sales", title="An active sales warehouse", ok=bool(sales),
        detail=", ".join(w.get("name", w["id"]) for w in sales) or "none enabled",
        fix=FIXES["PICKUP_WAREHOUSE"], flows=["products", "inventory"]))
    out.append(Prerequisite(
        key="warehouse.return", title="A return warehouse", ok=bool(returns),
        detail=", ".join(w.get("name", w["id"]) for w in returns) or "none",
        fix=FIXES["RETURN_WAREHOUSE"], blocking=False))
    seller_options = []
    for w in sales:
        path = f"/logistics/202309/warehouses/{w['id']}/delivery_options"
        options = client.call("GET", path).get("delivery_options") or []
        seller_options += [o for o in options if o.get("type") == "SEND_BY_SELLER"]
    out.append(Prerequisite(
        key="shipping.seller", title="Seller shipping (own carrier) enabled",
        ok=bool(seller_options), blocking=False, flows=["tracking"],
        detail=", ".join(o.get("name", "") for o in seller_options) or
        "no SEND_BY_SELLER delivery option: orders ship with TikTok labels only",
        fix="Seller Center > Shipping > Delivery options: enable 'Shipped by seller' to push store tracking"))
    expires = client.connection.credentials.get("refresh_token_expires_at")
    if expires:
        days = (int(expires) - time.time()) / 86400
        out.append(Prerequisite(
            key="authorization", title="Authorization valid", ok=days > 30, blocking=days <= 0,
            detail=f"ends in {int(days)} days",
            fix="re-authorize bridge from Seller Center > App Store > My apps, then reconnect"))
    return out

"""Store facts: the store view's configuration, StoreInfo, and Multi-Source Inventory detection.

``connect`` reads ``GET /V1/store/storeConfigs`` (currency, locale, timezone, media URL, weight
unit), the store views, groups and websites (names, website code), and detects MSI by asking
for ``GET /V1/inventory/sources`` (404 when the Inventory modules are absent or disabled); with
MSI it resolves the website's stock with ``GET /V1/inventory/stock-resolver/website/{code}``.
The facts go to ``StoreInfo.settings`` so later calls need no extra request; a connection made
without them (tests, old stores) fetches them once and keeps them in ``connection.state``.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from bridge.connection import Connection
from bridge.errors import Misconfigured
from bridge.models import StoreInfo
from bridge_magento2.client import MagentoClient, sku_path

FACT_KEYS = ("store_code", "store_id", "website_code", "currency", "display_currency",
             "media_url", "weight_unit", "msi", "stock_id", "locale", "timezone")


def store_config(client: MagentoClient) -> dict[str, Any]:
    """The storeConfigs entry of the connection's store view."""
    configs = client.get("store/storeConfigs", [("storeCodes[]", client.store_code)]) or []
    for cfg in configs:
        if cfg.get("code") == client.store_code:
            return cfg
    raise Misconfigured(f"Magento has no store view with code '{client.store_code}': set "
                        "--store-code to one of the store views (Stores > All Stores)")


def detect_msi(client: MagentoClient, website_code: str) -> tuple[bool, int | None]:
    """(True, stock id of the website) with Multi-Source Inventory, (False, None) without."""
    sources = client.get("inventory/sources", [("searchCriteria[pageSize]", "1"),
                                               ("searchCriteria[currentPage]", "1")], missing_ok=True)
    if sources is None:
        return False, None
    stock = client.get(f"inventory/stock-resolver/website/{sku_path(website_code)}", missing_ok=True)
    stock_id = int(stock.get("stock_id") or 1) if isinstance(stock, dict) else 1
    return True, stock_id


def read_facts(client: MagentoClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """(facts to keep, facts to show): one pass over the store's configuration."""
    cfg = store_config(client)
    views = client.get("store/storeViews") or []
    groups = client.get("store/storeGroups") or []
    websites = client.get("store/websites") or []
    view = next((v for v in views if v.get("code") == client.store_code), {})
    group = next((g for g in groups if g.get("id") == view.get("store_group_id")), {})
    website = next((w for w in websites if w.get("id") == cfg.get("website_id")), {})
    website_code = str(website.get("code") or "base")
    msi, stock_id = detect_msi(client, website_code)
    facts = {
        "store_code": client.store_code,
        "store_id": int(cfg.get("id") or 1),
        "website_code": website_code,
        "currency": str(cfg.get("base_currency_code") or "USD"),
        "display_currency": cfg.get("default_display_currency_code"),
        "media_url": str(cfg.get("secure_base_media_url") or cfg.get("base_media_url") or ""),
        "weight_unit": str(cfg.get("weight_unit") or "lbs"),
        "msi": msi,
        "stock_id": stock_id,
        "locale": cfg.get("locale"),
        "timezone": cfg.get("timezone"),
    }
    shown = {
        "base_url": cfg.get("secure_base_url") or cfg.get("base_url"),
        "name": " / ".join(n for n in (group.get("name"), view.get("name")) if n) or client.store_code,
        "website": website.get("name"),
    }
    return facts, shown


def facts(connection: Connection, client: MagentoClient | None = None) -> dict[str, Any]:
    """The store view's facts: from settings saved at connect, else read once and cached."""
    if all(k in connection.settings for k in ("currency", "media_url", "msi")):
        return {k: connection.settings.get(k) for k in FACT_KEYS}
    cached = connection.state.get("facts")
    if isinstance(cached, dict) and cached.get("store_code") == connection.setting("store_code", "default"):
        return cached
    found, _ = read_facts(client or MagentoClient(connection))
    connection.state["facts"] = found
    return found


def store_info(connection: Connection) -> StoreInfo:
    """Validate credentials with authenticated reads and describe the store view."""
    client = MagentoClient(connection)
    found, shown = read_facts(client)
    connection.state["facts"] = found
    base = str(shown["base_url"] or client.base)
    parts = urlsplit(base)
    remote_id = f"{parts.netloc}{parts.path.rstrip('/')}/{client.store_code}"
    settings = {k: v for k, v in found.items() if v is not None}
    settings["auth_mode"] = client.auth_mode
    if connection.base_url:
        settings["base_url"] = connection.base_url
    warnings = []
    if found["display_currency"] and found["display_currency"] != found["currency"]:
        warnings.append(f"the store displays {found['display_currency']} but prices are kept in "
                        f"{found['currency']}: TikTok Shop receives {found['currency']} prices")
    if client.auth_mode != connection.setting("auth_mode", "oauth1"):
        warnings.append("the store does not accept integration tokens as Bearer: requests are "
                        "signed with OAuth 1.0a")
    inventory = (f"Multi-Source Inventory (salable quantity of stock {found['stock_id']})"
                 if found["msi"] else "legacy stock items (MSI is disabled)")
    return StoreInfo(
        remote_id=remote_id, name=str(shown["name"]), domain=parts.hostname,
        currency=found["currency"], timezone=found["timezone"],
        settings=settings,
        details={"base_url": base, "locale": found["locale"], "website": shown["website"],
                 "inventory": inventory, "auth": client.auth_mode,
                 "display_currency": found["display_currency"]},
        warnings=warnings,
    )

"""Describing the platform, connecting a store, and its prerequisites checklist."""

from __future__ import annotations

from typing import Any

from bridge.connection import AppContext, Connection
from bridge.models import AppSetting, PlatformInfo, Prerequisite, Setting, StoreInfo
from bridge_shopify import auth, mapping, queries, webhooks
from bridge_shopify.catalog import DEFAULT_BULK_THRESHOLD
from bridge_shopify.client import DEFAULT_API_VERSION, ShopifyClient
from bridge_shopify.errors import AccessDenied

REQUIRED_SCOPES = {
    "read_products": "read the catalog",
    "read_inventory": "read stock levels",
    "read_locations": "choose the stock locations",
    "write_orders": "create TikTok orders",
}
PROTECTED_DATA_FIX = (
    "In the Shopify Partner Dashboard (or Dev Dashboard): open the app → API access → Protected "
    "customer data access, request access to protected customer data and to the fields Name, "
    "Email, Phone and Address (level 2), give the reasons (fulfilling marketplace orders), and "
    "once approved run `bridge doctor` again. Custom and merchant-owned apps have this access "
    "without review."
)


#: Orders are found by ``orders(query: "source_identifier:…")``, served from a search index that
#: "may lag by a few seconds"; the platform doc (§7.1) advises retrying the lookup for about 30 s
#: before creating again.
ORDER_SEARCH_LAG = 30.0


def describe() -> PlatformInfo:
    return PlatformInfo(
        name="shopify", kind="ecommerce", display_name="Shopify",
        settings=[
            Setting(name="shop", required=True,
                    help="the permanent shop domain, your-shop.myshopify.com", secret=False),
            Setting(name="access_token", secret=True,
                    help="an Admin API access token of a custom app (shpat_…), if you have one"),
            Setting(name="client_id",
                    help="your own app's client id (client credentials grant)", secret=False),
            Setting(name="client_secret", secret=True,
                    help="your own app's client secret (client credentials grant; signs webhooks)"),
            Setting(name="api_version", default=DEFAULT_API_VERSION,
                    help="the Admin API version to call (YYYY-MM)", secret=False),
            Setting(name="locations",
                    help="location ids or names whose stock counts, comma-separated (default: "
                         "all active locations)", secret=False),
            Setting(name="bulk_threshold", type="int", default=DEFAULT_BULK_THRESHOLD,
                    help="catalogs with more products than this are read with a bulk operation", secret=False),
            Setting(name="lookup_lag", secret=False,
                    help="seconds the store's order search may lag a new order "
                    f"(default {ORDER_SEARCH_LAG:g}): how long bridge waits before it looks up an "
                    "order whose create answer was lost"),
        ],
        app_settings=[
            AppSetting(name="client_id", help="the public app's client id (API key)", secret=False),
            AppSetting(name="client_secret", secret=True,
                       help="the public app's client secret (signs OAuth callbacks and webhooks)"),
            AppSetting(name="scopes", default=auth.DEFAULT_SCOPES, help="access scopes to ask for", secret=False),
        ],
        connect_methods=["oauth", "credentials"],
        webhooks=True, webhook_retries=True, webhook_topics=list(webhooks.TOPICS),
        docs_url="https://shopify.dev/docs/api/admin-graphql",
        lookup_lag=ORDER_SEARCH_LAG,
    )


def authorization_url(app: AppContext, state: str, redirect_uri: str, settings: dict) -> str:
    shop = auth.normalize_shop(settings.get("shop"))
    return auth.authorize_url(
        auth.shop_base_url(shop, app.settings.get("base_url")),
        client_id=app.require("client_id"),
        scopes=app.settings.get("scopes") or auth.DEFAULT_SCOPES,
        redirect_uri=redirect_uri, state=state,
    )


def _settings(shop: str, base_url: str | None, api_version: str) -> dict[str, Any]:
    values = {"shop": shop, "api_version": api_version}
    if base_url:
        values["base_url"] = base_url
    return values


def exchange_code(app: AppContext, params: dict) -> list[StoreInfo]:
    shop, _base, creds = auth.exchange_code(app, params)
    settings = _settings(shop, app.settings.get("base_url"), DEFAULT_API_VERSION)
    conn = Connection(platform="shopify", settings=dict(settings), credentials=dict(creds), app=app,
                      transport=app.transport)
    try:
        info = connect(conn)
    finally:
        conn.close()
    return [info.model_copy(update={"credentials": dict(conn.credentials), "settings": settings})]


def connect(connection: Connection) -> StoreInfo:
    """Read the ``shop``: proves the token works; fetches one (client credentials) if needed."""
    client = ShopifyClient(connection)
    before = dict(connection.credentials)
    shop = client.execute("Shop", queries.SHOP)["shop"]
    connection.state["shop_currency"] = shop["currencyCode"]
    changed = {k: v for k, v in connection.credentials.items() if before.get(k) != v}
    return mapping.store_info(shop, credentials=changed)


def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    client = ShopifyClient(connection)
    data = client.execute("Prerequisites", queries.PREREQUISITES)
    granted = {s["handle"] for s in (data.get("currentAppInstallation") or {}).get("accessScopes") or []}
    implied = granted | {s.replace("write_", "read_") for s in granted if s.startswith("write_")}
    items = []
    for scope, why in REQUIRED_SCOPES.items():
        ok = scope in implied
        items.append(Prerequisite(
            key=f"scope:{scope}", title=f"access scope {scope}", ok=ok,
            detail="" if ok else f"the app was not granted {scope}, needed to {why}",
            fix="" if ok else "reinstall the app accepting the scopes it asks for",
            flows=["products", "inventory"] if "order" not in scope else ["orders"],
        ))
    active = [n for n in (data.get("locations") or {}).get("nodes") or [] if n.get("isActive", True)]
    items.append(Prerequisite(
        key="locations", title="an active stock location", ok=bool(active),
        detail=f"{len(active)} active location(s)" if active else "the store has no active location",
        fix="" if active else "Shopify admin → Settings → Locations: activate a location",
        flows=["inventory"],
    ))
    try:
        client.execute("ProtectedCustomerDataProbe", queries.ORDERS_PROTECTED_PROBE)
        items.append(Prerequisite(key="protected_customer_data",
                                  title="protected customer data on orders", ok=True,
                                  flows=["orders"]))
    except AccessDenied as exc:
        items.append(Prerequisite(
            key="protected_customer_data", title="protected customer data on orders", ok=False,
            detail="Shopify answered ACCESS_DENIED on orders: the app is not approved for "
                   f"protected customer data (buyer name, address, email, phone). {exc}",
            fix=PROTECTED_DATA_FIX, flows=["orders"],
        ))
    return items

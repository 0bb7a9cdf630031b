"""The TikTok Shop platform plugin: thin hook implementations over the client modules."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bridge
from bridge.connection import AppContext, Connection
from bridge.errors import NeedsReconnect, Rejected
from bridge.models import (
    AppSetting,
    Brand,
    Category,
    CategoryAttribute,
    CategoryRules,
    ChannelRefund,
    ExistingListing,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    LineCancel,
    LineCancelResult,
    Listing,
    ListingCheck,
    ListingIndexPage,
    ListingResult,
    Order,
    OrderPage,
    PlatformInfo,
    Prerequisite,
    PriceUpdate,
    RefundPage,
    Setting,
    ShippingProvider,
    StoreInfo,
    TrackingPush,
    TrackingResult,
    WebhookDelivery,
    WebhookRequest,
    WebhookSubscription,
)
from bridge_tiktokshop import auth, catalog, edits, orders, returns, shop, webhooks
from bridge_tiktokshop.client import PLATFORM, TikTokClient
from bridge_tiktokshop.markets import AUTH_HOST, MARKETS


@bridge.hookimpl
def describe_platform() -> PlatformInfo:
    return PlatformInfo(
        name=PLATFORM, kind="channel", display_name="TikTok Shop",
        settings=[
            Setting(name="shop_id", help="TikTok shop id, when the authorization covers several shops", secret=False),
            Setting(name="access_token", secret=True, help="access token (headless connecting)"),
            Setting(name="refresh_token", secret=True, help="refresh token (headless connecting)"),
            Setting(name="category_version", type="choice", choices=["v1", "v2"], default="v2",
                    help="category tree version (TikTok asks connectors for v2)", secret=False),
        ],
        app_settings=[
            AppSetting(name="app_key", required=True, help="app key from Partner Center", secret=False),
            AppSetting(name="app_secret", required=True, secret=True, help="app secret from Partner Center"),
            AppSetting(name="service_id", help="service id of the app's authorization link", secret=False),
        ],
        connect_methods=["oauth", "credentials"], webhooks=True, webhook_retries=True, markets=MARKETS,
        webhook_topics=list(webhooks.EVENT_TYPES),
        docs_url="https://partner.tiktokshop.com/docv2",
    )


# --------------------------------------------------------------------------- connecting


@bridge.hookimpl
def authorization_url(app: AppContext, state: str, redirect_uri: str) -> str:
    return auth.authorization_link(app, state, redirect_uri)


@bridge.hookimpl
def exchange_code(app: AppContext, params: dict, redirect_uri: str) -> list[StoreInfo]:
    """Code -> tokens at the auth host, then one store per shop of Get Authorized Shops."""
    code = params.get("code")
    if not code or code == "null" or params.get("error"):
        raise NeedsReconnect(f"TikTok Shop authorization was not given ({params.get('error') or 'no code'}): "
                             "try connecting again")
    base = app.settings.get("base_url") or None
    key, secret = str(app.require("app_key")), str(app.require("app_secret"))
    http = app.http_client(base or AUTH_HOST)
    bundle = auth.get_token(http, key, secret, str(code))
    conn = Connection(platform=PLATFORM, settings={"base_url": base} if base else {},
                      credentials=dict(bundle), app=app, transport=app.transport)
    try:
        shops = TikTokClient(conn).authorized_shops()
        return [shop.store_info(s, conn.credentials, base) for s in shops]
    finally:
        conn.close()


@bridge.hookimpl
def connect(connection: Connection) -> StoreInfo:
    """Given tokens: validated through Get Authorized Shops; settings name the shop if several."""
    client = TikTokClient(connection)
    shops = client.authorized_shops()
    chosen = shop.pick(shops, connection.setting("shop_id"), connection.setting("shop_cipher"))
    creds = {k: v for k, v in connection.credentials.items() if v not in (None, "")}
    return shop.store_info(chosen, creds, connection.base_url)


@bridge.hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    return shop.prerequisites(TikTokClient(connection))


# --------------------------------------------------------------------------- inventory


@bridge.hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    return catalog.read_inventory(TikTokClient(connection), variant_ids)


@bridge.hookimpl
def update_inventory(connection: Connection, updates: list[InventoryUpdate]) -> list[ItemResult]:
    return catalog.update_inventory(TikTokClient(connection), updates)


# --------------------------------------------------------------------------- categories


@bridge.hookimpl
def list_categories(connection: Connection) -> list[Category]:
    return catalog.list_categories(TikTokClient(connection))


@bridge.hookimpl
def category_attributes(connection: Connection, category_id: str) -> list[CategoryAttribute]:
    return catalog.attributes(TikTokClient(connection), category_id)


@bridge.hookimpl
def category_rules(connection: Connection, category_id: str) -> CategoryRules:
    return catalog.rules(TikTokClient(connection), category_id)


@bridge.hookimpl
def recommend_category(connection: Connection, title: str, description: str) -> Category | None:
    return catalog.recommend(TikTokClient(connection), title, description)


@bridge.hookimpl
def list_brands(connection: Connection, category_id: str | None) -> list[Brand]:
    return catalog.brands(TikTokClient(connection), category_id)


# --------------------------------------------------------------------------- listings


@bridge.hookimpl
def find_listings(connection: Connection, seller_skus: list[str]) -> list[ExistingListing]:
    return catalog.find(TikTokClient(connection), seller_skus)


@bridge.hookimpl
def create_listing(connection: Connection, listing: Listing) -> ListingResult:
    return catalog.create(TikTokClient(connection), listing)


@bridge.hookimpl
def scan_listings(connection: Connection) -> Iterator[ListingIndexPage]:
    return catalog.scan(TikTokClient(connection))


@bridge.hookimpl
def check_listing(connection: Connection, listing: Listing, dry_run: bool) -> ListingCheck:
    return edits.check(TikTokClient(connection), listing, dry_run)


@bridge.hookimpl
def update_listing(connection: Connection, listing: Listing) -> ListingResult:
    return edits.full_edit(TikTokClient(connection), listing)


@bridge.hookimpl
def partial_edit_listing(connection: Connection, listing: Listing, parts: list[str]) -> ListingResult:
    return edits.partial_edit(TikTokClient(connection), listing, parts)


@bridge.hookimpl
def update_prices(connection: Connection, updates: list[PriceUpdate]) -> list[ItemResult]:
    return edits.update_prices(TikTokClient(connection), updates)


@bridge.hookimpl
def activate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    return edits.activate(TikTokClient(connection), remote_product_id)


@bridge.hookimpl
def deactivate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    return catalog.deactivate(TikTokClient(connection), remote_product_id)


@bridge.hookimpl
def listing_status(connection: Connection, remote_product_ids: list[str]) -> list[ListingResult]:
    return catalog.statuses(TikTokClient(connection), remote_product_ids)


# --------------------------------------------------------------------------- orders


@bridge.hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    return orders.list_orders(TikTokClient(connection), cursor)


@bridge.hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    return orders.get_orders(TikTokClient(connection), order_ids)


@bridge.hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return orders.cancel(TikTokClient(connection), order_id, reason)


@bridge.hookimpl
def cancel_order_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    return returns.cancel_lines(TikTokClient(connection), cancel)


# --------------------------------------------------------------------------- returns and refunds


@bridge.hookimpl
def list_refunds(connection: Connection, cursor: str | None) -> Iterator[RefundPage]:
    return returns.list_refunds(TikTokClient(connection), cursor)


@bridge.hookimpl
def get_refunds(connection: Connection, order_ids: list[str]) -> list[ChannelRefund]:
    return returns.get_refunds(TikTokClient(connection), order_ids)


# --------------------------------------------------------------------------- fulfilment


@bridge.hookimpl
def shipping_providers(connection: Connection, order_id: str | None) -> list[ShippingProvider]:
    return orders.providers(TikTokClient(connection), order_id)


@bridge.hookimpl
def push_tracking(connection: Connection, push: TrackingPush) -> TrackingResult:
    if not push.tracking_number.strip():
        raise Rejected("no tracking number to push", code="NO_TRACKING", item=push.order_id)
    return orders.push_tracking(TikTokClient(connection), push)


# --------------------------------------------------------------------------- webhooks


@bridge.hookimpl
def register_webhooks(connection: Connection, url: str) -> list[str]:
    return webhooks.register(TikTokClient(connection), url)


@bridge.hookimpl
def list_webhooks(connection: Connection) -> list[WebhookSubscription]:
    return webhooks.subscriptions(TikTokClient(connection))


@bridge.hookimpl
def delete_webhooks(connection: Connection, ids: list[str]) -> None:
    webhooks.delete(TikTokClient(connection), ids)


@bridge.hookimpl
def receive_webhook(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    return webhooks.receive(app, request)


# --------------------------------------------------------------------------- sandbox


@bridge.hookimpl
def sandbox(options: dict[str, Any]) -> Any:
    from bridge_tiktokshop.sandbox import TikTokSandbox

    return TikTokSandbox(options)

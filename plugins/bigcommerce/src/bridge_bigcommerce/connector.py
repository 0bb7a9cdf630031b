"""The BigCommerce plugin of bridge: hook implementations (thin; the work is in the modules
named after what they hold: ``auth``, ``catalog``, ``orders``, ``webhooks``, ``sandbox``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bridge import hookimpl
from bridge.connection import AppContext, Connection
from bridge.models import (
    AppSetting,
    CallbackResult,
    CreatedOrder,
    Fulfillment,
    InventoryLevel,
    LineCancel,
    LineCancelResult,
    Order,
    OrderDraft,
    OrderPage,
    PlatformInfo,
    Prerequisite,
    Product,
    ProductPage,
    RefundDraft,
    Setting,
    StoreInfo,
    StoreRefund,
    WebhookDelivery,
    WebhookRequest,
    WebhookSubscription,
)
from bridge_bigcommerce import auth, catalog, orders, prerequisites, refunds, webhooks

NAME = "bigcommerce"
#: The path of the install callback under the admin pages (register it as the app's Auth URL).
AUTH_CALLBACK = "auth"


@hookimpl
def describe_platform() -> PlatformInfo:
    return PlatformInfo(
        name=NAME, kind="ecommerce", display_name="BigCommerce",
        settings=[
            Setting(name="store_hash", required=True,
                    help="The store hash: the id in the API path "
                         "https://api.bigcommerce.com/stores/<store_hash>/v3/", secret=False),
            Setting(name="access_token", required=True, secret=True,
                    help="Access token of a store-level API account (Settings > API)"),
            Setting(name="location_id", type="int",
                    help="Inventory location whose stock goes to TikTok (default: the store's "
                         "default location)", secret=False),
            Setting(name="channel_id", type="int",
                    help="Channel id for the orders bridge creates (default: the storefront, 1)", secret=False),
        ],
        app_settings=[
            AppSetting(name="client_id", help="Client ID of the BigCommerce app (Developer Portal)", secret=False),
            AppSetting(name="client_secret", secret=True,
                       help="Client secret of the app: verifies callbacks and signed webhooks"),
        ],
        connect_methods=["credentials", "callback"], webhooks=True, webhook_retries=True,
        webhook_topics=list(webhooks.SCOPES),
        docs_url="https://developer.bigcommerce.com/docs/rest-management",
    )


# --------------------------------------------------------------------------- connecting


@hookimpl
def exchange_code(app: AppContext, params: dict, redirect_uri: str) -> list[StoreInfo]:
    return auth.exchange(app, params, redirect_uri)


@hookimpl
def app_callback(app: AppContext, name: str, request: WebhookRequest) -> CallbackResult:
    """``auth`` (install: code exchange), ``load``, ``uninstall`` and ``remove_user``."""
    if name == AUTH_CALLBACK:
        redirect = f"{app.public_url.rstrip('/')}/callbacks/{NAME}/{AUTH_CALLBACK}"
        return CallbackResult(stores=auth.exchange(app, dict(request.query), redirect))
    claims = auth.callback_claims(app, request.query)
    store_hash = auth.store_hash_of(claims)
    if name == "uninstall":
        return CallbackResult(uninstalled_remote_ids=[store_hash], response_body="ok")
    if name == "load":
        return CallbackResult(redirect_to="/")
    return CallbackResult(response_body="ok")


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    return auth.connect_store(connection)


@hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    return prerequisites.check(connection)


# --------------------------------------------------------------------------- catalog


@hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    return catalog.stream_products(connection, cursor)


@hookimpl
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    return catalog.read_products(connection, product_ids)


@hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    return catalog.read_levels(connection, variant_ids)


# --------------------------------------------------------------------------- orders


@hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    return orders.stream(connection, cursor)


@hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    return orders.read(connection, order_ids)


@hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    return orders.find_id(connection, source_order_id)


@hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    return orders.create(connection, draft)


@hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return orders.cancel(connection, order_id, reason)


@hookimpl
def cancel_order_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    return refunds.cancel_lines(connection, cancel)


@hookimpl
def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    return refunds.create_refund(connection, refund)


@hookimpl
def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    return refunds.find_refund(connection, order_id, key)


@hookimpl
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    return orders.shipments(connection, order_ids)


# --------------------------------------------------------------------------- webhooks


@hookimpl
def register_webhooks(connection: Connection, url: str) -> list[str]:
    return webhooks.register(connection, url)


@hookimpl
def list_webhooks(connection: Connection) -> list[WebhookSubscription]:
    return webhooks.subscriptions(connection)


@hookimpl
def delete_webhooks(connection: Connection, ids: list[str]) -> None:
    webhooks.delete(connection, ids)


@hookimpl
def receive_webhook(app: AppContext, connection: Connection | None,
                    request: WebhookRequest) -> WebhookDelivery:
    return webhooks.receive(app, connection, request)


# --------------------------------------------------------------------------- sandbox


@hookimpl
def sandbox(options: dict[str, Any]) -> Any:
    from bridge_bigcommerce.sandbox import BigCommerceSandbox

    return BigCommerceSandbox(options)

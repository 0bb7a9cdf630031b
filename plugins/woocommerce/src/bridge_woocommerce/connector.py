"""The WooCommerce plugin: hook implementations, each a thin call into the module that holds it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bridge import hookimpl
from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured
from bridge.models import (
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
    StoreInfo,
    StoreRefund,
    WebhookDelivery,
    WebhookRequest,
    WebhookSubscription,
)
from bridge_woocommerce import catalog, orders, refunds, store, webhooks


@hookimpl
def describe_platform() -> PlatformInfo:
    return store.describe()


@hookimpl
def authorization_url(app: AppContext, state: str, redirect_uri: str, settings: dict) -> str:
    return store.authorization_url(app, state, settings)


@hookimpl
def app_callback(app: AppContext, name: str, request: WebhookRequest) -> CallbackResult:
    if name != "keys":
        raise Misconfigured(f"woocommerce has no '{name}' callback (only 'keys')")
    return store.keys_callback(app, request)


@hookimpl
def connect(connection: Connection) -> StoreInfo:
    return store.connect(connection)


@hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    return store.prerequisites(connection)


@hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    return catalog.list_products(connection, cursor)


@hookimpl
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    return catalog.get_products(connection, product_ids)


@hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    return catalog.read_inventory(connection, variant_ids)


@hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    return orders.list_orders(connection, cursor)


@hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    return orders.get_orders(connection, order_ids)


@hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    return orders.find_order(connection, source_order_id)


@hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    return orders.create_order(connection, draft)


@hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return orders.cancel_order(connection, order_id, reason)


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
    return orders.list_fulfillments(connection, order_ids)


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
def receive_webhook(app: AppContext, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
    return webhooks.receive(app, connection, request)


@hookimpl
def sandbox(options: dict[str, Any]) -> Any:
    from bridge_woocommerce.sandbox import WooSandbox

    return WooSandbox(options)

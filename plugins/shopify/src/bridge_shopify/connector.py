"""The Shopify plugin: bridge's hook implementations, each delegating to the module that knows.

``connecting`` (describe, OAuth, connect, prerequisites), ``catalog`` (products, inventory),
``orders`` (orders and fulfilments), ``webhooks`` (subscriptions, deliveries), ``sandbox`` (the
emulator of the Admin API).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bridge
from bridge.connection import AppContext, Connection
from bridge.models import (
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
from bridge_shopify import catalog, connecting, orders, refunds, webhooks


@bridge.hookimpl
def describe_platform() -> PlatformInfo:
    return connecting.describe()


@bridge.hookimpl
def authorization_url(app: AppContext, state: str, redirect_uri: str, settings: dict) -> str:
    return connecting.authorization_url(app, state, redirect_uri, settings)


@bridge.hookimpl
def exchange_code(app: AppContext, params: dict, redirect_uri: str) -> list[StoreInfo]:
    return connecting.exchange_code(app, params)


@bridge.hookimpl
def connect(connection: Connection) -> StoreInfo:
    return connecting.connect(connection)


@bridge.hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    return connecting.check_prerequisites(connection)


@bridge.hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    return catalog.list_products(connection, cursor)


@bridge.hookimpl
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    return catalog.get_products(connection, product_ids)


@bridge.hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    return catalog.read_inventory(connection, variant_ids)


@bridge.hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    return orders.list_orders(connection, cursor)


@bridge.hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    return orders.get_orders(connection, order_ids)


@bridge.hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    return orders.find_order(connection, source_order_id)


@bridge.hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    return orders.create_order(connection, draft)


@bridge.hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return orders.cancel_order(connection, order_id, reason)


@bridge.hookimpl
def cancel_order_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    return refunds.cancel_lines(connection, cancel)


@bridge.hookimpl
def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    return refunds.create_refund(connection, refund)


@bridge.hookimpl
def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    return refunds.find_refund(connection, order_id, key)


@bridge.hookimpl
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    return orders.list_fulfillments(connection, order_ids)


@bridge.hookimpl
def register_webhooks(connection: Connection, url: str) -> list[str]:
    return webhooks.register(connection, url)


@bridge.hookimpl
def list_webhooks(connection: Connection) -> list[WebhookSubscription]:
    return webhooks.subscriptions(connection)


@bridge.hookimpl
def delete_webhooks(connection: Connection, ids: list[str]) -> None:
    webhooks.delete(connection, ids)


@bridge.hookimpl
def receive_webhook(app: AppContext, connection: Connection | None,
                    request: WebhookRequest) -> WebhookDelivery:
    return webhooks.receive(app, connection, request)


@bridge.hookimpl
def sandbox(options: dict[str, Any]) -> Any:
    from bridge_shopify.sandbox import ShopifySandbox

    return ShopifySandbox(options)

"""The Magento 2 platform plugin: thin hook implementations over the client modules.

Magento Open Source sends no webhooks, so the platform is polled (``webhooks=False``) and
``check_prerequisites`` says so. Order creation uses ``POST /V1/orders``; see
:mod:`bridge_magento2.orders` for which path and why.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import bridge
from bridge.connection import AppContext, Connection
from bridge.errors import BridgeError, Unsupported
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
    Setting,
    StoreInfo,
    StoreRefund,
    WebhookRequest,
)
from bridge_magento2 import activation, refunds
from bridge_magento2.catalog import CatalogReader
from bridge_magento2.client import DISPLAY, PLATFORM, MagentoClient
from bridge_magento2.inventory import InventoryReader
from bridge_magento2.orders import Orders
from bridge_magento2.search import Criteria
from bridge_magento2.store import facts as store_facts
from bridge_magento2.store import store_info


@bridge.hookimpl
def describe_platform() -> PlatformInfo:
    return PlatformInfo(
        name=PLATFORM, kind="ecommerce", display_name=DISPLAY,
        settings=[
            Setting(name="store_url", type="url",
                    help="the store's URL, e.g. https://shop.example.com (not needed with --base-url)", secret=False),
            Setting(name="store_code", default="default",
                    help="store view code whose names, prices and stock bridge reads", secret=False),
            Setting(name="auth_mode", type="choice", choices=["oauth1", "bearer"], default="oauth1",
                    help="oauth1: sign with the integration's four values (default since 2.4.4); "
                         "bearer: access token only, where the store allows it", secret=False),
            Setting(name="consumer_key", secret=True, help="integration consumer key"),
            Setting(name="consumer_secret", secret=True, help="integration consumer secret"),
            Setting(name="access_token", secret=True, required=True, help="integration access token"),
            Setting(name="access_token_secret", secret=True, help="integration access token secret"),
            Setting(name="payment_method", default="checkmo",
                    help="payment method code recorded on TikTok orders (an enabled offline method)", secret=False),
            Setting(name="shipping_method", default="flatrate_flatrate",
                    help="shipping method recorded on TikTok orders (carrier_method)", secret=False),
            Setting(name="page_size", type="int", default=300, help="items per page (at most 300)", secret=False),
        ],
        connect_methods=["credentials", "callback"], webhooks=False,
        docs_url="https://developer.adobe.com/commerce/webapi/rest/",
    )


# --------------------------------------------------------------------------- connecting


@bridge.hookimpl
def app_callback(app: AppContext, name: str, request: WebhookRequest) -> CallbackResult:
    if name != "activate":
        raise Unsupported(PLATFORM, f"callback '{name}'")
    return activation.activate(app, request)


@bridge.hookimpl
def connect(connection: Connection) -> StoreInfo:
    return store_info(connection)


@bridge.hookimpl
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    client = MagentoClient(connection)
    facts = store_facts(connection, client)
    items = [
        Prerequisite(key="polling", title="change detection (polled)", ok=True, blocking=False,
                     detail="Magento sends no webhooks: bridge polls products, stock, orders and shipments "
                            "on each flow's interval"),
        Prerequisite(key="inventory", title="inventory source", ok=True, blocking=False, flows=["inventory"],
                     detail=(f"Multi-Source Inventory: salable quantity of stock {facts.get('stock_id')} "
                             f"(website {facts.get('website_code')})" if facts.get("msi")
                             else "MSI is disabled: quantities come from the legacy default stock items")),
    ]
    for key, title, resource, flows in (("orders_api", "orders readable", "orders", ["orders", "tracking"]),
                                         ("shipments_api", "shipments readable", "shipments", ["tracking"])):
        try:
            client.get(resource, Criteria(page_size=1).params(1))
            items.append(Prerequisite(key=key, title=title, ok=True, flows=flows))
        except BridgeError as exc:
            items.append(Prerequisite(key=key, title=title, ok=False, detail=str(exc), flows=flows,
                                      fix="System > Extensions > Integrations: give the integration "
                                          "access to Sales > Operations (orders, shipments)"))
    return items


# --------------------------------------------------------------------------- catalog


@bridge.hookimpl
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    return CatalogReader(connection).stream(cursor)


@bridge.hookimpl
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    return CatalogReader(connection).by_ids(product_ids)


@bridge.hookimpl
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    reader = InventoryReader(connection)
    return reader.everything() if variant_ids is None else reader.by_variant_ids(variant_ids)


# --------------------------------------------------------------------------- orders


@bridge.hookimpl
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    return Orders(connection).stream(cursor)


@bridge.hookimpl
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    return Orders(connection).get(order_ids)


@bridge.hookimpl
def find_order(connection: Connection, source_order_id: str) -> str | None:
    return Orders(connection).find(source_order_id)


@bridge.hookimpl
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    return Orders(connection).create(draft)


@bridge.hookimpl
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    return Orders(connection).cancel(order_id, reason)


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
    return Orders(connection).fulfillments(order_ids)


# --------------------------------------------------------------------------- sandbox


@bridge.hookimpl
def sandbox(options: dict[str, Any]) -> Any:
    from bridge_magento2.sandbox import MagentoSandbox

    return MagentoSandbox.from_options(options)

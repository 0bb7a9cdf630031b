"""Typed calls from the core to the plugins: one method per hook of :mod:`bridge.hookspecs`.

The flows read ``channel.create_listing(listing)`` instead of ``pm.call(platform,
"create_listing", connection=..., listing=...)`` and get the type the contract promises back.

* :class:`StoreReader` — the read-only operations of one connected store (catalog, inventory,
  categories, orders, fulfilments, statuses). What ``bridge plan`` and a flow's decide step get:
  it has no method that writes, so a plan cannot write by construction.
* :class:`StoreWriter` — a :class:`StoreReader` plus the operations that write (listings,
  quantities, orders, tracking, webhook subscriptions). Only a flow's apply step holds one.
* :class:`PlatformApp` — the operations that need no store (describe, OAuth, app callbacks,
  webhook verification, the sandbox).
* :func:`transform_listing` — the cross-cutting listing transform, chained over every plugin.
* :func:`on_sync_event` — a journal entry told to every listener, one failing listener failing
  no other.

The contract (:mod:`bridge.hookspecs`) owns each signature; the methods here repeat it, minus the
arguments the facade supplies (``connection``, ``app``), so that mypy checks the flows' calls.
``tests/core/test_facade.py`` checks every hook has its method here, with the hook's arguments,
their types and its return type.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from bridge.errors import NeedsReconnect
from bridge.models import (
    Brand,
    CallbackResult,
    Category,
    CategoryAttribute,
    CategoryRules,
    ChannelRefund,
    CreatedOrder,
    ExistingListing,
    Fulfillment,
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
    OrderDraft,
    OrderPage,
    PlatformInfo,
    Prerequisite,
    PriceUpdate,
    Product,
    ProductPage,
    RefundDraft,
    RefundPage,
    ShippingProvider,
    StoreInfo,
    StoreRefund,
    SyncEvent,
    TrackingPush,
    TrackingResult,
    WebhookDelivery,
    WebhookRequest,
    WebhookSubscription,
)

if TYPE_CHECKING:
    from bridge.connection import Connection
    from bridge.plugins import PluginManager
    from bridge.tables import Store


class StoreReader:
    """The read-only platform operations of one store, typed."""

    def __init__(self, pm: PluginManager, store: Store) -> None:
        self.pm = pm
        self.store = store
        self.platform = store.platform

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.platform} store {self.store.id})"

    def has(self, operation: str) -> bool:
        """True when the store's platform implements ``operation`` (a capability)."""
        return self.pm.has(self.platform, operation)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        """Call ``operation`` with the store's connection; a :class:`NeedsReconnect` is tagged
        with the store it came from (``store_id``)."""
        from bridge.stores import connection_for

        try:
            return self.pm.call(self.platform, operation,
                                connection=connection_for(self.store, self.pm), **kwargs)
        except NeedsReconnect as exc:
            exc.store_id = self.store.id
            raise

    def _stream(self, operation: str, **kwargs: Any) -> Iterator[Any]:
        """A streaming operation whose :class:`NeedsReconnect`, raised while it is read (after
        the call itself returned), is tagged with the store too: only that store is judged."""
        try:
            yield from self._call(operation, **kwargs)
        except NeedsReconnect as exc:
            exc.store_id = self.store.id
            raise

    # ------------------------------------------------------------------ connecting

    def connect(self) -> StoreInfo:
        return self._call("connect")

    def list_webhooks(self) -> list[WebhookSubscription]:
        return list(self._call("list_webhooks"))

    def check_prerequisites(self) -> list[Prerequisite]:
        return list(self._call("check_prerequisites"))

    # ------------------------------------------------------------------ catalog, inventory

    def list_products(self, cursor: str | None) -> Iterator[ProductPage]:
        return self._stream("list_products", cursor=cursor)

    def get_products(self, product_ids: list[str]) -> list[Product]:
        return list(self._call("get_products", product_ids=product_ids))

    def read_inventory(self, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
        return self._stream("read_inventory", variant_ids=variant_ids)

    # ------------------------------------------------------------------ categories

    def list_categories(self) -> list[Category]:
        return list(self._call("list_categories"))

    def category_attributes(self, category_id: str) -> list[CategoryAttribute]:
        return list(self._call("category_attributes", category_id=category_id))

    def category_rules(self, category_id: str) -> CategoryRules:
        return self._call("category_rules", category_id=category_id)

    def recommend_category(self, title: str, description: str) -> Category | None:
        return self._call("recommend_category", title=title,
                          description=description)

    def list_brands(self, category_id: str | None) -> list[Brand]:
        return list(self._call("list_brands", category_id=category_id))

    # ------------------------------------------------------------------ listings

    def find_listings(self, seller_skus: list[str]) -> list[ExistingListing]:
        return list(self._call("find_listings", seller_skus=seller_skus))

    def scan_listings(self) -> Iterator[ListingIndexPage]:
        return self._stream("scan_listings")

    def check_listing(self, listing: Listing, dry_run: bool) -> ListingCheck:
        return self._call("check_listing", listing=listing,
                          dry_run=dry_run)

    def listing_status(self, remote_product_ids: list[str]) -> list[ListingResult]:
        return list(self._call("listing_status", remote_product_ids=remote_product_ids))

    # ------------------------------------------------------------------ orders, fulfilment

    def list_orders(self, cursor: str | None) -> Iterator[OrderPage]:
        return self._stream("list_orders", cursor=cursor)

    def get_orders(self, order_ids: list[str]) -> list[Order]:
        return list(self._call("get_orders", order_ids=order_ids))

    def find_order(self, source_order_id: str) -> str | None:
        return self._call("find_order",
                          source_order_id=source_order_id)

    def list_refunds(self, cursor: str | None) -> Iterator[RefundPage]:
        return self._stream("list_refunds", cursor=cursor)

    def get_refunds(self, order_ids: list[str]) -> list[ChannelRefund]:
        return list(self._call("get_refunds", order_ids=order_ids))

    def find_refund(self, order_id: str, key: str) -> StoreRefund | None:
        return self._call("find_refund", order_id=order_id, key=key)

    def list_fulfillments(self, order_ids: list[str]) -> list[Fulfillment]:
        return list(self._call("list_fulfillments", order_ids=order_ids))

    def shipping_providers(self, order_id: str | None) -> list[ShippingProvider]:
        return list(self._call("shipping_providers", order_id=order_id))


class StoreWriter(StoreReader):
    """A :class:`StoreReader` plus the operations that change the platform."""

    def update_inventory(self, updates: list[InventoryUpdate]) -> list[ItemResult]:
        return list(self._call("update_inventory", updates=updates))

    def create_listing(self, listing: Listing) -> ListingResult:
        return self._call("create_listing", listing=listing)

    def update_listing(self, listing: Listing) -> ListingResult:
        return self._call("update_listing", listing=listing)

    def partial_edit_listing(self, listing: Listing, parts: list[str]) -> ListingResult:
        return self._call("partial_edit_listing", listing=listing,
                          parts=parts)

    def update_prices(self, updates: list[PriceUpdate]) -> list[ItemResult]:
        return list(self._call("update_prices", updates=updates))

    def activate_listing(self, remote_product_id: str) -> ListingResult:
        return self._call("activate_listing",
                          remote_product_id=remote_product_id)

    def deactivate_listing(self, remote_product_id: str) -> ListingResult:
        return self._call("deactivate_listing",
                          remote_product_id=remote_product_id)

    def create_order(self, draft: OrderDraft) -> CreatedOrder:
        return self._call("create_order", draft=draft)

    def cancel_order(self, order_id: str, reason: str) -> bool:
        return bool(self._call("cancel_order", order_id=order_id, reason=reason))

    def cancel_order_lines(self, cancel: LineCancel) -> LineCancelResult:
        return self._call("cancel_order_lines", cancel=cancel)

    def create_refund(self, refund: RefundDraft) -> StoreRefund:
        return self._call("create_refund", refund=refund)

    def push_tracking(self, push: TrackingPush) -> TrackingResult:
        return self._call("push_tracking", push=push)

    def register_webhooks(self, url: str) -> list[str]:
        return list(self._call("register_webhooks", url=url))

    def delete_webhooks(self, ids: list[str]) -> None:
        self._call("delete_webhooks", ids=ids)


class PlatformApp:
    """The operations of a platform that need no connected store."""

    def __init__(self, pm: PluginManager, platform: str) -> None:
        self.pm = pm
        self.platform = platform

    def has(self, operation: str) -> bool:
        return self.pm.has(self.platform, operation)

    def _app(self) -> Any:
        from bridge.stores import app_context

        return app_context(self.platform, self.pm)

    def describe_platform(self) -> PlatformInfo:
        return self.pm.info(self.platform)

    def authorization_url(self, state: str, redirect_uri: str, settings: dict[str, Any]) -> str:
        return str(self.pm.call(self.platform, "authorization_url", app=self._app(), state=state,
                                redirect_uri=redirect_uri, settings=settings))

    def exchange_code(self, params: dict[str, Any], redirect_uri: str) -> list[StoreInfo]:
        return list(self.pm.call(self.platform, "exchange_code", app=self._app(), params=params,
                                 redirect_uri=redirect_uri))

    def app_callback(self, name: str, request: WebhookRequest) -> CallbackResult:
        return self.pm.call(self.platform, "app_callback",
                            app=self._app(), name=name, request=request)

    def receive_webhook(self, connection: Connection | None, request: WebhookRequest) -> WebhookDelivery:
        return self.pm.call(self.platform, "receive_webhook",
                            app=self._app(), connection=connection, request=request)

    def sandbox(self, options: dict[str, Any]) -> Any:
        return self.pm.call(self.platform, "sandbox", options=options)


def transform_listing(pm: PluginManager, listing: Listing, product: Product, store: Store) -> Listing:
    """Pass ``listing`` through every plugin's ``transform_listing`` in turn, in pluggy's call
    order (last registered first, ``tryfirst``/``trylast`` honoured): each gets the previous
    one's result (None keeps it as it is); the last result is what is sent. Wrappers of this
    hook are not called (a transform has nothing to wrap)."""
    args = {"listing": listing, "product": product, "store": store}
    for impl in reversed(pm.hook.transform_listing.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        args["listing"] = listing
        out = impl.function(*(args[name] for name in impl.argnames))
        if out is not None:
            listing = out
    return listing


log = logging.getLogger("bridge.facade")


def on_sync_event(pm: PluginManager, event: SyncEvent) -> None:
    """Tell every plugin's ``on_sync_event`` about ``event``, each called on its own: one that
    raises is logged and the others still hear of it (pluggy's own call stops at the first
    error). Wrappers of this hook are not called (a listener has nothing to wrap)."""
    for impl in reversed(pm.hook.on_sync_event.get_hookimpls()):
        if impl.hookwrapper or impl.wrapper:
            continue
        try:
            impl.function(*({"event": event}[name] for name in impl.argnames))
        except Exception:  # a listener must never break a flow, nor the other listeners
            log.exception("the on_sync_event listener of %s failed", impl.plugin_name)

"""THE plugin contract: every hook bridge calls, documented.

A platform plugin is a module registered in the entry-point group ``bridge``; it implements the
hooks below with ``@bridge.hookimpl``. Every hook argument is optional for the implementation
(pluggy passes only the arguments a hook implementation names), so the contract grows by adding
arguments, never by removing them.

How hooks are called:

* **Platform operations** (describe, connect, catalog, inventory, listings, orders, fulfilment,
  webhooks, prerequisites) reach only the plugin of the store's platform, plus any wrapper
  (``@hookimpl(wrapper=True)``) that another plugin installs for metrics, audit or overrides.
  The core calls them through the typed facade (:mod:`bridge.facade`, one method per hook, over
  :meth:`bridge.plugins.PluginManager.call`); they stop at the first
  non-None result. A platform's *capabilities* are the operations it implements; calling one it
  lacks raises :class:`bridge.errors.Unsupported` naming both.
* **Cross-cutting hooks** (``transform_listing``, ``on_sync_event``, ``register_commands``,
  ``register_routes``) reach every plugin.

Every platform operation receives ``connection`` (:class:`bridge.connection.Connection`): the
store's settings and decrypted credentials, the bridge-wide app settings of the platform, a
persistent per-store key-value ``state``, ``http_client()`` (the one HTTP layer of bridge: reuse,
timeouts, retries honouring Retry-After, per-store rate limits, redacted logs) and
``save_credentials()`` to keep refreshed tokens.

Errors: raise only the kinds in :mod:`bridge.errors` — ``NeedsReconnect`` (auth revoked, refresh
failed), ``RateLimited`` (with ``retry_after``), ``Transient`` (network, 5xx), ``Rejected`` (this
item refused: keep the platform's code, message and request id), ``Misconfigured``. Never sleep
or retry yourself beyond the shared HTTP layer.

Streaming: hooks that return ``Iterator`` must yield page by page so memory does not grow with
catalog size.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:  # pragma: no cover - typing only
    import click

    from bridge.connection import AppContext, Connection
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
    from bridge.tables import Store

PROJECT = "bridge"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: Hooks that are platform operations (dispatched to one platform). Order is documentation order.
OPERATIONS: tuple[str, ...] = (
    "describe_platform",
    "authorization_url",
    "exchange_code",
    "app_callback",
    "connect",
    "check_prerequisites",
    "list_products",
    "get_products",
    "read_inventory",
    "update_inventory",
    "list_categories",
    "category_attributes",
    "category_rules",
    "recommend_category",
    "list_brands",
    "find_listings",
    "scan_listings",
    "check_listing",
    "create_listing",
    "update_listing",
    "partial_edit_listing",
    "update_prices",
    "activate_listing",
    "deactivate_listing",
    "listing_status",
    "list_orders",
    "get_orders",
    "create_order",
    "find_order",
    "cancel_order",
    "cancel_order_lines",
    "list_refunds",
    "get_refunds",
    "create_refund",
    "find_refund",
    "list_fulfillments",
    "shipping_providers",
    "push_tracking",
    "register_webhooks",
    "list_webhooks",
    "delete_webhooks",
    "receive_webhook",
    "sandbox",
)

#: Operations that are not capabilities but facts every plugin must provide.
REQUIRED: tuple[str, ...] = ("describe_platform", "connect")


# =========================================================================== describing


@hookspec(firstresult=True)
def describe_platform() -> PlatformInfo:
    """Describe the platform this plugin connects: name, kind, settings, app settings.

    Called once at load time; must be fast and make no network call.

    :returns: :class:`~bridge.models.PlatformInfo` — ``name`` (lower-case, the entry point's
        name), ``kind`` (``"ecommerce"`` or ``"channel"``), ``display_name``, ``settings`` (what
        one connection needs, with ``secret=True`` for keys and tokens: they become options of
        ``bridge connect`` and may come from an environment variable or a hidden prompt),
        ``app_settings`` (bridge-wide, e.g. an OAuth app's key and secret), ``connect_methods``,
        ``webhooks`` (False: the platform is polled) and, for a channel, ``markets``
        (:class:`~bridge.models.Markets`: the markets its stores may sell in, those on its
        waitlist, the base regions of cross-border sellers it takes; the core enforces them at
        connect time and checks nothing when a channel declares none).
    """


# =========================================================================== connecting


@hookspec(firstresult=True)
def authorization_url(app: AppContext, state: str, redirect_uri: str, settings: dict) -> str:
    """Return the URL to send the user to so they authorize bridge (OAuth).

    :param app: bridge-wide app settings of the platform (client id/secret) and the HTTP layer.
    :param state: an unguessable value the core verifies on the callback; put it in the URL.
    :param redirect_uri: where the platform must send the user back.
    :param settings: what the user typed before (e.g. a shop domain, a region).
    :raises Misconfigured: the app settings are missing.
    """


@hookspec(firstresult=True)
def exchange_code(app: AppContext, params: dict, redirect_uri: str) -> list[StoreInfo]:
    """Complete an OAuth callback: verify it, exchange the code for tokens.

    :param params: the callback's query parameters, exactly as received (``state`` has already
        been checked by the core; verify the platform's own signature, e.g. Shopify's ``hmac``).
    :returns: one :class:`~bridge.models.StoreInfo` per store the authorization covers (TikTok
        Shop authorizes several shops at once), each with ``credentials`` to keep.
    :raises NeedsReconnect: the code is invalid or expired. :raises Rejected: bad signature.
    """


@hookspec(firstresult=True)
def app_callback(app: AppContext, name: str, request: WebhookRequest) -> CallbackResult:
    """Handle a platform's app callback other than OAuth (keys handed over, install/load/
    uninstall with a signed payload, integration activation).

    The admin pages route ``/callbacks/<platform>/<name>`` here, knowing no platform.

    :param name: the callback's name as the plugin chose it in its URLs (e.g. ``"keys"``,
        ``"load"``, ``"activate"``).

    A callback that is the end of a flow bridge started carries ``?state=`` in its address: the
    core checks it before calling this hook; a plugin whose callback can only come from such a
    flow refuses one without a state *before any request*, and passes any address taken from
    the request through :func:`bridge.outbound.check_base_url`. Stores handed over without a
    state (an install started on the platform's side) wait for the signed-in user to choose
    their organization.

    :returns: the stores it connected or uninstalled, and what to answer.
    :raises WebhookRejected: the payload's signature is wrong.
    """


@hookspec(firstresult=True)
def connect(connection: Connection) -> StoreInfo:
    """Validate the connection's settings and credentials against the platform.

    Called by ``bridge connect PLATFORM`` with given credentials, and again by ``bridge doctor``.
    Must make at least one authenticated call so bad credentials fail here, not later.

    :returns: :class:`~bridge.models.StoreInfo` with the remote id, name, domain, currency,
        region and timezone; ``credentials``/``settings`` to keep if the plugin derived any
        (e.g. a token for a client-credentials grant); ``warnings`` for the user.
    :raises NeedsReconnect: the credentials are refused. :raises Misconfigured: bad URL/settings.
    """


@hookspec(firstresult=True)
def check_prerequisites(connection: Connection) -> list[Prerequisite]:
    """Report what must be set up on the platform before flows can run.

    Shown at connect time and by ``bridge doctor``. Each item says what is wrong and how to fix
    it where the platform's UI lives. A blocking item stops the flows it names. Read-only.
    """


# =========================================================================== catalog (eCommerce)


@hookspec(firstresult=True)
def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """Stream the catalog page by page.

    :param cursor: ``None`` for everything, else a cursor this plugin returned before. A cursor
        from the middle of a stream resumes after that page; the last page's cursor, kept by the
        core, makes the next call incremental (only products changed since).
    :returns: an iterator of :class:`~bridge.models.ProductPage`; never hold the whole catalog.
        Deleted products may be yielded with ``status="deleted"``. Read-only.
    """


@hookspec(firstresult=True)
def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    """Read the given products (after a webhook names them). Missing ones are left out."""


@hookspec(firstresult=True)
def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """Stream available quantities.

    eCommerce: per variant (``None``: every variant), at the locations the store's settings
    choose, summed. Channel: per SKU of bridge's listings. Read-only.
    """


@hookspec(firstresult=True)
def update_inventory(connection: Connection, updates: list[InventoryUpdate]) -> list[ItemResult]:
    """Set absolute quantities on the channel, batched as the platform allows (e.g. one call per
    product with all its SKUs).

    Idempotent: setting the same quantity twice changes nothing. Returns one
    :class:`~bridge.models.ItemResult` per update (``key`` = ``sku_id``); a batch call answered
    OK with failed items must report those items as failed.
    """


# =========================================================================== categories (channel)


@hookspec(firstresult=True)
def list_categories(connection: Connection) -> list[Category]:
    """The channel's category tree, flattened (each with ``parent_id``, ``is_leaf``, ``path``).
    Plugins may cache it in ``connection.state``."""


@hookspec(firstresult=True)
def category_attributes(connection: Connection, category_id: str) -> list[CategoryAttribute]:
    """Attributes of a leaf category: required ones, allowed values, custom values allowed,
    sales attributes."""


@hookspec(firstresult=True)
def category_rules(connection: Connection, category_id: str) -> CategoryRules:
    """What a category demands beyond attributes (brand, package dimensions, size chart)."""


@hookspec(firstresult=True)
def recommend_category(connection: Connection, title: str, description: str) -> Category | None:
    """The channel's recommended leaf category for a product title, or None."""


@hookspec(firstresult=True)
def list_brands(connection: Connection, category_id: str | None) -> list[Brand]:
    """Brands usable in a category (``None``: all the shop may use), with ``authorized``
    telling whether the seller may list under each. Read-only; plugins may cache it."""


# =========================================================================== listings (channel)


@hookspec(firstresult=True)
def find_listings(connection: Connection, seller_skus: list[str]) -> list[ExistingListing]:
    """Products already on the channel with these seller SKUs, so they are linked, not listed
    again. Read-only."""


@hookspec(firstresult=True)
def scan_listings(connection: Connection) -> Iterator[ListingIndexPage]:
    """Every product on the channel store, page by page (as many a page as the platform
    allows), each as its SKUs' :class:`~bridge.models.ExistingListing` entries.

    The core uses it instead of :func:`find_listings` when the store holds fewer products than
    the SKU searches would cost (an initial sync into an empty or small shop): each page's
    ``total`` tells the size of the store, and the core stops reading when a scan would cost
    more than the searches. Deleted products are left out. Read-only.
    """


@hookspec(firstresult=True)
def check_listing(connection: Connection, listing: Listing, dry_run: bool) -> ListingCheck:
    """Ask the channel whether it would take ``listing`` as a new product, without creating it.

    Called before :func:`create_listing`, so a listing the channel would refuse is held with the
    channel's reasons before anything is created, and by ``bridge plan products``.
    :param dry_run: the caller writes nothing (a plan): do not upload images or write anything;
        answer ``checked=False`` if the check cannot be made without a write.
    :returns: :class:`~bridge.models.ListingCheck`; ``ok=False`` with the reasons to show.
    """


@hookspec(firstresult=True)
def create_listing(connection: Connection, listing: Listing) -> ListingResult:
    """Create a product with its SKUs (uploading images as needed, once per image).

    The core calls this only when it holds no link for the source product, and records the link
    at once; the plugin should still refuse to create a product whose seller SKUs already exist.
    :raises Rejected: the platform refused the product (keep its code and message).
    """


@hookspec(firstresult=True)
def update_listing(connection: Connection, listing: Listing) -> ListingResult:
    """Update ``listing.remote_product_id`` to match ``listing`` (SKU ids in
    ``ListingSku.remote_sku_id``) as a whole: the core calls it when SKUs were added or removed.

    Must not blank what the channel holds and the listing does not say (brand, certifications,
    size chart, video set on the channel): read the product, change it, send it all back. Must
    not put a product the seller took off sale back on sale. Idempotent.
    :raises Rejected: refused (code ``FROZEN`` or ``DELETED`` when the channel's own status
    forbids edits, with its reason).
    """


@hookspec(firstresult=True)
def partial_edit_listing(connection: Connection, listing: Listing, parts: list[str]) -> ListingResult:
    """Change only ``parts`` of a product (names from :data:`bridge.models.LISTING_PARTS`:
    title, description, images, attributes, package, brand, size_chart, certifications,
    category), leaving everything else as the channel holds it. The SKU set is unchanged.

    :raises Rejected: refused (codes ``FROZEN`` / ``DELETED`` as for :func:`update_listing`).
    """


@hookspec(firstresult=True)
def update_prices(connection: Connection, updates: list[PriceUpdate]) -> list[ItemResult]:
    """Set SKU prices without touching anything else (live at once, no new review), batched
    as the platform allows (e.g. one call per product with all its SKUs).

    Idempotent. Returns one :class:`~bridge.models.ItemResult` per update (``key`` =
    ``sku_id``); an item refused because a running promotion locks its price has code
    ``PRICE_LOCKED``, because the product is not on sale ``NOT_LIVE``, because the channel froze
    or deleted it ``FROZEN`` / ``DELETED``.
    """


@hookspec(firstresult=True)
def activate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    """Put a product the seller took off sale back on sale (it may go through review first:
    the returned status says). Idempotent: activating a live product is a no-op.
    :raises Rejected: the channel refuses (e.g. it froze the product: code ``FROZEN``)."""


@hookspec(firstresult=True)
def deactivate_listing(connection: Connection, remote_product_id: str) -> ListingResult:
    """Take a product off sale (not deleted). Idempotent: deactivating twice is a no-op."""


@hookspec(firstresult=True)
def listing_status(connection: Connection, remote_product_ids: list[str]) -> list[ListingResult]:
    """Current status of products (draft, pending, live, failed with reasons). Read-only."""


# =========================================================================== orders


@hookspec(firstresult=True)
def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """Stream orders updated since ``cursor`` (``None``: a platform-chosen recent window).

    Channel: every status (the core decides what to hand on; ``released`` tells whether the
    on-hold window has passed, ``fulfilled_by`` who ships). eCommerce: orders created by bridge's
    source, for cancellations. Read-only.
    """


@hookspec(firstresult=True)
def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    """Read the given orders. Missing ones are left out. Read-only."""


@hookspec(firstresult=True)
def find_order(connection: Connection, source_order_id: str) -> str | None:
    """eCommerce: the id of an order already carrying this channel order id (created by bridge
    or by another app), or None. Read-only."""


@hookspec(firstresult=True)
def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """eCommerce: create an order for a channel order, with the prices the channel charged.

    Must be idempotent: look up an order carrying ``draft.source_order_id`` first and return it
    with ``existed=True``. The created order carries the source order id where the platform lets
    it (metadata, external id, tags) so that lookup finds it after a crash.
    :raises Rejected: the platform refused it (e.g. unknown variant).
    """


@hookspec(firstresult=True)
def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    """Cancel an order (restocking where the platform does). Idempotent: cancelling a cancelled
    order returns False and changes nothing; True when this call cancelled it.
    :raises Rejected: it cannot be cancelled any more (e.g. shipped)."""


@hookspec(firstresult=True)
def cancel_order_lines(connection: Connection, cancel: LineCancel) -> LineCancelResult:
    """Cancel some units of an order that goes on, before fulfilment.

    Channel: ``cancel.lines[].line_ids`` name the channel's order line ids (e.g. a TikTok
    cancellation with ``order_line_item_ids``). eCommerce: ``cancel.lines`` name store variants
    and quantities; the store order changes for those units as the platform allows (an order
    edit, or a refund recorded without moving money, restocking when ``cancel.restock``).
    Carries ``cancel.key`` where the platform keeps a note, so that :func:`find_refund` finds it.
    :raises Rejected: the lines cannot be cancelled (shipped, unknown, market without item-level
        cancellation); keep the platform's code and message.
    """


# =========================================================================== returns and refunds


@hookspec(firstresult=True)
def list_refunds(connection: Connection, cursor: str | None) -> Iterator[RefundPage]:
    """Channel: stream returns, refunds and cancellations updated since ``cursor`` (``None``: a
    platform-chosen recent window), page by page, oldest change first.

    Each :class:`~bridge.models.ChannelRefund` carries its lines (channel line ids, SKU ids,
    amounts), the shipping and total refunded, a normalised ``status`` (``completed`` once the
    buyer has been paid back) and the platform's own spelling in ``raw_status``. Read-only.
    """


@hookspec(firstresult=True)
def get_refunds(connection: Connection, order_ids: list[str]) -> list[ChannelRefund]:
    """Channel: every return, refund and cancellation of these orders (after a webhook names
    them). Read-only."""


@hookspec(firstresult=True)
def create_refund(connection: Connection, refund: RefundDraft) -> StoreRefund:
    """eCommerce: record a refund the channel has already paid out on a store order.

    Never moves money through a payment gateway (offline / external / record-only methods).
    Refunds ``refund.lines`` (store variants, quantities, amounts), ``refund.shipping``, for
    ``refund.total`` in all; restocks the units when ``refund.restock``; stores ``refund.key``
    with the refund (note, reason, comment or meta field) so :func:`find_refund` finds it.
    Not idempotent by itself: the core calls :func:`find_refund` after an unknown outcome.
    :raises Rejected: the order is missing, the lines are already refunded, the amount is above
        what is left to refund (code and message kept; nothing half-written).
    """


@hookspec(firstresult=True)
def find_refund(connection: Connection, order_id: str, key: str) -> StoreRefund | None:
    """eCommerce: the refund (or line cancellation) carrying bridge's ``key`` on the store order
    ``order_id``, or None. Read-only."""


# =========================================================================== fulfilment


@hookspec(firstresult=True)
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """eCommerce: fulfilments of these orders with their tracking numbers and carriers. Read-only.
    :raises Misconfigured: tracking cannot be read at all (e.g. no tracking plugin)."""


@hookspec(firstresult=True)
def shipping_providers(connection: Connection, order_id: str | None) -> list[ShippingProvider]:
    """Channel: shipping providers usable for an order's delivery option (None: all)."""


@hookspec(firstresult=True)
def push_tracking(connection: Connection, push: TrackingPush) -> TrackingResult:
    """Channel: give a package its tracking number and provider, marking it shipped.

    Idempotent: the same tracking number on the same package again is a no-op
    (``pushed=False``). :raises Rejected: refused (e.g. unknown provider, order cancelled).
    """


# =========================================================================== webhooks


@hookspec(firstresult=True)
def register_webhooks(connection: Connection, url: str) -> list[str]:
    """Subscribe the store's change notifications to ``url``; returns the subscription ids.
    Idempotent: existing subscriptions to the same URL are kept, not duplicated (re-activated
    where the platform disabled them). Secrets the verification needs go to
    ``connection.save_credentials``. The core calls it only with an address the platform can
    reach (:mod:`bridge.subscriptions` decides), on connect, at ``bridge run`` start and daily."""


@hookspec(firstresult=True)
def list_webhooks(connection: Connection) -> list[WebhookSubscription]:
    """Every change-notification subscription the platform holds for this store and this app's
    credentials (all addresses, all topics, disabled ones with ``active=False``), read from the
    platform — never from memory. Topics are spelled as in
    :attr:`~bridge.models.PlatformInfo.webhook_topics`. The core compares them with what the
    flows need (``bridge doctor``, the daily reconcile)."""


@hookspec(firstresult=True)
def delete_webhooks(connection: Connection, ids: list[str]) -> None:
    """Remove the subscriptions with these ids (as :func:`list_webhooks` returned them). One that
    is already gone is not an error. The core calls it for subscriptions bridge made whose
    address or topic is no longer wanted, and for all of them on disconnect, before the
    credentials are dropped."""


@hookspec(firstresult=True)
def receive_webhook(
    app: AppContext, connection: Connection | None, request: WebhookRequest
) -> WebhookDelivery:
    """Verify a delivery's signature over the raw body, then parse it.

    ``connection`` is the store the delivery's URL names, or None for app-wide endpoints (then
    return ``store_remote_id`` so the core finds the store). Verify before parsing any JSON.
    :raises WebhookRejected: bad or missing signature.
    """


# =========================================================================== sandbox


@hookspec(firstresult=True)
def sandbox(options: dict[str, Any]) -> Any:
    """An emulator of the platform's API, built on the sandbox kit: an object with an ``app``
    (ASGI application wrapped by its :class:`bridge.sandboxing.SandboxKit`, so faults, latency,
    statistics and the control API under ``/_sandbox`` are the kit's), a ``kit`` attribute,
    ``reset()``, ``subscriptions()`` and the methods of :class:`bridge.sandboxing.EcommerceSandbox`
    or :class:`~bridge.sandboxing.ChannelSandbox`. ``bridge sandbox PLATFORM --port N`` serves it;
    ``bridge sandbox-ctl PLATFORM --url URL ...`` drives it.

    :param options: ``seed`` (products to seed), ``variants`` (per product), ``latency_ms``,
        ``seed_random`` and platform-specific options.
    """


# =========================================================================== cross-cutting


@hookspec
def transform_listing(listing: Listing, product: Product, store: Store) -> Listing | None:
    """Change a listing before it is sent to a channel store.

    Chained: called for every plugin in turn (pluggy's order: the plugin registered last first,
    ``tryfirst``/``trylast`` honoured), each getting the listing as the previous one left it;
    return a new :class:`~bridge.models.Listing` to replace it, or None to keep it. What the last
    one returns is sent (and hashed: a transform that changes its output updates the listing).

    :param listing: the listing so far. :param product: the eCommerce product it is built from.
    :param store: the channel store (:class:`bridge.tables.Store`: ``name``, ``region``,
        ``currency``, ``options``) it goes to.
    """


@hookspec
def on_sync_event(event: SyncEvent) -> None:
    """React to something a flow did (notify, audit). Called for every plugin; must be quick and
    must not raise (errors are logged and ignored)."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``bridge`` CLI."""


@hookspec
def register_routes(routes: list) -> None:
    """Append Starlette routes to the admin web app (extra pages, endpoints)."""

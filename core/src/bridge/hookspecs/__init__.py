"""THE plugin contract: every hook bridge calls, documented.

A platform plugin is a module registered in the entry-point group ``bridge``; it implements the
hooks below with ``@bridge.hookimpl``. Every hook argument is optional for the implementation
(pluggy passes only the arguments a hook implementation names), so the contract grows by adding
arguments, never by removing them.

How hooks are called:

* **Platform operations** (every hook of the areas below, ``sandbox`` included, but the four
  cross-cutting ones) reach only the plugin of the store's platform, plus any wrapper
  (``@hookimpl(wrapper=True)``) that another plugin installs for metrics, audit or overrides.
  The core calls them through the typed facade (:mod:`bridge.facade`, one method per hook, over
  :meth:`bridge.plugins.PluginManager.call`); they stop at the first
  non-None result. A platform's *capabilities* are the operations it implements; calling one it
  lacks raises :class:`bridge.errors.Unsupported` naming both.
* **Cross-cutting hooks** (``transform_listing``, ``on_sync_event``, ``register_commands``,
  ``register_routes``) reach every plugin.

Every operation on a store receives ``connection`` (:class:`bridge.connection.Connection`): the
store's settings and decrypted credentials, the bridge-wide app settings of the platform, a
persistent per-store key-value ``state``, ``http_client()`` (the one HTTP layer of bridge: reuse,
timeouts, retries honouring Retry-After, per-store rate limits, redacted logs) and
``save_credentials()`` to keep refreshed tokens. The operations that come before a store or
without one (``authorization_url``, ``exchange_code``, ``app_callback``, ``receive_webhook``)
receive ``app`` (:class:`bridge.connection.AppContext`: the app settings and the HTTP layer);
``describe_platform`` and ``sandbox`` receive neither.

Errors: raise only the kinds in :mod:`bridge.errors` — ``NeedsReconnect`` (auth revoked, refresh
failed), ``RateLimited`` (with ``retry_after``), ``Transient`` (network, 5xx), ``Rejected`` (this
item refused: keep the platform's code, message and request id), ``Misconfigured``, and
``WebhookRejected`` (a delivery or callback whose signature is wrong or missing). Never sleep or
retry yourself beyond the shared HTTP layer.

Streaming: hooks that return ``Iterator`` must yield page by page so memory does not grow with
catalog size.

Where each hook lives — one module per area, in the order a connector is usually written:

* :mod:`bridge.hookspecs.describing` — what the plugin says about its platform.
* :mod:`bridge.hookspecs.connecting` — OAuth, app callbacks, connect, prerequisites.
* :mod:`bridge.hookspecs.catalog` — eCommerce products; stock on both sides.
* :mod:`bridge.hookspecs.categories` — a channel's categories and brands.
* :mod:`bridge.hookspecs.listings` — a channel's products, prices and statuses.
* :mod:`bridge.hookspecs.orders` — reading, creating and cancelling orders.
* :mod:`bridge.hookspecs.refunds` — returns and refunds.
* :mod:`bridge.hookspecs.fulfilment` — fulfilments, shipping providers, tracking.
* :mod:`bridge.hookspecs.webhooks` — change-notification subscriptions and deliveries.
* :mod:`bridge.hookspecs.extending` — the sandbox, and the cross-cutting hooks.

Every hook is also an attribute of this package (``from bridge.hookspecs import connect``), which
is what ``pluggy.PluginManager.add_hookspecs(bridge.hookspecs)`` reads.
"""

from __future__ import annotations

import inspect
from types import ModuleType
from typing import Any

from bridge.hookspecs import (
    catalog,
    categories,
    connecting,
    describing,
    extending,
    fulfilment,
    listings,
    orders,
    refunds,
    webhooks,
)

# Every hook is an attribute of the package (re-exported, hence no use here): what
# ``add_hookspecs(bridge.hookspecs)`` reads; tests/core/test_docs.py checks none is missing.
from bridge.hookspecs.catalog import get_products, list_products, read_inventory, update_inventory
from bridge.hookspecs.categories import (
    category_attributes,
    category_rules,
    list_brands,
    list_categories,
    recommend_category,
)
from bridge.hookspecs.connecting import (
    app_callback,
    authorization_url,
    check_prerequisites,
    connect,
    exchange_code,
)
from bridge.hookspecs.describing import describe_platform
from bridge.hookspecs.extending import (
    on_sync_event,
    register_commands,
    register_routes,
    sandbox,
    transform_listing,
)
from bridge.hookspecs.fulfilment import list_fulfillments, push_tracking, shipping_providers
from bridge.hookspecs.listings import (
    activate_listing,
    check_listing,
    create_listing,
    deactivate_listing,
    find_listings,
    listing_status,
    partial_edit_listing,
    scan_listings,
    update_listing,
    update_prices,
)
from bridge.hookspecs.markers import PROJECT, hookimpl, hookspec
from bridge.hookspecs.orders import (
    cancel_order,
    cancel_order_lines,
    create_order,
    find_order,
    get_orders,
    list_orders,
)
from bridge.hookspecs.refunds import create_refund, find_refund, get_refunds, list_refunds
from bridge.hookspecs.webhooks import (
    delete_webhooks,
    list_webhooks,
    receive_webhook,
    register_webhooks,
)

#: The areas of the contract, in documentation order.
AREAS: tuple[ModuleType, ...] = (describing, connecting, catalog, categories, listings, orders,
                                 refunds, fulfilment, webhooks, extending)


def specs_of(area: ModuleType) -> dict[str, Any]:
    """The hook specifications an area module declares, by name, in the order it declares them."""
    return {name: fn for name, fn in vars(area).items()
            if inspect.isfunction(fn) and hasattr(fn, f"{PROJECT}_spec")
            and fn.__module__ == area.__name__}


#: Every hook specification, by name, in documentation order.
SPECS: dict[str, Any] = {name: fn for area in AREAS for name, fn in specs_of(area).items()}
#: Every hook's name: a plugin implementing any other is refused (a misspelt hook).
HOOKS: tuple[str, ...] = tuple(SPECS)
#: Hooks that are platform operations (dispatched to one platform, first non-None result), in
#: documentation order; every other hook is cross-cutting and reaches every plugin.
OPERATIONS: tuple[str, ...] = tuple(n for n, fn in SPECS.items() if fn.bridge_spec.get("firstresult"))
#: Operations that are not capabilities but facts every plugin must provide.
REQUIRED: tuple[str, ...] = ("describe_platform", "connect")

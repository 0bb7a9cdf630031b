"""Beyond one store's operations: the platform's sandbox (a platform operation, for tests and
demos), and the cross-cutting hooks that reach every plugin (listing transforms, sync events,
CLI commands, admin routes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    import click

    from bridge.models import Listing, Product, SyncEvent
    from bridge.tables import Store


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
    """React to something a flow did (notify, audit). Called for every plugin, each on its own,
    after the entry is committed; must be quick and should not raise (an error is logged, and the
    other plugins still hear of the event)."""


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add click commands or groups to the ``bridge`` CLI."""


@hookspec
def register_routes(routes: list) -> None:
    """Append Starlette routes to the admin web app (extra pages, endpoints)."""

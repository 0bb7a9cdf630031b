"""The interface every plugin sandbox offers (the ``sandbox`` hook returns one), so the demo, the
end-to-end tests, the benchmarks and the control API drive any platform the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from bridge.models import Order, Tracking

if TYPE_CHECKING:
    from bridge.sandboxing.kit import SandboxKit
    from bridge.sandboxing.stats import RequestStats
    from bridge.sandboxing.webhooks import Subscription


@runtime_checkable
class Sandbox(Protocol):
    """What every sandbox offers. ``app`` is the ASGI app wrapped by its :class:`SandboxKit`
    (faults, latency, control API under ``/_sandbox``); ``kit`` holds that machinery."""

    app: Any
    stats: RequestStats
    kit: SandboxKit

    def reset(self) -> None:
        """Forget everything (catalog, orders, subscriptions, tokens issued); the kit clears
        its faults, latency, statistics and delivery log itself."""

    def subscriptions(self) -> list[Subscription]:
        """The webhook subscriptions the platform holds now (those deliveries go to)."""

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        """The connection settings that point a store at this sandbox served at ``server_url``
        (``base_url`` plus, e.g., a shop domain); credentials come from :meth:`credentials`."""

    def credentials(self) -> dict[str, Any]:
        """Credentials the sandbox accepts, for ``bridge connect`` with given credentials."""

    def app_settings(self) -> dict[str, Any]:
        """The bridge-wide app settings (OAuth client id and secret, app key) it accepts; {} if
        the platform has none."""

    def fail_next(self, count: int, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (platform error shape); the kit's
        :meth:`SandboxKit.fail_next`."""

    def set_latency(self, ms: float) -> None:
        """Add ``ms`` milliseconds to every response; the kit's :meth:`SandboxKit.set_latency`."""


@runtime_checkable
class EcommerceSandbox(Sandbox, Protocol):
    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        """Add ``products`` products with up to ``variants`` variants each; returns their ids.
        Seller SKUs are unique; options named like Size/Colour; prices and stock vary."""

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Change a variant's available quantity (as a merchant would)."""

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        """Fulfil an order with a tracking number; returns the fulfilment id."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order as the merchant would."""

    def orders(self) -> list[Order]:
        """Every order in the store."""

    def quantity(self, sku: str) -> int:
        """A variant's available quantity."""


@runtime_checkable
class ChannelSandbox(Sandbox, Protocol):
    def create_order(self, shop_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        """Place an order in a shop for (seller SKU, quantity) lines; returns its id.
        ``kw``: ``fulfilled_by`` (``"seller"``/``"platform"``), ``released`` (past on-hold)."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order as the buyer or TikTok would."""

    def products(self, shop_id: str) -> list[dict[str, Any]]:
        """The shop's products: dicts with id, title, status and skus (id, seller_sku, price,
        quantity)."""

    def order(self, order_id: str) -> dict[str, Any]:
        """An order with its status and packages (tracking number, provider)."""

    def shops(self) -> list[dict[str, Any]]:
        """The seeded shops: id, cipher, name, region, currency."""



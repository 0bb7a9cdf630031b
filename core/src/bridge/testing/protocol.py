"""What the connector test kit asks of a plugin's sandbox, beyond :mod:`bridge.sandboxing`.

The kit reads the sandbox's own state (not what the connector says of it) and drives it the way
a merchant, a buyer or the platform would. Every method here is plain Python on the object the
``sandbox`` hook returns; the control API of ``bridge sandbox`` (``/_sandbox/...``) serves the same
acts over HTTP. A sandbox that lacks a method makes the checks that need it *skip* with the
method's name, so a missing piece is visible, never a silent pass.

Faults are injected through the sandbox kit (:class:`bridge.sandboxing.SandboxKit`, the
sandbox's ``kit`` attribute): ``kit.fail_next(count, status, retry_after=...)`` answers the next
``count`` requests with ``status`` in the platform's error shape (``Retry-After`` when given),
and ``kit.faults.clear()`` withdraws what is left.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from bridge.models import Order, Product, Tracking, WebhookRequest


@runtime_checkable
class KitSandbox(Protocol):
    """Every sandbox the kit runs."""

    app: Any
    kit: Any
    """The sandbox kit (:class:`bridge.sandboxing.SandboxKit`): faults, latency, statistics."""

    def credentials(self) -> dict[str, Any]:
        """Credentials the sandbox accepts (each key a setting the plugin declares secret)."""

    def app_settings(self) -> dict[str, Any]:
        """The bridge-wide app settings it accepts; {} if the platform has none."""

    def base_url_setting(self, server_url: str) -> dict[str, Any]:
        """The connection settings that point a store at the sandbox served at ``server_url``."""

    def sample_webhook(self) -> WebhookRequest:
        """A delivery signed exactly as the platform signs it, of an event the connector parses
        (the kit checks it is accepted, and refused once its body or signature is altered). The
        kit calls ``register_webhooks`` first where the connector has it: sign with the secret
        of the subscription it made."""


@runtime_checkable
class KitEcommerceSandbox(KitSandbox, Protocol):
    """An eCommerce sandbox, as the kit drives it."""

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        """Add products (each with up to ``variants`` variants); returns their ids as the
        connector reports them (``Product.remote_id``)."""

    def catalog(self) -> list[Product]:
        """The store's whole catalog as the sandbox holds it (ids, variants with ids, SKUs and
        prices): the kit compares the connector's stream with it."""

    def edit_product(self, product_id: str, title: str) -> None:
        """Change a product's title as the merchant would (its update time moves to the
        sandbox's clock)."""

    def hold_clock(self, at: float | None) -> None:
        """Stamp every change from now on at Unix time ``at`` (``None``: the real clock again),
        so the kit can make changes in the same second as the last one a cursor saw."""

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Change a variant's available quantity (as a merchant would)."""

    def quantity(self, sku: str) -> int:
        """A variant's available quantity."""

    def orders(self) -> list[Order]:
        """Every order in the store as the sandbox holds it: lines with variant ids, quantities
        and unit prices, ``total``, ``shipping``, ``buyer_email``/``buyer_name`` (the customer,
        or the guest's details) and ``source_order_id`` (where the connector put the channel's
        order id)."""

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        """Fulfil an order with a tracking number and carrier; returns the fulfilment id."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order as the merchant would."""

    def refunds(self, order_id: str) -> list[dict[str, Any]]:
        """Refunds recorded on an order (for platforms with ``create_refund``): dicts with ``id``,
        ``amount`` (Decimal), ``lines`` ({seller SKU: units}) and ``note``."""

    def cancel_line(self, order_id: str, sku: str, quantity: int) -> None:
        """Take ``quantity`` units of a line off an unfulfilled order as the merchant would (an
        edit, or a refund with restock: whatever the platform's admin does)."""


@runtime_checkable
class KitChannelSandbox(KitSandbox, Protocol):
    """A channel sandbox, as the kit drives it."""

    def shops(self) -> list[dict[str, Any]]:
        """The seeded shops: id, name, region, currency (the kit connects to the first)."""

    def products(self, shop_id: str) -> list[dict[str, Any]]:
        """The shop's products: dicts with id, status and skus (id, seller_sku, price, quantity)."""

    def create_order(self, shop_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        """Place an order for (seller SKU, quantity) lines as a buyer would; returns its id."""

    def order(self, order_id: str) -> dict[str, Any]:
        """An order with its status and packages (tracking number, provider)."""

    def cancel_order(self, order_id: str) -> None:
        """Cancel an order as the buyer or the platform would."""

    def create_return(self, order_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        """(Platforms with ``list_refunds``) the buyer asks for a refund of (seller SKU, units);
        ``status`` jumps to a state (e.g. completed); returns the return's id."""

    def cancel_lines(self, order_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        """(Platforms with ``list_refunds``) some units of an order are cancelled while it goes
        on; returns the cancellation's id."""

"""Orders, fulfilments and tracking."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from bridge.models.base import Money, _Model


class Address(_Model):
    name: str = ""
    first_name: str | None = None
    last_name: str | None = None
    company: str | None = None
    line1: str = ""
    line2: str | None = None
    city: str = ""
    region: str | None = None
    postal_code: str = ""
    country_code: str = ""
    phone: str | None = None
    email: str | None = None


class OrderLine(_Model):
    remote_id: str
    product_id: str | None = None
    variant_id: str | None = None
    """On a channel order: the channel SKU id. On an eCommerce draft: the eCommerce variant id."""
    sku: str | None = None
    title: str = ""
    quantity: int = Field(gt=0)
    unit_price: Money
    package_id: str | None = None
    cancelled_quantity: int = 0
    """Units of this line cancelled or refunded before fulfilment (removed by an order edit,
    refunded and restocked while unshipped); on a channel order (one line per unit): 1 when the
    unit is cancelled."""


class Order(_Model):
    """An order as the platform holds it."""

    remote_id: str
    status: Literal[
        "unpaid", "on_hold", "awaiting_shipment", "awaiting_collection", "in_transit",
        "delivered", "completed", "cancelled", "processing", "pending", "refunded", "other",
    ]
    currency: str
    lines: list[OrderLine]
    created_at: datetime | None = None
    updated_at: datetime | None = None
    shipping_address: Address | None = None
    buyer_email: str | None = None
    buyer_name: str | None = None
    subtotal: Money | None = None
    shipping: Money | None = None
    tax: Money | None = None
    total: Money | None = None
    fulfilled_by: Literal["seller", "platform"] = "seller"
    shipping_label_by: Literal["seller", "platform"] = "seller"
    """Who issues the shipping label and so the tracking number: ``platform`` (e.g. TikTok's own
    label on a seller-shipped order) means the channel already has the tracking: none is pushed."""
    released: bool = True
    """False while the channel holds a new order (its on-hold window)."""
    cancel_reason: str | None = None
    package_ids: list[str] = []
    delivery_option_id: str | None = None
    number: str | None = None
    source_order_id: str | None = None
    """On an eCommerce order: the channel order id it was created for, where found."""
    raw_status: str | None = None
    """The platform's own status value (shown when ``status`` is ``other``: unknown to bridge)."""


class OrderPage(_Model):
    orders: list[Order]
    cursor: str | None
    unreadable: dict[str, str] = {}
    """Records of this page the plugin could not read: remote id -> the reason (a missing field,
    a wrong type). The core holds them with the reason; they are never skipped silently."""


class OrderDraft(_Model):
    """An order to create in the eCommerce store for a channel order."""

    source: str
    """The channel platform's display name, e.g. "TikTok Shop"."""
    source_order_id: str
    currency: str
    lines: list[OrderLine]
    shipping_address: Address
    billing_address: Address | None = None
    buyer_email: str | None = None
    buyer_name: str | None = None
    shipping: Money
    tax: Money | None = None
    total: Money
    note: str = ""
    created_at: datetime | None = None


class CreatedOrder(_Model):
    remote_id: str
    number: str | None = None
    """The order's name in the store as its merchant knows it (``#1022``), where the answer
    has one."""
    existed: bool = False
    """True when an order for this source order id was already there (found, not created)."""
    admin_url: str | None = None
    """The order's page in the store's admin, where the platform has one (the admin pages link
    to it)."""




class Tracking(_Model):
    number: str
    carrier: str = ""
    """The carrier's name or code as the eCommerce store holds it."""
    url: str | None = None


class Fulfillment(_Model):
    remote_id: str
    order_id: str
    tracking: list[Tracking] = []
    line_ids: list[str] = []
    created_at: datetime | None = None
    status: str = "success"


class ShippingProvider(_Model):
    id: str
    name: str


class TrackingPush(_Model):
    order_id: str
    package_id: str | None = None
    tracking_number: str
    provider_id: str
    carrier: str = ""
    line_ids: list[str] = []


class TrackingResult(_Model):
    order_id: str
    package_id: str | None = None
    tracking_number: str
    pushed: bool = True
    """False when the same tracking was already there (an idempotent no-op)."""

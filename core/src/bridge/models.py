"""Typed values that cross the plugin contract — never raw platform JSON.

Money is :class:`Money` (``Decimal`` amount plus ISO-4217 currency code), never a float.
Timestamps are timezone-aware UTC ``datetime``. Identifiers of remote objects are strings.
Weights are grams, dimensions centimetres, whatever unit the platform uses on the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Kind = Literal["ecommerce", "channel"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Money(_Model):
    """An amount in a currency. ``Money(amount="9.99", currency="GBP")``."""

    amount: Decimal
    currency: str

    @field_validator("amount", mode="before")
    @classmethod
    def _no_float(cls, v: Any) -> Any:
        if isinstance(v, float):
            return Decimal(repr(v))
        return v

    @field_validator("currency")
    @classmethod
    def _iso(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError(f"currency must be a 3-letter ISO code, got {v!r}")
        return v.upper()

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


# --------------------------------------------------------------------------- describing


class Setting(_Model):
    """One setting a connection needs; becomes an option of ``bridge connect PLATFORM``."""

    name: str
    type: Literal["str", "int", "bool", "url", "choice"] = "str"
    help: str = ""
    required: bool = False
    secret: bool = False
    default: Any = None
    choices: list[str] | None = None


class AppSetting(_Model):
    """A bridge-wide setting of a platform (an OAuth app's key and secret), read from the
    environment ``BRIDGE_<PLATFORM>_<NAME>`` or ``bridge config``."""

    name: str
    help: str = ""
    secret: bool = False
    required: bool = False
    default: Any = None


class PlatformInfo(_Model):
    """What a plugin says of its platform (``describe_platform``)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    kind: Kind
    display_name: str
    settings: list[Setting] = []
    app_settings: list[AppSetting] = []
    connect_methods: list[Literal["credentials", "oauth", "callback"]] = ["credentials"]
    webhooks: bool = False
    """True when the platform pushes change notifications; False means bridge polls."""
    regions: list[str] | None = None
    docs_url: str | None = None


class Capability(_Model):
    """One operation a platform implements (derived from its hook implementations)."""

    operation: str


# --------------------------------------------------------------------------- connecting


class StoreInfo(_Model):
    """What connecting learns of a remote store."""

    remote_id: str
    name: str
    domain: str | None = None
    currency: str
    region: str | None = None
    timezone: str | None = None
    credentials: dict[str, Any] = {}
    """Secrets to keep (encrypted) for this store: tokens, keys. Never logged."""
    settings: dict[str, Any] = {}
    """Non-secret settings to keep (base URL, API version, shop cipher, ...)."""
    auth_expires_at: datetime | None = None
    """When the authorization itself ends (not the access token); warnings are raised before."""
    details: dict[str, Any] = {}
    """Facts to show the user (plan, versions, seller type, warnings)."""
    warnings: list[str] = []


class CallbackResult(_Model):
    """What an app callback (install, load, key hand-over, activation) produced."""

    stores: list[StoreInfo] = []
    uninstalled_remote_ids: list[str] = []
    response_status: int = 200
    response_body: str = ""
    redirect_to: str | None = None


class Prerequisite(_Model):
    """One line of a prerequisites checklist (``bridge doctor``, the connect flow)."""

    key: str
    title: str
    ok: bool
    detail: str = ""
    fix: str = ""
    blocking: bool = True
    flows: list[str] = []
    """The flows this blocks when not ok (empty: all)."""


# --------------------------------------------------------------------------- catalog


class Image(_Model):
    url: str
    position: int = 0
    alt: str | None = None


class Dimensions(_Model):
    length_cm: Decimal
    width_cm: Decimal
    height_cm: Decimal


class Variant(_Model):
    remote_id: str
    sku: str | None = None
    title: str = ""
    options: dict[str, str] = {}
    """Option name → value, e.g. {"Size": "M", "Colour": "Red"}."""
    price: Money
    compare_at_price: Money | None = None
    barcode: str | None = None
    weight_g: Decimal | None = None
    dimensions: Dimensions | None = None
    inventory_tracked: bool = True
    quantity: int | None = None
    image_url: str | None = None


class Product(_Model):
    remote_id: str
    title: str
    description_html: str = ""
    vendor: str | None = None
    product_type: str | None = None
    tags: list[str] = []
    categories: list[str] = []
    """Categories or collections the product belongs to, by name."""
    status: Literal["active", "draft", "archived", "deleted"] = "active"
    published: bool = True
    options: list[str] = []
    variants: list[Variant]
    images: list[Image] = []
    weight_g: Decimal | None = None
    dimensions: Dimensions | None = None
    updated_at: datetime | None = None
    url: str | None = None


class ProductPage(_Model):
    """One page of a product stream; ``cursor`` resumes after it."""

    products: list[Product]
    cursor: str | None
    """Opaque to the core. Passed back to ``list_products`` it continues after this page; the
    cursor of the last page, kept, makes the next run incremental (changes since)."""


class InventoryLevel(_Model):
    """Available quantity of one variant (eCommerce) or one SKU (channel)."""

    product_id: str
    variant_id: str
    sku: str | None = None
    quantity: int
    tracked: bool = True


class InventoryUpdate(_Model):
    """Set a channel SKU's quantity (absolute, never a delta)."""

    product_id: str
    sku_id: str
    quantity: int = Field(ge=0)
    warehouse_id: str | None = None


class ItemResult(_Model):
    """The outcome of one item of a batch write: a call answered OK can still fail items."""

    key: str
    ok: bool
    code: str | None = None
    message: str | None = None


class Category(_Model):
    id: str
    name: str
    parent_id: str | None = None
    is_leaf: bool = True
    path: list[str] = []
    permission_required: bool = False


class AttributeValue(_Model):
    id: str
    name: str


class CategoryAttribute(_Model):
    id: str
    name: str
    required: bool = False
    sales: bool = False
    """A sales attribute (variant option) rather than a product attribute."""
    values: list[AttributeValue] = []
    custom_values_allowed: bool = True
    multiple: bool = False


class CategoryRules(_Model):
    """What a category demands beyond attributes."""

    category_id: str
    brand_required: bool = False
    package_dimensions_required: bool = False
    size_chart_required: bool = False
    certifications: list[str] = []


class Brand(_Model):
    id: str
    name: str
    authorized: bool = True


class ListingAttribute(_Model):
    id: str
    name: str = ""
    value_ids: list[str] = []
    values: list[str] = []
    """Custom values where the attribute allows them."""


class ListingSku(_Model):
    source_variant_id: str
    seller_sku: str
    price: Money
    original_price: Money | None = None
    quantity: int = Field(ge=0)
    sales_attributes: dict[str, str] = {}
    image_url: str | None = None
    remote_sku_id: str | None = None


class Listing(_Model):
    """What bridge wants a product to look like on a channel store."""

    source_product_id: str
    title: str
    description_html: str
    category_id: str
    brand_id: str | None = None
    images: list[Image] = []
    attributes: list[ListingAttribute] = []
    package_weight_g: Decimal | None = None
    package_dimensions: Dimensions | None = None
    skus: list[ListingSku]
    remote_product_id: str | None = None


class ListingResult(_Model):
    remote_product_id: str
    status: Literal["draft", "pending", "live", "failed", "deactivated", "deleted"] = "pending"
    sku_ids: dict[str, str] = {}
    """seller SKU → remote SKU id."""
    reasons: list[str] = []
    warnings: list[str] = []


class ExistingListing(_Model):
    """A product already on the channel, found by seller SKU."""

    remote_product_id: str
    remote_sku_id: str
    seller_sku: str
    status: str = "live"


# --------------------------------------------------------------------------- orders


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
    released: bool = True
    """False while the channel holds a new order (its on-hold window)."""
    cancel_reason: str | None = None
    package_ids: list[str] = []
    delivery_option_id: str | None = None
    number: str | None = None
    source_order_id: str | None = None
    """On an eCommerce order: the channel order id it was created for, where found."""


class OrderPage(_Model):
    orders: list[Order]
    cursor: str | None


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
    existed: bool = False
    """True when an order for this source order id was already there (found, not created)."""


# --------------------------------------------------------------------------- fulfilment


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


# --------------------------------------------------------------------------- webhooks


class WebhookRequest(_Model):
    """A delivery as received: the raw body is verified before any JSON is parsed."""

    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = {}

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers.items():
            if k.lower() == lname:
                return v
        return None


class WebhookEvent(_Model):
    """One change a delivery tells of."""

    kind: Literal[
        "product", "inventory", "order", "order_cancelled", "fulfillment",
        "uninstalled", "deauthorized", "listing_status", "ping", "other",
    ]
    remote_ids: list[str] = []
    topic: str = ""


class WebhookDelivery(_Model):
    store_remote_id: str | None = None
    delivery_id: str | None = None
    events: list[WebhookEvent] = []


# --------------------------------------------------------------------------- sync events


class SyncEvent(_Model):
    """Something that happened in a flow (journal, notifications, audit)."""

    kind: str
    """e.g. listing.created, listing.rejected, inventory.updated, order.created, tracking.pushed,
    store.needs_reconnect, store.auth_expiring."""
    org_id: int | None = None
    store_id: int | None = None
    flow: str | None = None
    item: str | None = None
    message: str = ""
    data: dict[str, Any] = {}
    at: datetime | None = None


class CursorState(_Model):
    """A flow's saved position for one store."""

    value: str | None = None
    updated_at: datetime | None = None


ProgressFn = Callable[[int], None]

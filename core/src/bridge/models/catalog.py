"""Products, inventory, categories and listings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import Field

from bridge.models.base import Money, _Model


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


class Certification(_Model):
    """A product certification a category asks for (e.g. a safety report), by the channel's id."""

    id: str
    name: str = ""
    required: bool = True
    """False: required only when one of ``conditions`` matches a chosen attribute value."""
    conditions: list[tuple[str, str]] = []
    """(attribute id, attribute value id) pairs that make the certification required."""


class CategoryRules(_Model):
    """What a category demands beyond attributes."""

    category_id: str
    brand_required: bool = False
    package_dimensions_required: bool = False
    package_weight_required: bool = True
    size_chart_required: bool = False
    size_chart_supported: bool = False
    certifications: list[str] = []
    """Names of the certifications always required (kept for older callers)."""
    required_certifications: list[Certification] = []
    """Certifications required always or under conditions, with their ids."""
    weight_units: list[str] = ["KILOGRAM"]
    """Package weight units the shop's market accepts (the first is used)."""
    dimension_units: list[str] = ["CENTIMETER"]


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


class ListingCertification(_Model):
    """A certification sent with a listing: the channel's id and the document images."""

    id: str
    image_urls: list[str] = []


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
    size_chart_url: str | None = None
    """An image of the size chart (categories that ask for one)."""
    size_chart_template_id: str | None = None
    """A size-chart template of the channel, instead of an image."""
    certifications: list[ListingCertification] = []
    create_key: str | None = None
    """Identifies this creation of the product: the same on every retry of it, a new one when
    the product is listed again after being deleted on the channel (the channel's idempotency
    key is derived from it; None: from ``source_product_id``)."""


#: The parts of a listing the channel can change one by one (``partial_edit_listing``).
LISTING_PARTS = ("title", "description", "images", "attributes", "package", "brand", "size_chart",
                 "certifications", "category")


class ListingResult(_Model):
    remote_product_id: str
    status: Literal["draft", "pending", "live", "failed", "deactivated", "frozen", "deleted"] = "pending"
    """``deactivated``: taken off sale by the seller; ``frozen``: taken off sale or frozen by the
    channel itself (it refuses edits then; ``reasons`` say why)."""
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


class PriceUpdate(_Model):
    """Set a channel SKU's selling price (absolute), live at once without a new review."""

    product_id: str
    sku_id: str
    price: Money
    original_price: Money | None = None


class ListingCheck(_Model):
    """The channel's verdict on a listing before it is created (a dry run of the create)."""

    ok: bool
    reasons: list[str] = []
    """Why the channel would refuse it, in its words."""
    warnings: list[str] = []
    """Advice that does not stop the listing (quality diagnoses)."""
    checked: bool = True
    """False when the check could not be made as a whole (e.g. images not uploaded in a dry run)."""


class ListingIndexPage(_Model):
    """One page of a scan of every product on a channel store (by seller SKU)."""

    listings: list[ExistingListing]
    total: int | None = None
    """How many products the store holds in all, when the channel says."""

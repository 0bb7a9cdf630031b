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

"""Typed values that cross the plugin contract — never raw platform JSON.

Money is :class:`Money` (``Decimal`` amount plus ISO-4217 currency code), never a float.
Timestamps are timezone-aware UTC ``datetime``. Identifiers of remote objects are strings.
Weights are grams, dimensions centimetres, whatever unit the platform uses on the wire.

The values live in small modules by subject (``base``, ``platform``, ``catalog``, ``orders``,
``events``); import them from here.
"""

from bridge.models.base import Kind, Money  # noqa: F401
from bridge.models.catalog import (  # noqa: F401
    AttributeValue,
    Brand,
    Category,
    CategoryAttribute,
    CategoryRules,
    Dimensions,
    ExistingListing,
    Image,
    InventoryLevel,
    InventoryUpdate,
    ItemResult,
    Listing,
    ListingAttribute,
    ListingResult,
    ListingSku,
    Product,
    ProductPage,
    Variant,
)
from bridge.models.events import (  # noqa: F401
    CursorState,
    ProgressFn,
    SyncEvent,
    WebhookDelivery,
    WebhookEvent,
    WebhookRequest,
)
from bridge.models.orders import (  # noqa: F401
    Address,
    CreatedOrder,
    Fulfillment,
    Order,
    OrderDraft,
    OrderLine,
    OrderPage,
    ShippingProvider,
    Tracking,
    TrackingPush,
    TrackingResult,
)
from bridge.models.platform import (  # noqa: F401
    AppSetting,
    CallbackResult,
    Capability,
    PlatformInfo,
    Prerequisite,
    Setting,
    StoreInfo,
)

__all__ = [
    "Address",
    "AppSetting",
    "AttributeValue",
    "Brand",
    "CallbackResult",
    "Capability",
    "Category",
    "CategoryAttribute",
    "CategoryRules",
    "CreatedOrder",
    "CursorState",
    "Dimensions",
    "ExistingListing",
    "Fulfillment",
    "Image",
    "InventoryLevel",
    "InventoryUpdate",
    "ItemResult",
    "Kind",
    "Listing",
    "ListingAttribute",
    "ListingResult",
    "ListingSku",
    "Money",
    "Order",
    "OrderDraft",
    "OrderLine",
    "OrderPage",
    "PlatformInfo",
    "Prerequisite",
    "Product",
    "ProductPage",
    "ProgressFn",
    "Setting",
    "ShippingProvider",
    "StoreInfo",
    "SyncEvent",
    "Tracking",
    "TrackingPush",
    "TrackingResult",
    "Variant",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookRequest",
]

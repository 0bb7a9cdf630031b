"""SQLModel tables: bridge's state. Schema changes go through Alembic (``bridge/migrations``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bridge.statuses import (
    ListingStatus,
    OrderStatus,
    PushStatus,
    RefundStatus,
    RunStatus,
    StoreStatus,
)


def utcnow() -> datetime:
    """Now, timezone-aware UTC (the columns store UTC)."""
    return datetime.now(UTC)


def _empty_dict() -> dict[str, Any]:
    return {}


def _empty_list() -> list[Any]:
    return []


def _json(default: Any = None) -> Any:
    # Python functions, never a builtin such as ``list``: pydantic looks at a default factory's
    # signature each time a row is made, and a builtin's is parsed from its text signature
    # (``ast.parse``: about 0.1 ms for every ListingLink a sync created)
    factory = _empty_dict if default is None else _empty_list if default is list else default
    return Field(default_factory=factory, sa_column=Column(JSON, nullable=False))


class Organization(SQLModel, table=True):
    __tablename__ = "organizations"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)
    created_at: datetime = Field(default_factory=utcnow)


class Store(SQLModel, table=True):
    """A connected (or once connected) remote store. Disconnecting keeps the row, drops secrets."""

    __tablename__ = "stores"
    __table_args__ = (UniqueConstraint("platform", "remote_id", name="uq_store_remote"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    platform: str
    kind: str  # ecommerce | channel
    remote_id: str
    name: str
    domain: str | None = None
    region: str | None = None
    currency: str
    timezone: str | None = None
    status: str = StoreStatus.ACTIVE
    status_message: str | None = None
    credentials_enc: str | None = Field(default=None, sa_column=Column(Text))
    settings: dict = _json()
    details: dict = _json()
    options: dict = _json()
    """Per-store flow options (price rules, inventory buffer, templates, intervals, flows on/off)."""
    auth_expires_at: datetime | None = None
    connected_at: datetime = Field(default_factory=utcnow)
    disconnected_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class WaitlistEntry(SQLModel, table=True):
    """Someone waiting for a channel platform to serve a market it declares on its waitlist."""

    __tablename__ = "waitlist"
    __table_args__ = (UniqueConstraint("platform", "region", "email", name="uq_waitlist_platform"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str | None = None
    """The channel platform (None: recorded before waitlists were per platform)."""
    region: str
    email: str
    org_id: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class KeyValue(SQLModel, table=True):
    """A plugin's persistent per-store cache (``Connection.state``)."""

    __tablename__ = "store_state"
    store_id: int = Field(foreign_key="stores.id", primary_key=True)
    key: str = Field(primary_key=True)
    value: Any = Field(default=None, sa_column=Column(JSON))
    updated_at: datetime = Field(default_factory=utcnow)


class CategoryRule(SQLModel, table=True):
    """Maps an eCommerce facet (product_type, category, tag, vendor) to a channel category."""

    __tablename__ = "category_rules"
    id: int | None = Field(default=None, primary_key=True)
    channel_store_id: int = Field(foreign_key="stores.id", index=True)
    facet: str  # product_type | category | tag | vendor | all
    value: str
    category_id: str
    category_name: str = ""
    attributes: dict = _json()
    """Per-category default attribute values: attribute id -> list of value ids or names."""
    priority: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class ProductMapping(SQLModel, table=True):
    """A product's per-shop overrides, which win over the shop's rules and templates: category
    and attribute values, exclusion, and the listing's title, description, price and images
    (:mod:`bridge.overrides`). Kept when the store product changes."""

    __tablename__ = "product_mappings"
    __table_args__ = (UniqueConstraint("channel_store_id", "source_product_id", name="uq_mapping"),)
    id: int | None = Field(default=None, primary_key=True)
    channel_store_id: int = Field(foreign_key="stores.id", index=True)
    source_product_id: str
    category_id: str | None = None
    attributes: dict = _json()
    excluded: bool = False
    title: str | None = Field(default=None, sa_column=Column(Text))
    """The listing's title instead of the title template's (None: the template's)."""
    description_html: str | None = Field(default=None, sa_column=Column(Text))
    """The listing's description instead of the description template's (None: the template's)."""
    price: dict = _json()
    """``{"fixed": "12.50"}`` (every SKU), or a rule ``{"markup_percent", "markup_fixed",
    "rounding"}`` instead of the shop's price rule; ``{}``: the shop's rule."""
    images: list = _json(list)
    """Image URLs of the product, chosen and in order (``[]``: the product's own, in its order)."""
    updated_at: datetime = Field(default_factory=utcnow)


class ListingLink(SQLModel, table=True):
    """An eCommerce product listed (or found) on a channel store, with what was last sent."""

    __tablename__ = "listing_links"
    __table_args__ = (UniqueConstraint("channel_store_id", "source_product_id", name="uq_listing"),)
    id: int | None = Field(default=None, primary_key=True)
    channel_store_id: int = Field(foreign_key="stores.id", index=True)
    source_product_id: str
    remote_product_id: str | None = Field(default=None, index=True)
    status: str = ListingStatus.PENDING
    reasons: list = _json(list)
    """What the user should know about the listing (the channel's refusal, what to fix)."""
    claimed_by: str | None = None
    """While ``creating``: the worker (``host:pid``) that claimed the creation."""
    claimed_until: datetime | None = None
    """While ``creating``: the claim is that worker's until then (then it may be taken over)."""
    content_hash: str | None = None
    title: str = ""
    updated_at: datetime = Field(default_factory=utcnow)


class SkuLink(SQLModel, table=True):
    """eCommerce variant <-> channel SKU, per channel store, with the last quantity and price sent."""

    __tablename__ = "sku_links"
    __table_args__ = (UniqueConstraint("channel_store_id", "source_variant_id", name="uq_sku"),
                      # the products list's price and stock per product, read from the index alone
                      Index("ix_sku_links_product_sent", "channel_store_id", "source_product_id", "last_price",
                            "last_quantity"))
    id: int | None = Field(default=None, primary_key=True)
    channel_store_id: int = Field(foreign_key="stores.id", index=True)
    source_product_id: str = Field(index=True)
    source_variant_id: str
    seller_sku: str = Field(index=True)
    remote_product_id: str | None = None
    remote_sku_id: str | None = None
    last_quantity: int | None = None
    last_price: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class OrderLink(SQLModel, table=True):
    """A channel order <-> the eCommerce order created (or found) for it."""

    __tablename__ = "order_links"
    __table_args__ = (UniqueConstraint("channel_store_id", "channel_order_id", name="uq_order"),)
    id: int | None = Field(default=None, primary_key=True)
    channel_store_id: int = Field(foreign_key="stores.id", index=True)
    channel_order_id: str
    ecommerce_store_id: int | None = Field(default=None, foreign_key="stores.id")
    ecommerce_order_id: str | None = Field(default=None, index=True)
    ecommerce_order_number: str | None = Field(default=None, index=True)
    """The order's name in the store, as the merchant knows it (``#1022``), from the store's
    answer to the create (``CreatedOrder.number``)."""
    skus: str = ""
    """The order's seller SKUs, space-separated with a space at each end (`` A-1 B-2 ``): the
    orders list finds an order by SKU without reading ``data``."""
    status: str = OrderStatus.PENDING
    channel_status: str | None = None
    message: str | None = None
    claimed_by: str | None = None
    """While ``creating``: the worker (``host:pid``) that claimed the creation."""
    claimed_until: datetime | None = None
    attempts: int = 0
    data: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class TrackingPushRecord(SQLModel, table=True):
    """One tracking number pushed (or held) for one package of a linked order."""

    __tablename__ = "tracking_pushes"
    __table_args__ = (
        UniqueConstraint("order_link_id", "package_key", "tracking_number", name="uq_tracking"),
    )
    id: int | None = Field(default=None, primary_key=True)
    order_link_id: int = Field(foreign_key="order_links.id", index=True)
    package_key: str = ""
    tracking_number: str
    carrier: str = ""
    provider_id: str | None = None
    status: str = PushStatus.PENDING
    message: str | None = None
    fulfillment_id: str | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class RefundRecord(SQLModel, table=True):
    """One channel return / refund / cancellation (or one store-side line cancellation) and the
    store refund or channel cancellation bridge wrote for it: claimed before the write."""

    __tablename__ = "refund_records"
    __table_args__ = (UniqueConstraint("channel_store_id", "kind", "remote_id", name="uq_refund"),)
    id: int | None = Field(default=None, primary_key=True)
    channel_store_id: int = Field(foreign_key="stores.id", index=True)
    kind: str  # return | cancel (from the channel) | store_cancel (from the store)
    remote_id: str
    """The channel's return or cancellation id; for ``store_cancel``, bridge's key."""
    channel_order_id: str = Field(index=True)
    ecommerce_order_id: str | None = None
    key: str
    """What bridge stores with the write at the platform (looked up after a crash)."""
    status: str = RefundStatus.PENDING
    channel_status: str | None = None
    message: str | None = None
    claimed_by: str | None = None
    """While ``creating``: the worker (``host:pid``) that claimed the write."""
    claimed_until: datetime | None = None
    result_id: str | None = None
    """The store refund's id (or the channel's cancellation id)."""
    amount: str | None = None
    currency: str | None = None
    lines: dict = _json()
    """Store variant id -> units refunded or cancelled."""
    restocked: bool = False
    attempts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CarrierMapping(SQLModel, table=True):
    """Per-organization override: eCommerce carrier name -> channel shipping provider id."""

    __tablename__ = "carrier_mappings"
    __table_args__ = (UniqueConstraint("org_id", "carrier", name="uq_carrier"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    carrier: str
    provider_id: str
    provider_name: str = ""


class SyncCursor(SQLModel, table=True):
    __tablename__ = "sync_cursors"
    store_id: int = Field(foreign_key="stores.id", primary_key=True)
    flow: str = Field(primary_key=True)
    value: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(default_factory=utcnow)


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_runs"
    id: int | None = Field(default=None, primary_key=True)
    flow: str = Field(index=True)
    org_id: int | None = Field(default=None, index=True)
    store_id: int | None = None
    channel_store_id: int | None = None
    dry_run: bool = False
    status: str = RunStatus.RUNNING
    owner: str | None = None  # the process running it (bridge.liveness), for recovery
    counts: dict = _json()
    error: str | None = None
    started_at: datetime = Field(default_factory=utcnow, index=True)
    finished_at: datetime | None = None


class ItemError(SQLModel, table=True):
    __tablename__ = "item_errors"
    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_runs.id", index=True)
    item: str
    code: str | None = None
    message: str
    at: datetime = Field(default_factory=utcnow)


class Event(SQLModel, table=True):
    """The journal: every decision and write, and store events."""

    __tablename__ = "events"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    kind: str = Field(index=True)
    level: str = "info"
    org_id: int | None = Field(default=None, index=True)
    store_id: int | None = None
    flow: str | None = None
    item: str | None = Field(default=None, index=True)
    """The item the entry is about (a product, a TikTok order, a return): the order and product
    pages read their journal by it."""
    message: str = ""
    data: dict = _json()


class Job(SQLModel, table=True):
    """A scheduled job (flow for a store or a store pair) with its lease and backoff."""

    __tablename__ = "jobs"
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(unique=True, index=True)
    flow: str
    org_id: int | None = None
    store_id: int | None = None
    channel_store_id: int | None = None
    interval_s: int = 60
    next_run_at: datetime = Field(default_factory=utcnow, index=True)
    lease_owner: str | None = None
    lease_until: datetime | None = None
    failures: int = 0
    last_error: str | None = None
    last_run_at: datetime | None = None
    paused: bool = False
    payload: dict = _json()


class WebhookSeen(SQLModel, table=True):
    """Delivery ids already received, so a repeated delivery is dropped."""

    __tablename__ = "webhook_seen"
    platform: str = Field(primary_key=True)
    delivery_id: str = Field(primary_key=True)
    received_at: datetime = Field(default_factory=utcnow)


class OAuthState(SQLModel, table=True):
    __tablename__ = "oauth_states"
    state: str = Field(primary_key=True)
    platform: str
    org_id: int | None = None
    user_id: int | None = None
    data: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class User(SQLModel, table=True):
    __tablename__ = "users"
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(unique=True, index=True)
    password_hash: str
    is_operator: bool = False
    created_at: datetime = Field(default_factory=utcnow)


class Membership(SQLModel, table=True):
    __tablename__ = "memberships"
    user_id: int = Field(foreign_key="users.id", primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", primary_key=True)
    role: str = "member"


class WebSession(SQLModel, table=True):
    """A signed-in browser session of the admin pages (the cookie holds a random token; the row
    keeps only its SHA-256, so a database reader cannot reuse sessions)."""

    __tablename__ = "web_sessions"
    id: str = Field(primary_key=True)
    """SHA-256 hex of the cookie's token."""
    user_id: int = Field(foreign_key="users.id", index=True)
    csrf: str
    data: dict = _json()
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)


class AlertRecipients(SQLModel, table=True):
    """Who an organization's alerts go to (:mod:`bridge.alerts`): e-mail addresses and a
    Slack-compatible webhook URL (its path is a secret: shown masked)."""

    __tablename__ = "alert_recipients"
    org_id: int = Field(foreign_key="organizations.id", primary_key=True)
    emails: list = _json(list)
    webhook_url: str | None = Field(default=None, sa_column=Column(Text))
    updated_at: datetime = Field(default_factory=utcnow)


class AlertState(SQLModel, table=True):
    """One condition that needs a person (a store to reconnect, held orders...) and whether it
    was sent: alerted once while it lasts, again if it clears and comes back."""

    __tablename__ = "alert_states"
    __table_args__ = (UniqueConstraint("org_id", "key", name="uq_alert_key"),)
    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organizations.id", index=True)
    key: str
    """The condition and what it is about (``reconnect:12``, ``flow_failing:orders:3``)."""
    kind: str
    store_id: int | None = None
    message: str = Field(default="", sa_column=Column(Text, nullable=False))
    active: bool = True
    sent_to: list = _json(list)
    """Channels (``email``, ``webhook``) that have it, since it last became active."""
    sent_at: datetime | None = None
    """When every configured channel had it (None: still to send)."""
    attempts: int = 0
    last_error: str | None = None
    claimed_by: str | None = None
    claimed_until: datetime | None = None
    first_seen: datetime = Field(default_factory=utcnow)
    cleared_at: datetime | None = None

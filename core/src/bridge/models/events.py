"""Webhook deliveries, sync events and cursors."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from bridge.models.base import _Model


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
        "product", "inventory", "order", "order_cancelled", "refund", "fulfillment",
        "uninstalled", "deauthorized", "listing_status", "ping", "other",
    ]
    remote_ids: list[str] = []
    topic: str = ""


class WebhookDelivery(_Model):
    store_remote_id: str | None = None
    delivery_id: str | None = None
    events: list[WebhookEvent] = []


class WebhookSubscription(_Model):
    """One subscription as the platform lists it (``list_webhooks``)."""

    id: str
    """What ``delete_webhooks`` takes to remove it (a hook id, a GID, or the event type where the
    platform keys subscriptions by topic)."""
    topic: str
    """Spelled as in :attr:`~bridge.models.PlatformInfo.webhook_topics`."""
    address: str
    active: bool = True




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



"""Fulfilments and tracking: read on the eCommerce store, pushed to the channel with a shipping
provider the channel knows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import Connection
    from bridge.models import (
        Fulfillment,
        ShippingProvider,
        TrackingPush,
        TrackingResult,
    )


@hookspec(firstresult=True)
def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """eCommerce: fulfilments of these orders with their tracking numbers and carriers. Read-only.
    :raises Misconfigured: tracking cannot be read at all (e.g. no tracking plugin)."""


@hookspec(firstresult=True)
def shipping_providers(connection: Connection, order_id: str | None) -> list[ShippingProvider]:
    """Channel: shipping providers usable for an order's delivery option (None: all)."""


@hookspec(firstresult=True)
def push_tracking(connection: Connection, push: TrackingPush) -> TrackingResult:
    """Channel: give a package its tracking number and provider, marking it shipped.

    Idempotent: the same tracking number on the same package again is a no-op
    (``pushed=False``). :raises Rejected: refused (e.g. unknown provider, order cancelled).
    """

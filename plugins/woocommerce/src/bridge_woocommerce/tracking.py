"""Tracking numbers from the two WooCommerce tracking plugins, as bridge fulfilments.

* **WooCommerce Shipment Tracking** (namespace ``wc-shipment-tracking/v3``): its REST list per
  order (display provider name, link) and, as a fallback, the ``_wc_shipment_tracking_items``
  order meta (plus the pre-1.4 single ``_tracking_number``/``_tracking_provider`` metas).
* **AfterShip Tracking** (namespace ``wc/aftership/v1``): order meta ``_aftership_tracking_items``
  (current) and ``_aftership_tracking_number``/``_aftership_tracking_provider_name`` (legacy); a
  number field may hold a comma-separated list.

A number found in several places is reported once per order (the first source wins: the Shipment
Tracking list, then AfterShip items, then the legacy metas).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

from bridge.models import Fulfillment, Tracking
from bridge_woocommerce.mapping import gmt, meta_value

AFTERSHIP_NS = "wc/aftership/v1"
SHIPMENT_TRACKING_NS = "wc-shipment-tracking/v3"
ST_ITEMS = "_wc_shipment_tracking_items"
AS_ITEMS = "_aftership_tracking_items"
AS_NUMBER = "_aftership_tracking_number"
AS_PROVIDER = "_aftership_tracking_provider_name"
META_KEYS = (AS_ITEMS, ST_ITEMS, AS_NUMBER, AS_PROVIDER, "_tracking_number", "_tracking_provider",
             "_custom_tracking_provider")

#: Common AfterShip courier slugs -> the names merchants use (others keep their slug).
COURIER_NAMES = {
    "usps": "USPS", "ups": "UPS", "fedex": "FedEx", "dhl": "DHL", "dhl-ecommerce": "DHL eCommerce",
    "royal-mail": "Royal Mail", "parcel-force": "Parcelforce", "dpd-uk": "DPD UK", "evri": "Evri",
    "hermes": "Hermes", "yodel": "Yodel", "china-post": "China Post", "china-ems": "China EMS",
    "yunexpress": "YunExpress", "4px": "4PX", "jtexpress": "J&T Express", "ninjavan": "Ninja Van",
    "singapore-post": "Singapore Post", "flash": "Flash Express", "kerry-logistics": "Kerry Express",
    "lbcexpress": "LBC Express", "pos-malaysia": "Pos Malaysia", "ghn": "Giao Hang Nhanh",
    "viettelpost": "Viettel Post", "jne": "JNE", "sicepat": "SiCepat",
}


def split_numbers(raw: Any) -> list[str]:
    """Tracking numbers in a field that may hold one number or a comma-separated list."""
    if raw is None:
        return []
    return [n.strip() for n in str(raw).split(",") if n.strip()]


def _items(value: Any) -> list[dict[str, Any]]:
    """A meta value that should be a list of objects: it may be "", a dict, a list or a string."""
    if isinstance(value, dict):
        value = list(value.values()) if all(isinstance(v, dict) for v in value.values()) else [value]
    if not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, dict)]


def _timestamp(raw: Any) -> datetime | None:
    if raw in (None, ""):
        return None
    if str(raw).isdigit():
        return datetime.fromtimestamp(int(raw), tz=UTC)
    return gmt(raw)


class Collector:
    """Builds one order's fulfilments, dropping numbers already seen."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id
        self.seen: set[str] = set()
        self.out: list[Fulfillment] = []

    def add(self, remote_id: str, numbers: list[str], carrier: str, url: str | None,
            created: datetime | None) -> None:
        fresh = [n for n in numbers if n not in self.seen]
        if not fresh:
            return
        self.seen.update(fresh)
        self.out.append(Fulfillment(
            remote_id=remote_id or hashlib.md5(f"{carrier}-{fresh[0]}".encode()).hexdigest(),
            order_id=self.order_id, created_at=created,
            tracking=[Tracking(number=n, carrier=carrier, url=url) for n in fresh]))

    def shipment_tracking_rest(self, items: list[dict[str, Any]]) -> None:
        """Items of ``GET wc-shipment-tracking/v3/orders/{id}/shipment-trackings``."""
        for it in items:
            self.add(str(it.get("tracking_id") or ""), split_numbers(it.get("tracking_number")),
                     str(it.get("tracking_provider") or ""), it.get("tracking_link") or None,
                     _timestamp(it.get("date_shipped")))

    def shipment_tracking_meta(self, order: dict[str, Any]) -> None:
        for it in _items(meta_value(order, ST_ITEMS)):
            carrier = it.get("custom_tracking_provider") or it.get("tracking_provider") or ""
            self.add(str(it.get("tracking_id") or ""), split_numbers(it.get("tracking_number")),
                     str(carrier), it.get("custom_tracking_link") or None, _timestamp(it.get("date_shipped")))
        legacy = split_numbers(meta_value(order, "_tracking_number"))
        if legacy:
            carrier = meta_value(order, "_custom_tracking_provider") or meta_value(order, "_tracking_provider") or ""
            self.add("", legacy, str(carrier), None, None)

    def aftership_meta(self, order: dict[str, Any]) -> None:
        for it in _items(meta_value(order, AS_ITEMS)):
            slug = str(it.get("slug") or "")
            metrics = it.get("metrics") if isinstance(it.get("metrics"), dict) else {}
            self.add(str(it.get("tracking_id") or ""), split_numbers(it.get("tracking_number")),
                     COURIER_NAMES.get(slug, slug), None, _timestamp((metrics or {}).get("created_at")))
        legacy = split_numbers(meta_value(order, AS_NUMBER))
        if legacy:
            provider = str(meta_value(order, AS_PROVIDER) or "")
            self.add("", legacy, COURIER_NAMES.get(provider, provider), None, None)

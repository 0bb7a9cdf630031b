"""Orders, shipping providers, tracking and cancellation on a TikTok shop."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from bridge.errors import Rejected
from bridge.models import Order, OrderPage, ShippingProvider, TrackingPush, TrackingResult
from bridge_tiktokshop import carriers, mapping, shop
from bridge_tiktokshop.client import TikTokClient
from bridge_tiktokshop.markets import uses_mark_shipped

ORD = "/order/202309"
F = "/fulfillment/202309"
RECENT_WINDOW = 30 * 86400
PAGE_SIZE = 100
#: Seconds re-read before a cursor: TikTok's update times move during a search (§7.1).
OVERLAP = 60


def _cursor(since: int, token: str | None, max_seen: int) -> str:
    return f"{since}:{token or ''}:{max_seen}"


def list_orders(client: TikTokClient, cursor: str | None) -> Iterator[OrderPage]:
    """Orders updated since the cursor, sorted by update time, one page at a time.

    Cursor: ``since:page_token:max_update_time``; the last page's cursor has no page token and
    starts the next run just before the newest update time seen.
    """
    if cursor:
        since_s, token, seen_s = (cursor.split(":", 2) + ["", ""])[:3]
        since, max_seen = int(since_s or 0), int(seen_s or 0)
    else:
        since, token, max_seen = int(time.time()) - RECENT_WINDOW, "", 0
    query = {"page_size": PAGE_SIZE, "sort_field": "update_time", "sort_order": "ASC"}
    body = {"update_time_ge": since}
    for items, next_token in client.pages("POST", f"{ORD}/orders/search", query=query, body=body,
                                          key="orders", page_token=token or None):
        orders, unreadable = read_orders(items)
        for o in items:
            with contextlib.suppress(TypeError, ValueError, AttributeError):  # held by read_orders
                max_seen = max(max_seen, int(o.get("update_time") or 0))
        if next_token:
            yield OrderPage(orders=orders, cursor=_cursor(since, next_token, max_seen), unreadable=unreadable)
        else:
            after = max(since, max_seen - OVERLAP) if max_seen else since
            yield OrderPage(orders=orders, cursor=_cursor(after, None, max_seen), unreadable=unreadable)


def read_orders(items: list[Any]) -> tuple[list[Order], dict[str, str]]:
    """Map each order on its own: one that cannot be read (a wrong type, a missing field) is
    returned with the reason instead of ending the page."""
    orders: list[Order] = []
    unreadable: dict[str, str] = {}
    for n, raw in enumerate(items):
        try:
            orders.append(mapping.order(raw))
        except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError) as exc:
            rid = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else f"record #{n}"
            unreadable[rid] = f"TikTok Shop order {rid} cannot be read: {type(exc).__name__}: {exc}"[:500]
    return orders, unreadable


def _details(client: TikTokClient, order_ids: list[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(0, len(order_ids), 50):
        data = client.call("GET", f"{ORD}/orders", query={"ids": order_ids[i:i + 50]})
        out += data.get("orders") or []
    return out


def get_orders(client: TikTokClient, order_ids: list[str]) -> list[Order]:
    """The orders; one that cannot be read is left out (the core keeps it held)."""
    return read_orders(_details(client, order_ids))[0]


def _one(client: TikTokClient, order_id: str) -> dict[str, Any]:
    found = _details(client, [order_id])
    if not found:
        raise Rejected(f"order {order_id} is not on this TikTok shop", code="ORDER_NOT_FOUND", item=order_id)
    return found[0]


def cancel(client: TikTokClient, order_id: str, reason: str) -> bool:
    """Seller cancellation (Cancel Order of the return/refund API) of an order not yet shipped."""
    o = _one(client, order_id)
    status = o.get("status")
    if status == "CANCELLED":
        return False
    if status in mapping.SHIPPED_STATUSES:
        raise Rejected(f"order {order_id} is {status} on TikTok Shop: a shipped order cannot be "
                       "cancelled by the seller", code="ORDER_SHIPPED", item=order_id)
    key = reason if reason.startswith(("seller_cancel_", "ecom_order_")) else "seller_cancel_reason_out_of_stock"
    client.call("POST", "/return_refund/202309/cancellations",
                body={"order_id": order_id, "cancel_reason": key,
                      "order_line_item_ids": [str(li["id"]) for li in o.get("line_items") or []]})
    return True


def providers_for_option(client: TikTokClient, option_id: str) -> list[ShippingProvider]:
    data = client.call("GET", f"/logistics/202309/delivery_options/{option_id}/shipping_providers")
    return [ShippingProvider(id=str(p["id"]), name=p.get("name", "")) for p in data.get("shipping_providers") or []]


def providers(client: TikTokClient, order_id: str | None) -> list[ShippingProvider]:
    """Providers for an order's delivery option; None: every seller-shipping option's."""
    if order_id:
        option = _one(client, order_id).get("delivery_option_id")
        if not option:
            raise Rejected(f"order {order_id} has no delivery option", code="NO_DELIVERY_OPTION", item=order_id)
        return providers_for_option(client, str(option))
    seen: dict[str, ShippingProvider] = {}
    for w in shop.warehouses(client):
        if w.get("type") != "SALES_WAREHOUSE":
            continue
        options = client.call("GET", f"/logistics/202309/warehouses/{w['id']}/delivery_options")
        for opt in options.get("delivery_options") or []:
            if opt.get("type") == "SEND_BY_SELLER":
                for p in providers_for_option(client, str(opt["id"])):
                    seen.setdefault(p.id, p)
    return list(seen.values())


def _provider_id(client: TikTokClient, push: TrackingPush, o: dict[str, Any]) -> str:
    if push.provider_id:
        return push.provider_id
    available = providers_for_option(client, str(o.get("delivery_option_id") or ""))
    match = carriers.match_provider(push.carrier, available)
    if match is None:
        names = ", ".join(p.name for p in available[:6]) or "none"
        raise Rejected(f"carrier '{push.carrier}' matches no TikTok Shop shipping provider for order "
                       f"{push.order_id} (available: {names}): set a carrier mapping for this "
                       "organization or use one of these names in the store", code="UNMAPPED_CARRIER",
                       item=push.order_id)
    return match.id


def push_tracking(client: TikTokClient, push: TrackingPush) -> TrackingResult:
    """Mark shipped (GB/EU/US/JP) or ship the package with self_shipment (SEA); the same number
    again is a no-op; another number on a shipped package is a correction (72 h window)."""
    o = _one(client, push.order_id)
    status = o.get("status")
    if status == "CANCELLED":
        raise Rejected(f"order {push.order_id} is cancelled on TikTok Shop", code="ORDER_CANCELLED",
                       item=push.order_id)
    if o.get("fulfillment_type") == "FULFILLMENT_BY_TIKTOK" or o.get("shipping_type") == "TIKTOK":
        raise Rejected(f"order {push.order_id} ships with TikTok's own logistics: no store tracking is "
                       "pushed", code="TIKTOK_SHIPPING", item=push.order_id)
    if status in ("UNPAID", "ON_HOLD"):
        raise Rejected(f"order {push.order_id} is {status} on TikTok Shop: wait until it is released",
                       code="ORDER_ON_HOLD", item=push.order_id)
    lines = o.get("line_items") or []
    wanted = _line_items(lines, push.line_ids)
    chosen = [li for li in lines if str(li["id"]) in wanted]
    numbers = _tracking_numbers(o, wanted)
    package = push.package_id or next((str(li["package_id"]) for li in chosen if li.get("package_id")), None)
    result = TrackingResult(order_id=push.order_id, package_id=package, tracking_number=push.tracking_number)
    if numbers == {push.tracking_number}:
        return result.model_copy(update={"pushed": False})
    provider = _provider_id(client, push, o)
    try:
        return _ship(client, push, o, result, numbers, package, wanted, provider)
    except Rejected:
        # Refused, e.g. "already in transit" after an earlier push whose answer was lost: TikTok
        # may hold this very number. Confirm by reading the order's packages again.
        if _tracking_numbers(_one(client, push.order_id), wanted) == {push.tracking_number}:
            return result.model_copy(update={"pushed": False})
        raise


def _tracking_numbers(o: dict[str, Any], wanted: set[str]) -> set[str]:
    return {li["tracking_number"] for li in o.get("line_items") or []
            if str(li.get("id")) in wanted and li.get("tracking_number")}


def _ship(client: TikTokClient, push: TrackingPush, o: dict[str, Any], result: TrackingResult,
          numbers: set[str], package: str | None, wanted: set[str], provider: str) -> TrackingResult:
    info = {"tracking_number": push.tracking_number, "shipping_provider_id": provider}
    region = client.connection.setting("region")
    if numbers:  # already shipped with another number: correct it
        if package and not uses_mark_shipped(region):
            client.call("POST", f"{F}/packages/{package}/shipping_info/update", body=info)
        else:
            client.call("POST", f"{F}/orders/{push.order_id}/shipping_info/update", body=info)
        return result
    if uses_mark_shipped(region):
        data = client.call("POST", f"{F}/orders/{push.order_id}/packages",
                           body={**info, "order_line_item_ids": sorted(wanted)})
        return result.model_copy(update={"package_id": str(data.get("package_id") or package or "") or None})
    if not package:
        raise Rejected(f"order {push.order_id} has no package to ship yet", code="NO_PACKAGE", item=push.order_id)
    client.call("POST", f"{F}/packages/{package}/ship", body={"self_shipment": info})
    return result


def _line_items(lines: list[dict[str, Any]], line_ids: list[str]) -> set[str]:
    """Line item ids (one per unit) for bridge's line ids (a group's first id): every unit of
    each named SKU; no ids: every line not cancelled."""
    live = [li for li in lines if li.get("display_status") != "CANCELLED"]
    if not line_ids:
        return {str(li["id"]) for li in live}
    skus = {str(li.get("sku_id")) for li in lines if str(li["id"]) in set(line_ids)}
    return {str(li["id"]) for li in live if str(li.get("sku_id")) in skus or str(li["id"]) in set(line_ids)}

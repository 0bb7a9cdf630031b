"""Orders (v2): find by the channel's order id, create, cancel, read, list, and shipments.

Idempotency: an order bridge creates carries ``external_order_id`` = the channel order id, which
``GET /v2/orders`` filters on; :func:`create` looks it up before it posts, and so does any later
run after a crash or a timeout.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import CreatedOrder, Fulfillment, Order, OrderDraft, OrderPage
from bridge.values import decode_cursor, encode_cursor, parse_iso
from bridge.values import iso_utc as iso
from bridge_bigcommerce.client import V2_MAX_LIMIT, BigCommerceClient
from bridge_bigcommerce.mapping import (
    CANCELLED,
    SHIPPED_STATUSES,
    parse_rfc2822,
    to_fulfillment,
    to_order,
)
from bridge_bigcommerce.payloads import order_cancel, order_post

#: How far back ``list_orders`` looks without a cursor.
FIRST_WINDOW = timedelta(days=7)


def find(client: BigCommerceClient, source_order_id: str) -> dict | None:
    """The order carrying this channel order id (``GET /v2/orders?external_order_id=``)."""
    found = client.call("GET", "v2", "orders",
                        params={"external_order_id": source_order_id, "limit": 5}) or []
    for order in found:
        if str(order.get("external_order_id") or "") == str(source_order_id):
            return order
    return None


def find_id(connection: Connection, source_order_id: str) -> str | None:
    order = find(BigCommerceClient(connection), source_order_id)
    return None if order is None else str(order["id"])


def create(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """Find, else ``POST /v2/orders`` with the channel's prices and ids."""
    client = BigCommerceClient(connection)
    existing = find(client, draft.source_order_id)
    if existing is not None:
        return CreatedOrder(remote_id=str(existing["id"]), number=str(existing["id"]), existed=True)
    channel = connection.setting("channel_id")
    body = order_post(draft, channel_id=int(channel) if channel else None)
    created = client.call("POST", "v2", "orders", json=body, item=draft.source_order_id) or {}
    if "id" not in created:
        raise Rejected("BigCommerce accepted the order but returned no id", item=draft.source_order_id)
    return CreatedOrder(remote_id=str(created["id"]), number=str(created["id"]), existed=False)


def _order_id(order_id: str) -> str:
    if not str(order_id).isdigit():
        raise Rejected(f"'{order_id}' is not a BigCommerce order id", code="invalid_id", item=order_id)
    return str(order_id)


def cancel(connection: Connection, order_id: str, reason: str) -> bool:
    """Set status 5 (Cancelled); False when it already is. A shipped order is refused."""
    client = BigCommerceClient(connection)
    oid = _order_id(order_id)
    order = client.call("GET", "v2", f"orders/{oid}", missing_ok=True)
    if order is None:
        raise Rejected(f"BigCommerce order {oid} does not exist", code=404, item=oid)
    status = int(order.get("status_id") or 0)
    if status == CANCELLED:
        return False
    if status in SHIPPED_STATUSES:
        raise Rejected(f"BigCommerce order {oid} is already {order.get('status') or 'shipped'}: "
                       "it cannot be cancelled any more", code="shipped", item=oid)
    body = order_cancel(reason, str(order.get("staff_notes") or ""))
    client.call("PUT", "v2", f"orders/{oid}", json=body,
                item=oid)
    return True


def _full(client: BigCommerceClient, order: dict) -> Order:
    oid = order["id"]
    lines: list[dict] = []
    for _, items in client.v2_pages(f"orders/{oid}/products", {"limit": V2_MAX_LIMIT}):
        lines.extend(items)
    shipping = client.call("GET", "v2", f"orders/{oid}/shipping_addresses") or []
    return to_order(order, lines, shipping)


def read(connection: Connection, order_ids: list[str]) -> list[Order]:
    client = BigCommerceClient(connection)
    out = []
    for oid in dict.fromkeys(str(i) for i in order_ids):
        if not oid.isdigit():
            continue
        order = client.call("GET", "v2", f"orders/{oid}", missing_ok=True)
        if order is not None:
            out.append(_full(client, order))
    return out


def _decode(cursor: str | None) -> dict[str, Any]:
    return decode_cursor(cursor, what="bigcommerce order")


def stream(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """Orders bridge created (those carrying an ``external_order_id``) modified since the
    cursor, oldest change first, one page per API page."""
    client = BigCommerceClient(connection)
    state = _decode(cursor)
    since = state.get("since") or iso(datetime.now(UTC) - FIRST_WINDOW)
    newest = state.get("hw")
    params = {"min_date_modified": since, "sort": "date_modified:asc", "limit": V2_MAX_LIMIT,
              "page": int(state.get("page") or 1)}
    pages = client.v2_pages("orders", params)
    for page, items in pages:
        orders = []
        for o in items:
            modified = parse_rfc2822(o.get("date_modified"))
            if modified and (newest is None or modified > parse_iso(newest)):  # type: ignore[operator]
                newest = iso(modified)
            if o.get("external_order_id"):
                orders.append(_full(client, o))
        if len(items) < V2_MAX_LIMIT:
            yield OrderPage(orders=orders, cursor=encode_cursor({"since": newest or since}))
            return
        yield OrderPage(orders=orders, cursor=encode_cursor({"since": since, "page": page + 1,
                                                          "hw": newest}))


def shipments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """``GET /v2/orders/{id}/shipments`` (204 when none) for each order."""
    client = BigCommerceClient(connection)
    out: list[Fulfillment] = []
    for oid in dict.fromkeys(str(i) for i in order_ids):
        if not oid.isdigit():
            continue
        items = client.call("GET", "v2", f"orders/{oid}/shipments",
                            params={"limit": V2_MAX_LIMIT}, missing_ok=True) or []
        out.extend(to_fulfillment(s) for s in items)
    return out

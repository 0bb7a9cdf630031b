"""Orders: creating TikTok orders (idempotent by the TikTok order id kept in order meta),
cancelling, reading, and reading their tracking from the active tracking plugin."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.connection import Connection
from bridge.errors import Misconfigured, Rejected
from bridge.models import CreatedOrder, Fulfillment, Order, OrderDraft, OrderPage
from bridge.values import decode_cursor, encode_cursor
from bridge_woocommerce import mapping, tracking
from bridge_woocommerce.catalog import _after, _server_now
from bridge_woocommerce.client import WooClient
from bridge_woocommerce.refunds import order_refunds, refunded_units
from bridge_woocommerce.store import NO_TRACKING, active_tracking

#: How far back find_order looks for an order carrying a TikTok order id.
LOOKBACK = timedelta(days=90)
LINK_STATE = "woocommerce:order:"
LOOKUP_FIELDS = "id,number,status,transaction_id,meta_data"
UNCANCELLABLE = ("completed", "refunded", "trash")


def _carries(obj: dict[str, Any], source_order_id: str) -> bool:
    return str(mapping.meta_value(obj, mapping.SOURCE_META) or "") == source_order_id


def find_order(connection: Connection, source_order_id: str) -> str | None:
    client = WooClient(connection)
    known = connection.state.get(LINK_STATE + source_order_id)
    if known:
        try:
            obj = client.get(f"/orders/{known}", {"_fields": LOOKUP_FIELDS}, what=f"order {known}")
            if _carries(obj, source_order_id):
                return str(obj["id"])
        except Rejected:
            pass  # deleted since: look again
    after = mapping.wc_gmt(datetime.now(UTC) - LOOKBACK)
    # No meta filter exists in wc/v3: list recent API-created orders, trimmed, and match the meta.
    params = {"created_via": "rest-api", "after": after, "dates_are_gmt": True, "orderby": "date",
              "order": "desc", "status": "any", "_fields": LOOKUP_FIELDS, "include_meta": mapping.SOURCE_META}
    for _, items, _, _ in client.pages("/orders", params, what="order lookup"):
        for obj in items:
            if _carries(obj, source_order_id):
                connection.state[LINK_STATE + source_order_id] = str(obj["id"])
                return str(obj["id"])
    return None


def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    existing = find_order(connection, draft.source_order_id)
    client = WooClient(connection)
    if existing:
        obj = client.get(f"/orders/{existing}", {"_fields": "id,number"}, what=f"order {existing}")
        return CreatedOrder(remote_id=existing, number=str(obj.get("number") or existing), existed=True)
    try:
        obj = client.call("POST", "/wc/v3/orders", json=mapping.order_payload(draft),
                          what=f"order for {draft.source} {draft.source_order_id}")
    except Rejected as exc:
        exc.item = draft.source_order_id
        raise
    connection.state[LINK_STATE + draft.source_order_id] = str(obj["id"])
    return CreatedOrder(remote_id=str(obj["id"]), number=str(obj.get("number") or obj["id"]), existed=False)


def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    client = WooClient(connection)
    obj = client.get(f"/orders/{order_id}", {"_fields": "id,status"}, what=f"order {order_id}")
    status = obj.get("status")
    if status == "cancelled":
        return False
    if status in UNCANCELLABLE:
        raise Rejected(f"WooCommerce order {order_id} is {status} and cannot be cancelled any more",
                       code="order_not_cancellable", item=str(order_id))
    # WooCommerce restocks managed items when an order moves to cancelled.
    client.call("PUT", f"/wc/v3/orders/{order_id}", json={"status": "cancelled"}, what=f"order {order_id}")
    if reason:
        client.call("POST", f"/wc/v3/orders/{order_id}/notes",
                    json={"note": f"Cancelled on TikTok Shop: {reason}", "customer_note": False},
                    what=f"order {order_id} note")
    return True


def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    client = WooClient(connection)
    ids = [i for i in dict.fromkeys(str(o) for o in order_ids) if i.isdigit()]
    out: list[Order] = []
    for n in range(0, len(ids), 100):
        for _, items, _, _ in client.pages("/orders", {"include": ids[n:n + 100], "status": "any"}, what="orders"):
            out.extend(_with_refunds(client, o) for o in items)
    return out


def _with_refunds(client: WooClient, obj: dict[str, Any]) -> Order:
    """The order with each line's refunded units (read from its refunds, when it has any)."""
    order = mapping.order(obj)
    if not obj.get("refunds"):
        return order
    done = refunded_units(order_refunds(client, str(obj["id"])))
    return order.model_copy(update={"lines": [ln.model_copy(update={"cancelled_quantity": done.get(ln.remote_id, 0)})
                                              for ln in order.lines]})


def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """Orders bridge created (they carry a TikTok order id), modified since the cursor; without
    one the last 30 days. Same cursor scheme as the product stream."""
    client = WooClient(connection)
    state = decode_cursor(cursor, what="woocommerce order")
    since = state.get("since") or mapping.wc_gmt(datetime.now(UTC) - timedelta(days=30))
    start, hw = state.get("start"), state.get("hw")
    params = {"modified_after": _after(since), "dates_are_gmt": True, "orderby": "id", "order": "asc",
              "status": "any", "created_via": "rest-api"}
    for page, items, total, response in client.pages("/orders", params, start=int(state.get("page", 0)) + 1,
                                                     what="orders"):
        start = start or _server_now(response)
        for o in items:
            if o.get("date_modified_gmt") and (hw is None or o["date_modified_gmt"] > hw):
                hw = o["date_modified_gmt"]
        last = page >= total or not items
        token = encode_cursor({"since": min(hw, start) if hw else since} if last else
                           {"since": since, "page": page, "start": start, "hw": hw})
        orders = [mapping.order(o) for o in items]
        yield OrderPage(orders=[o for o in orders if o.source_order_id], cursor=token)


def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    client = WooClient(connection)
    plugins = active_tracking(connection, client)
    if not plugins:
        raise Misconfigured(NO_TRACKING + ": install and activate one in WordPress admin > Plugins")
    ids = [i for i in dict.fromkeys(str(o) for o in order_ids) if i.isdigit()]
    out: list[Fulfillment] = []
    for n in range(0, len(ids), 100):
        chunk = ids[n:n + 100]
        orders: dict[str, dict[str, Any]] = {}
        params = {"include": chunk, "status": "any", "_fields": "id,status,date_modified_gmt,meta_data",
                  "include_meta": ",".join(tracking.META_KEYS)}
        for _, items, _, _ in client.pages("/orders", params, what="orders"):
            orders.update({str(o["id"]): o for o in items})
        for oid in chunk:
            obj = orders.get(oid)
            if obj is None:
                continue
            collect = tracking.Collector(oid)
            if "shipment-tracking" in plugins:
                items = client.call("GET", f"/{tracking.SHIPMENT_TRACKING_NS}/orders/{oid}/shipment-trackings",
                                    what=f"order {oid} shipment trackings")
                collect.shipment_tracking_rest(list(items or []))
            # Order meta of either plugin (AfterShip also migrates Shipment Tracking items into its own).
            collect.shipment_tracking_meta(obj)
            collect.aftership_meta(obj)
            out.extend(collect.out)
    return out

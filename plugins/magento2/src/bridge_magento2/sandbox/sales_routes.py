"""Sandbox routes of sales: orders (create, search, read, cancel, comments) and shipments.

``POST /V1/orders`` stores the entity as given (totals, ``ext_order_id``, addresses) and, like
Magento's order repository, creates no stock reservation. Cancelling is refused once an order
is shipped (Magento answers ``false``); creating a shipment is the merchant's act
(:meth:`MagentoSandbox.fulfill_order`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from bridge_magento2.sandbox.app import REST, BadRequest, NotFound, body_json
from bridge_magento2.sandbox.criteria import parse, search
from bridge_magento2.sandbox.state import State, now

if TYPE_CHECKING:  # pragma: no cover
    from bridge_magento2.sandbox import MagentoSandbox

REQUIRED = ("customer_email", "grand_total", "base_grand_total", "items")
NO_ORDER = "The entity that was requested doesn't exist. Verify the entity and try again."


def order_or_404(st: State, request: Request) -> dict[str, Any]:
    """The order of the path's ``order_id``, or Magento's 404."""
    raw = request.path_params["order_id"]
    order = st.orders.get(int(raw)) if str(raw).isdigit() else None
    if order is None:
        raise NotFound(NO_ORDER)
    return order


def routes(sb: MagentoSandbox) -> list[tuple[str, str, Any, bool]]:
    st = sb.state

    async def list_orders(request: Request) -> Any:
        with st.lock:
            rows = list(st.orders.values())
            if st.search_lag:  # a new order shows in searches that much later
                now = time.monotonic()
                rows = [o for o in rows if st.indexed_at.get(o["entity_id"], 0) <= now]
            return search(rows, parse(request.query_params.multi_items()), index=st.orders)

    async def create_order(request: Request) -> Any:
        entity = (await body_json(request)).get("entity")
        if not isinstance(entity, dict):
            raise BadRequest('"%fieldName" is required. Enter and try again.', {"fieldName": "entity"})
        for name in REQUIRED:
            if entity.get(name) in (None, "", []):
                raise BadRequest('"%fieldName" is required. Enter and try again.', {"fieldName": name})
        for item in entity["items"]:
            if not item.get("sku"):
                raise BadRequest('"%fieldName" is required. Enter and try again.', {"fieldName": "sku"})
        with st.lock:
            oid = st.new_id("order")
            stamp = now()
            order = {**entity, "entity_id": oid, "increment_id": f"{oid:09d}", "created_at": entity.get("created_at") or stamp,
                     "updated_at": stamp, "state": entity.get("state") or "new",
                     "status": entity.get("status") or "pending", "status_histories": []}
            order["items"] = [{**it, "item_id": st.new_id("item"), "order_id": oid, "qty_shipped": 0}
                              for it in entity["items"]]
            ext = dict(order.get("extension_attributes") or {})
            assignments = []
            for a in ext.get("shipping_assignments") or []:
                assignments.append({**a, "items": order["items"]})
            ext["shipping_assignments"] = assignments
            order["extension_attributes"] = ext
            if order.get("billing_address"):
                order["billing_address"] = {**order["billing_address"], "parent_id": oid}
            st.orders[oid] = order
            st.indexed_at[oid] = time.monotonic() + st.search_lag
        return order

    async def get_order(request: Request) -> Any:
        return order_or_404(st, request)

    async def cancel(request: Request) -> Any:
        order = order_or_404(st, request)
        with st.lock:
            shipped = any(float(i.get("qty_shipped") or 0) > 0 for i in order["items"])
            if order["state"] in ("canceled", "complete", "closed", "holded") or shipped:
                return False
            order.update(state="canceled", status="canceled", updated_at=now())
        return True

    async def add_comment(request: Request) -> Any:
        order = order_or_404(st, request)
        history = (await body_json(request)).get("statusHistory")
        if not isinstance(history, dict) or not history.get("comment"):
            raise BadRequest('"%fieldName" is required. Enter and try again.', {"fieldName": "comment"})
        with st.lock:
            entry = {**history, "entity_id": st.new_id("comment"), "parent_id": order["entity_id"],
                     "created_at": now(), "entity_name": "order"}
            order["status_histories"] = [entry, *order.get("status_histories", [])]
            if history.get("status"):
                order["status"] = history["status"]
            order["updated_at"] = now()
        return True

    async def comments(request: Request) -> Any:
        order = order_or_404(st, request)
        items = order.get("status_histories", [])
        return {"items": items, "search_criteria": {"filter_groups": []}, "total_count": len(items)}

    async def shipments(request: Request) -> Any:
        with st.lock:
            return search(st.shipments.values(), parse(request.query_params.multi_items()), index=st.shipments)

    async def shipment(request: Request) -> Any:
        raw = request.path_params["shipment_id"]
        found = st.shipments.get(int(raw)) if raw.isdigit() else None
        if found is None:
            raise NotFound(NO_ORDER)
        return found

    return [
        ("GET", REST + "orders", list_orders, True),
        ("POST", REST + "orders", create_order, True),
        ("GET", REST + "orders/{order_id}", get_order, True),
        ("POST", REST + "orders/{order_id}/cancel", cancel, True),
        ("POST", REST + "orders/{order_id}/comments", add_comment, True),
        ("GET", REST + "orders/{order_id}/comments", comments, True),
        ("GET", REST + "shipments", shipments, True),
        ("GET", REST + "shipment/{shipment_id}", shipment, True),
    ]

"""Emulated order routes (wc/v3 orders and notes) and the tracking plugins' REST routes."""

from __future__ import annotations

import time
from typing import Any

from bridge_woocommerce.sandbox import orders as ops
from bridge_woocommerce.sandbox.http import (
    ApiError,
    Req,
    Resp,
    filter_collection,
    only_fields,
    paginate,
)
from bridge_woocommerce.sandbox.routes import ORDER_ORDERBY, _meta_filter, route
from bridge_woocommerce.sandbox.state import SiteState, now, stamp


def _order(site: SiteState, oid: str) -> dict[str, Any]:
    order = site.orders.get(int(oid)) if oid.isdigit() else None
    if order is None:
        raise ApiError(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
    return order


def _render(req: Req, order: dict[str, Any]) -> dict[str, Any]:
    return only_fields(_meta_filter(req, order), req.params.get("_fields"))


@route("GET", "/wc/v3/orders")
def list_orders(site: SiteState, req: Req) -> Resp:
    with site.lock:
        items = [o for o in site.orders.values() if o["status"] != "trash"]
        if site.search_lag:  # a new order shows in lists that much later
            now = time.monotonic()
            items = [o for o in items if site.indexed_at.get(o["id"], 0) <= now]
        status = req.params.get("status") or "any"
        if status != "any":
            items = [o for o in items if o["status"] in status.split(",")]
        if req.params.get("created_via"):
            items = [o for o in items if o["created_via"] in req.params["created_via"].split(",")]
        # AfterShip Tracking adds "modified" to the orders' orderby enum.
        allowed = (*ORDER_ORDERBY, "modified") if site.aftership else ORDER_ORDERBY
        items = filter_collection(req, items, allowed)
        page, headers = paginate(req, items)
        return Resp(200, [_render(req, o) for o in page], headers)


@route("POST", "/wc/v3/orders")
def create_order(site: SiteState, req: Req) -> Resp:
    return Resp(201, ops.create(site, req.json or {}))


@route("GET", "/wc/v3/orders/{oid}")
def get_order(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        return Resp(200, _render(req, _order(site, oid)))


@route("PUT", "/wc/v3/orders/{oid}")
def put_order(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        return Resp(200, ops.update(site, _order(site, oid), req.json or {}))


@route("DELETE", "/wc/v3/orders/{oid}")
def delete_order(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        order = _order(site, oid)
        if req.params.get("force") in ("true", "1"):
            del site.orders[order["id"]]
        else:
            order["status"] = "trash"
        site.emit("order.deleted", {"id": order["id"]})
        return Resp(200, order)


@route("GET", "/wc/v3/orders/{oid}/notes")
def list_notes(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        _order(site, oid)
        return Resp(200, list(reversed(site.notes.get(int(oid), []))))


@route("POST", "/wc/v3/orders/{oid}/notes")
def add_note(site: SiteState, req: Req, oid: str) -> Resp:
    body = req.json or {}
    if not body.get("note"):
        raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): note", params=["note"])
    with site.lock:
        order = _order(site, oid)
        ts = stamp(now())
        note = {"id": site.new_id(), "author": "system", "date_created": ts, "date_created_gmt": ts,
                "note": body["note"], "customer_note": bool(body.get("customer_note")),
                "added_by_user": bool(body.get("added_by_user"))}
        site.notes.setdefault(order["id"], []).append(note)
        return Resp(201, note)


@route("GET", "/wc/v3/orders/{oid}/refunds")
def list_refunds(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        items = list(reversed(site.refunds.get(_order(site, oid)["id"], [])))
        page, headers = paginate(req, items)
        return Resp(200, page, headers)


@route("POST", "/wc/v3/orders/{oid}/refunds")
def create_refund(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        return Resp(201, ops.create_refund(site, _order(site, oid), req.json or {}))


@route("GET", "/wc/v3/orders/{oid}/refunds/{rid}")
def get_refund(site: SiteState, req: Req, oid: str, rid: str) -> Resp:
    with site.lock:
        for ref in site.refunds.get(_order(site, oid)["id"], []):
            if str(ref["id"]) == rid:
                return Resp(200, ref)
    raise ApiError(404, "woocommerce_rest_invalid_id", "Invalid ID.")


# --------------------------------------------------------------------------- WooCommerce Shipment Tracking


def _st_order(site: SiteState, oid: str) -> dict[str, Any]:
    order = site.orders.get(int(oid)) if oid.isdigit() else None
    if order is None:
        raise ApiError(404, "woocommerce_rest_order_invalid_id", "Invalid order ID.")
    return order


def _st_items(order: dict[str, Any]) -> list[dict[str, Any]]:
    return list(ops.get_meta(order, "_wc_shipment_tracking_items") or [])


@route("GET", "/wc-shipment-tracking/v3/orders/{oid}/shipment-trackings")
def st_list(site: SiteState, req: Req, oid: str) -> Resp:
    with site.lock:
        order = _st_order(site, oid)
        return Resp(200, [ops.st_render(order, it) for it in _st_items(order)])


@route("POST", "/wc-shipment-tracking/v3/orders/{oid}/shipment-trackings")
def st_create(site: SiteState, req: Req, oid: str) -> Resp:
    body = req.json or {}
    if body.get("tracking_id"):
        raise ApiError(400, "woocommerce_rest_shop_order_shipment_tracking_exists",
                       "Cannot create existing shipment tracking.")
    if not body.get("tracking_number"):
        raise ApiError(400, "rest_missing_callback_param", "Missing parameter(s): tracking_number",
                       params=["tracking_number"])
    with site.lock:
        order = _st_order(site, oid)
        item = ops.st_add(site, order, str(body["tracking_number"]), str(body.get("tracking_provider") or ""),
                          str(body.get("custom_tracking_provider") or ""), str(body.get("custom_tracking_link") or ""),
                          str(body.get("date_shipped") or ""))
        return Resp(201, ops.st_render(order, item))


@route("GET", "/wc-shipment-tracking/v3/orders/{oid}/shipment-trackings/{tid}")
def st_get(site: SiteState, req: Req, oid: str, tid: str) -> Resp:
    with site.lock:
        order = _st_order(site, oid)
        for it in _st_items(order):
            if it["tracking_id"] == tid:
                return Resp(200, ops.st_render(order, it))
    raise ApiError(404, "woocommerce_rest_order_shipment_tracking_invalid_id", "Invalid shipment tracking ID.")


@route("DELETE", "/wc-shipment-tracking/v3/orders/{oid}/shipment-trackings/{tid}")
def st_delete(site: SiteState, req: Req, oid: str, tid: str) -> Resp:
    with site.lock:
        order = _st_order(site, oid)
        items = _st_items(order)
        for it in items:
            if it["tracking_id"] == tid:
                ops.set_meta(order, "_wc_shipment_tracking_items", [i for i in items if i is not it])
                return Resp(200, ops.st_render(order, it))
    raise ApiError(404, "woocommerce_rest_order_shipment_tracking_invalid_id", "Invalid shipment tracking ID.")


@route("GET", "/wc-shipment-tracking/v3/shipment-trackings/providers")
def st_providers(site: SiteState, req: Req) -> Resp:
    return Resp(200, ops.PROVIDERS)


@route("GET", "/wc/aftership/v1/settings")
def aftership_settings(site: SiteState, req: Req) -> Resp:
    return Resp(200, {"show_orders_actions": ["processing", "completed"], "use_track_button": False,
                      "custom_domain": "", "couriers": ["usps", "ups", "fedex", "dhl", "royal-mail"]})

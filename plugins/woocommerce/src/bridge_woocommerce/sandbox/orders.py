"""Orders in the sandbox: creation as WooCommerce's controller does it (product resolution, totals,
stock reduced once on processing/paid, restored on cancel), and both tracking plugins' data."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from bridge_woocommerce.sandbox.http import ApiError
from bridge_woocommerce.sandbox.state import STOCK_STATUSES, SiteState, money, now, slugify, stamp

ADDRESS_KEYS = ("first_name", "last_name", "company", "address_1", "address_2", "city", "state", "postcode",
                "country", "email", "phone")
STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
PROVIDERS = {
    "United Kingdom": {"Royal Mail": "https://www.royalmail.com/track-your-item#/tracking-results/%1$s",
                       "DPD.co.uk": "https://track.dpd.co.uk/parcels/%1$s", "ParcelForce":
                       "https://www.parcelforce.com/track-trace?trackNumber=%1$s"},
    "United States": {"USPS": "https://tools.usps.com/go/TrackConfirmAction_input?qtc_tLabels1=%1$s",
                      "UPS": "https://www.ups.com/track?tracknum=%1$s",
                      "Fedex": "https://www.fedex.com/apps/fedextrack/?tracknumbers=%1$s"},
}


def _dec(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise ApiError(400, "rest_invalid_param", f"Invalid parameter(s): {what}") from None


def create(site: SiteState, body: dict[str, Any]) -> dict[str, Any]:
    with site.lock:
        customer = int(body.get("customer_id") or 0)
        if customer:
            raise ApiError(400, "woocommerce_rest_invalid_customer_id", "Customer ID is invalid.")
        items = []
        for raw in body.get("line_items") or []:
            pid, vid = int(raw.get("product_id") or 0), int(raw.get("variation_id") or 0)
            if raw.get("sku"):
                pid, vid = site.by_sku.get(raw["sku"], (0, None))  # type: ignore[assignment]
                vid = vid or 0
            if not pid and not vid:
                raise ApiError(400, "woocommerce_rest_required_product_reference", "Product ID or SKU is required.")
            obj = site.variations.get(vid) if vid else site.products.get(pid)
            if obj is None or (vid and obj["parent_id"] != pid and pid):
                raise ApiError(400, "woocommerce_rest_invalid_product_id", "Invalid product ID.")
            qty = int(raw.get("quantity") or 1)
            total = _dec(raw.get("total"), "line_items") if raw.get("total") not in (None, "") else (
                Decimal(obj["price"]) * qty)
            subtotal = _dec(raw.get("subtotal"), "line_items") if raw.get("subtotal") not in (None, "") else total
            parent = site.products[obj.get("parent_id") or obj["id"]]
            items.append({"id": site.new_id(), "name": parent["name"], "product_id": parent["id"],
                          "variation_id": vid, "quantity": qty, "tax_class": "", "subtotal": money(subtotal),
                          "subtotal_tax": "0.00", "total": money(total), "total_tax": "0.00", "taxes": [],
                          "meta_data": _meta(raw.get("meta_data")), "sku": obj.get("sku") or "",
                          "price": float(total / qty)})
        shipping_lines = []
        for raw in body.get("shipping_lines") or []:
            if not raw.get("method_id"):
                raise ApiError(400, "woocommerce_rest_invalid_shipping_item",
                               "Shipping method ID is required.")
            shipping_lines.append({"id": site.new_id(), "method_title": raw.get("method_title") or "",
                                   "method_id": raw["method_id"], "instance_id": "",
                                   "total": money(_dec(raw.get("total") or 0, "shipping_lines")),
                                   "total_tax": "0.00", "taxes": [], "meta_data": []})
        oid = site.new_id()
        ts = stamp(now())
        shipping_total = sum((Decimal(s["total"]) for s in shipping_lines), Decimal(0))
        order = {
            "id": oid, "parent_id": 0, "number": str(oid), "order_key": "wc_order_" + hashlib.md5(str(oid).encode()).hexdigest()[:13],
            "created_via": "rest-api", "version": "9.4.0", "status": "pending",
            "currency": (body.get("currency") or site.currency).upper(), "date_created": ts, "date_created_gmt": ts,
            "date_modified": ts, "date_modified_gmt": ts, "discount_total": "0.00", "discount_tax": "0.00",
            "shipping_total": money(shipping_total), "shipping_tax": "0.00", "cart_tax": "0.00",
            "total": money(sum((Decimal(i["total"]) for i in items), Decimal(0)) + shipping_total),
            "total_tax": "0.00", "prices_include_tax": False, "customer_id": 0, "customer_note": body.get("customer_note") or "",
            "billing": {k: (body.get("billing") or {}).get(k, "") for k in ADDRESS_KEYS},
            "shipping": {k: (body.get("shipping") or {}).get(k, "") for k in ADDRESS_KEYS if k != "email"},
            "payment_method": body.get("payment_method") or "", "payment_method_title": body.get("payment_method_title") or "",
            "transaction_id": body.get("transaction_id") or "", "date_paid": None, "date_paid_gmt": None,
            "date_completed": None, "date_completed_gmt": None, "cart_hash": "",
            "meta_data": _meta(body.get("meta_data")), "line_items": items, "tax_lines": [],
            "shipping_lines": shipping_lines, "fee_lines": [], "coupon_lines": [], "refunds": [],
        }
        site.orders[oid] = order
        site.indexed_at[oid] = time.monotonic() + site.search_lag
        site.notes[oid] = []
        set_status(site, order, body.get("status") or "pending")
        if body.get("set_paid"):
            order["date_paid"] = order["date_paid_gmt"] = ts
            if order["status"] in ("pending", "failed", "on-hold"):
                set_status(site, order, "processing")
            reduce_stock(site, order)
        site.emit("order.created", dict(order))
        return order


def _meta(raw: Any) -> list[dict[str, Any]]:
    return [{"id": int(time.time_ns() % 10**9) + n, "key": m["key"], "value": m.get("value")}
            for n, m in enumerate(raw or []) if isinstance(m, dict) and m.get("key")]


def set_meta(order: dict[str, Any], key: str, value: Any) -> None:
    for m in order["meta_data"]:
        if m["key"] == key:
            m["value"] = value
            return
    order["meta_data"].append({"id": int(time.time_ns() % 10**9), "key": key, "value": value})


def get_meta(order: dict[str, Any], key: str) -> Any:
    return next((m["value"] for m in order["meta_data"] if m["key"] == key), None)


def reduce_stock(site: SiteState, order: dict[str, Any]) -> None:
    """``wc_maybe_reduce_stock_levels``: once per order, managed items only."""
    if order["id"] in site.stock_reduced:
        return
    site.stock_reduced.add(order["id"])
    for item in order["line_items"]:
        obj = site.item(item["product_id"], item["variation_id"] or None)
        if obj is not None:
            site.adjust_stock(obj, -int(item["quantity"]))


def restore_stock(site: SiteState, order: dict[str, Any]) -> None:
    """``wc_maybe_increase_stock_levels``: on cancelled/pending, if stock was reduced."""
    if order["id"] not in site.stock_reduced:
        return
    site.stock_reduced.discard(order["id"])
    for item in order["line_items"]:
        obj = site.item(item["product_id"], item["variation_id"] or None)
        if obj is not None:
            site.adjust_stock(obj, int(item["quantity"]))


def set_status(site: SiteState, order: dict[str, Any], status: str) -> None:
    status = status.removeprefix("wc-")
    if status not in STATUSES:
        raise ApiError(400, "rest_invalid_param", "Invalid parameter(s): status",
                       params={"status": f"status is not one of {', '.join(STATUSES)}."})
    if status == order["status"]:
        return
    order["status"] = status
    if status in STOCK_STATUSES:
        reduce_stock(site, order)
    elif status in ("cancelled", "pending"):
        restore_stock(site, order)
    if status == "completed":
        order["date_completed"] = order["date_completed_gmt"] = stamp(now())


def update(site: SiteState, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    with site.lock:
        for m in body.get("meta_data") or []:
            if isinstance(m, dict) and m.get("key"):
                set_meta(order, m["key"], m.get("value"))
        for key in ("customer_note", "transaction_id", "payment_method", "payment_method_title"):
            if key in body:
                order[key] = body[key]
        if body.get("status"):
            set_status(site, order, str(body["status"]))
        site.touch(order)
        site.emit("order.updated", dict(order))
        return order


# --------------------------------------------------------------------------- tracking plugins


def _provider_link(provider: str, number: str) -> tuple[str, str]:
    for group in PROVIDERS.values():
        for name, url in group.items():
            if slugify(name) == slugify(provider):
                return name, url.replace("%1$s", number)
    return provider, ""


def st_add(site: SiteState, order: dict[str, Any], number: str, provider: str = "", custom: str = "",
           link: str = "", shipped: str = "") -> dict[str, Any]:
    """Shipment Tracking's ``add_tracking_item``: writes the meta, leaves date_modified alone."""
    with site.lock:
        when = int(datetime.fromisoformat(shipped).replace(tzinfo=UTC).timestamp()) if shipped else int(time.time())
        item = {"tracking_provider": slugify(provider) if provider else "", "custom_tracking_provider": custom,
                "custom_tracking_link": link, "tracking_number": number, "date_shipped": str(when),
                "tracking_id": hashlib.md5(f"{provider or custom}-{number}{time.time_ns()}".encode()).hexdigest()}
        items = list(get_meta(order, "_wc_shipment_tracking_items") or [])
        items.append(item)
        set_meta(order, "_wc_shipment_tracking_items", items)
        return item


def st_render(order: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """A Shipment Tracking item as its REST API shows it (display provider name, link)."""
    number = item["tracking_number"]
    if item.get("custom_tracking_provider"):
        name, link = item["custom_tracking_provider"], item.get("custom_tracking_link") or ""
    else:
        name, link = _provider_link(item.get("tracking_provider") or "", number)
    shipped = datetime.fromtimestamp(int(item.get("date_shipped") or 0), tz=UTC).strftime("%Y-%m-%d")
    return {"tracking_id": item["tracking_id"], "tracking_provider": name, "tracking_link": link,
            "tracking_number": number, "date_shipped": shipped}


def aftership_add(site: SiteState, order: dict[str, Any], numbers: str, slug: str, legacy: bool) -> str:
    """AfterShip's editor: items (current) or the single legacy metas; bumps date_modified."""
    with site.lock:
        tracking_id = hashlib.md5(f"{slug}-{numbers}".encode()).hexdigest()
        if legacy:
            set_meta(order, "_aftership_tracking_number", numbers)
            set_meta(order, "_aftership_tracking_provider_name", slug)
        else:
            local = datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")  # site-local time with a literal Z
            items = list(get_meta(order, "_aftership_tracking_items") or [])
            items.append({"slug": slug, "tracking_number": numbers, "tracking_id": tracking_id,
                          "additional_fields": {"account_number": "", "key": "", "postal_code": "",
                                                "ship_date": "", "destination_country": "", "state": ""},
                          "line_items": [], "metrics": {"created_at": local, "updated_at": local}})
            set_meta(order, "_aftership_tracking_items", items)
            set_meta(order, "_aftership_tracking_number", items[0]["tracking_number"])
            set_meta(order, "_aftership_tracking_provider_name", items[0]["slug"])
        site.touch(order)
        site.emit("order.updated", dict(order))
        return tracking_id


# --------------------------------------------------------------------------- refunds


def refunded_qty(site: SiteState, order: dict[str, Any]) -> dict[int, int]:
    """Order line item id -> units refunded so far (over the order's refund objects)."""
    out: dict[int, int] = {}
    for ref in site.refunds.get(order["id"], []):
        for li in ref["line_items"]:
            item_id = int(next((m["value"] for m in li["meta_data"] if m["key"] == "_refunded_item_id"), 0))
            out[item_id] = out.get(item_id, 0) + abs(int(li["quantity"]))
    return out


def create_refund(site: SiteState, order: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """``POST /orders/{id}/refunds`` as the v3 controller and ``wc_create_refund`` do it.

    ``api_refund`` and ``api_restock`` default to true (wc/v3); with ``api_refund`` the order's
    gateway is asked to pay the money back, and a manual/TikTok payment method cannot: 500
    ``woocommerce_rest_cannot_create_order_refund``. ``amount`` wins over the line totals; more
    than the refundable remainder is refused; line quantities are not checked against what was
    refunded before (core does not check them either: the caller must)."""
    with site.lock:
        lines_in = body.get("line_items") or []
        amount_raw = body.get("amount")
        items: dict[int, dict[str, Any]] = {int(li["id"]): li for li in order["line_items"]}
        ship: dict[int, dict[str, Any]] = {int(s["id"]): s for s in order["shipping_lines"]}
        line_sum = Decimal(0)
        for raw in lines_in:
            if int(raw.get("id") or 0) not in items and int(raw.get("id") or 0) not in ship:
                raise ApiError(500, "woocommerce_rest_cannot_create_order_refund", "Invalid line item ID.")
            line_sum += _dec(raw.get("refund_total") or 0, "line_items")
        amount = _dec(amount_raw, "amount") if amount_raw not in (None, "") else line_sum
        if amount < 0:
            raise ApiError(400, "woocommerce_rest_invalid_order_refund", "Refund amount must be greater than zero.")
        refunded = sum((Decimal(r["amount"]) for r in site.refunds.get(order["id"], [])), Decimal(0))
        if amount > Decimal(order["total"]) - refunded:
            raise ApiError(500, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
        if body.get("api_refund", True) not in (False, "false", "0", 0):
            raise ApiError(500, "woocommerce_rest_cannot_create_order_refund",
                           f"The payment gateway for this order ({order['payment_method'] or 'none'}) does not "
                           "support automatic refunds.")
        ts = stamp(now())
        rid = site.new_id()
        refund_lines, shipping_lines = [], []
        for raw in lines_in:
            iid, qty = int(raw["id"]), int(raw.get("quantity") or 0)
            total = _dec(raw.get("refund_total") or 0, "line_items")
            if iid in ship:
                shipping_lines.append({"id": site.new_id(), "method_title": ship[iid]["method_title"],
                                       "total": money(-total), "meta_data": [
                                           {"id": site.new_id(), "key": "_refunded_item_id", "value": str(iid)}]})
                continue
            item = items[iid]
            refund_lines.append({"id": site.new_id(), "name": item["name"], "product_id": item["product_id"],
                                 "variation_id": item["variation_id"], "quantity": -qty, "subtotal": money(-total),
                                 "total": money(-total), "sku": item["sku"], "meta_data": [
                                     {"id": site.new_id(), "key": "_refunded_item_id", "value": str(iid)}]})
            restock = body.get("api_restock", True) not in (False, "false", "0", 0)
            if restock and qty and order["id"] in site.stock_reduced:
                obj = site.item(item["product_id"], item["variation_id"] or None)
                if obj is not None:
                    site.adjust_stock(obj, qty)
        refund = {"id": rid, "date_created": ts, "date_created_gmt": ts, "amount": money(amount),
                  "reason": str(body.get("reason") or ""), "refunded_by": int(body.get("refunded_by") or 0),
                  "refunded_payment": False, "meta_data": _meta(body.get("meta_data")), "line_items": refund_lines,
                  "tax_lines": [], "shipping_lines": shipping_lines, "fee_lines": []}
        site.refunds.setdefault(order["id"], []).append(refund)
        order["refunds"].append({"id": rid, "reason": refund["reason"], "total": money(-amount)})
        if refunded + amount >= Decimal(order["total"]):
            order["status"] = "refunded"
        site.touch(order)
        site.emit("order.updated", dict(order))
        return refund

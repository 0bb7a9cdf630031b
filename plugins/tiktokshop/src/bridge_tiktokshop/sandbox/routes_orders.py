"""Sandbox handlers of the shop, logistics, order, fulfilment, cancellation and event APIs."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from bridge_tiktokshop.markets import CORRECTION_WINDOW_HOURS, uses_mark_shipped
from bridge_tiktokshop.sandbox.gate import Ctx
from bridge_tiktokshop.sandbox.routes_products import _shop, page
from bridge_tiktokshop.sandbox.state import ApiError, Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox

TRACKING_RE = re.compile(r"^[A-Za-z0-9\-_./]{4,50}$")
SHIPPABLE = {"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"}


class OrderRoutes:
    def __init__(self, sb: TikTokSandbox) -> None:
        self.sb = sb
        self.world = sb.world

    # ------------------------------------------------------------------ shops & logistics

    def authorized_shops(self, ctx: Ctx) -> dict[str, Any]:
        return {"shops": [s.public() for s in self.world.shops_of(ctx.seller)]}

    def warehouses(self, ctx: Ctx) -> dict[str, Any]:
        return {"warehouses": _shop(ctx).warehouses}

    def delivery_options(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        wid = ctx.params["warehouse_id"]
        if wid not in shop.delivery_options:
            raise ApiError(11050001, f"Warehouse {wid} does not exist.")
        return {"delivery_options": shop.delivery_options[wid]}

    def providers(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        oid = ctx.params["delivery_option_id"]
        if oid in shop.providers:
            return {"shipping_providers": shop.providers[oid]}
        if any(o["id"] == oid for opts in shop.delivery_options.values() for o in opts):
            raise ApiError(21001016, "The delivery option is fulfilled by TikTok Shop: no shipping providers.")
        raise ApiError(11050001, f"Delivery option {oid} does not exist.")

    # ------------------------------------------------------------------ orders

    def search_orders(self, ctx: Ctx) -> dict[str, Any]:
        shop, body = _shop(ctx), ctx.body
        if "page_size" not in ctx.query:
            raise ApiError(11050001, "page_size is required.")
        field = ctx.query.get("sort_field", "create_time")
        if field not in ("create_time", "update_time"):
            raise ApiError(11050001, "sort_field must be create_time or update_time.")
        found = [o for o in shop.orders.values() if _matches(o, body)]
        found.sort(key=lambda o: (o[field], o["id"]), reverse=ctx.query.get("sort_order", "DESC") == "DESC")
        items, nxt = page(found, ctx)
        return {"orders": items, "next_page_token": nxt, "total_count": len(found)}

    def order_detail(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        ids = [i for i in (ctx.query.get("ids") or "").split(",") if i]
        if not ids or len(ids) > 50:
            raise ApiError(11050001, "ids needs 1-50 order ids.")
        return {"orders": [shop.orders[i] for i in ids if i in shop.orders]}

    def cancel(self, ctx: Ctx) -> dict[str, Any]:
        """Cancel Order (seller): the whole order, or the units named by ``order_line_item_ids``
        (item level: US and UK only, §13.5). No idempotency key: a repeat cancels again or is
        refused as already cancelled, as TikTok's would be (§13.2)."""
        shop = _shop(ctx)
        oid = str(ctx.body.get("order_id") or "")
        if oid not in shop.orders:
            raise ApiError(11050001, f"Order {oid} does not exist.")
        if not ctx.body.get("cancel_reason"):
            raise ApiError(11050001, "cancel_reason is required.")
        o = shop.orders[oid]
        if o["status"] == "CANCELLED":
            raise ApiError(21011012, "The order is already cancelled.")
        if o["status"] not in ("UNPAID", "ON_HOLD", "AWAITING_SHIPMENT"):
            raise ApiError(21011011, f"An order in status {o['status']} cannot be cancelled by the seller.")
        live = {li["id"]: li for li in o["line_items"] if li["display_status"] != "CANCELLED"}
        ids = [str(i) for i in ctx.body.get("order_line_item_ids") or []]
        if ids and any(i not in live for i in ids):
            raise ApiError(11050001, "Some order_line_item_ids are unknown or already cancelled.")
        if ids and set(ids) != set(live):
            if shop.region not in ("US", "GB"):
                raise ApiError(21011011, "Item-level cancellation is not supported in this market.")
            if o["status"] != "AWAITING_SHIPMENT":
                raise ApiError(21011011, f"Items of an order in status {o['status']} cannot be cancelled.")
            cid = self.sb.cancel_units(shop, o, [live[i] for i in ids], "SELLER", str(ctx.body["cancel_reason"]))
            return {"cancel_id": cid, "cancel_status": "CANCELLATION_REQUEST_COMPLETE"}
        self.sb.cancel_order_now(shop, o, "SELLER", str(ctx.body["cancel_reason"]))
        cid = next(c for c in reversed(list(shop.cancellations.values())) if c["order_id"] == oid)["cancel_id"]
        return {"cancel_id": cid, "cancel_status": "CANCELLATION_REQUEST_COMPLETE"}

    # ------------------------------------------------------------------ returns and cancellations

    def _after_sale(self, ctx: Ctx, records: list[dict[str, Any]], id_field: str, ids_filter: str,
                    status_field: str, status_filter: str, key: str) -> dict[str, Any]:
        if "page_size" not in ctx.query:
            raise ApiError(11050001, "page_size is required.")
        field = ctx.query.get("sort_field", "create_time")
        if field not in ("create_time", "update_time"):
            raise ApiError(11050001, "sort_field must be create_time or update_time.")
        body = ctx.body or {}
        found = []
        for r in records:
            if body.get(ids_filter) and r[id_field] not in [str(i) for i in body[ids_filter]]:
                continue
            if body.get("order_ids") and r["order_id"] not in [str(i) for i in body["order_ids"]]:
                continue
            if body.get(status_filter) and r[status_field] not in body[status_filter]:
                continue
            if not _matches(r, {k: v for k, v in body.items() if k.endswith(("_ge", "_lt"))}):
                continue
            found.append(r)
        found.sort(key=lambda r: (r[field], r[id_field]), reverse=ctx.query.get("sort_order", "DESC") == "DESC")
        items, nxt = page(found, ctx)
        return {key: items, "next_page_token": nxt, "total_count": len(found)}

    def search_returns(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        return self._after_sale(ctx, list(shop.returns.values()), "return_id", "return_ids", "return_status",
                                "return_status", "return_orders")

    def return_records(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        rid = ctx.params["return_id"]
        if rid not in shop.returns:
            raise ApiError(11050001, f"Return {rid} does not exist.")
        return {"records": list(shop.return_records.get(rid, []))}

    def search_cancellations(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        return self._after_sale(ctx, list(shop.cancellations.values()), "cancel_id", "cancel_ids",
                                "cancel_status", "cancel_status", "cancellations")

    # ------------------------------------------------------------------ fulfilment

    def _checked(self, shop: Shop, o: dict[str, Any], body: dict[str, Any]) -> tuple[str, str]:
        number, provider = str(body.get("tracking_number") or ""), str(body.get("shipping_provider_id") or "")
        if not TRACKING_RE.match(number):
            raise ApiError(11050001, "tracking_number must be 4-50 characters of A-Z a-z 0-9 - _ . /")
        valid = {p["id"] for p in shop.providers.get(o.get("delivery_option_id", ""), [])}
        if provider not in valid:
            raise ApiError(21011036, f"The shipping_provider_id {provider} is not valid for this order.")
        if o["shipping_type"] != "SELLER":
            raise ApiError(21011001, "The order ships with TikTok logistics.")
        return number, provider

    def mark_shipped(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        if not uses_mark_shipped(shop.region):
            raise ApiError(36009009, "Mark Package As Shipped is not available in this market.", 404)
        o = shop.orders.get(ctx.params["order_id"])
        if o is None:
            raise ApiError(11050001, "Order does not exist.")
        if o["status"] not in SHIPPABLE:
            raise ApiError(21011002, f"An order in status {o['status']} cannot be shipped.")
        number, provider = self._checked(shop, o, ctx.body)
        ids = [str(i) for i in ctx.body.get("order_line_item_ids") or []] or \
            [li["id"] for li in o["line_items"] if li["package_status"] == "TO_FULFILL"]
        lines = {li["id"]: li for li in o["line_items"]}
        if any(i not in lines or lines[i]["package_status"] != "TO_FULFILL" for i in ids):
            raise ApiError(21011003, "Some order_line_item_ids are unknown or already shipped.")
        pid = self.world.new_id()
        shop.packages[pid] = {"id": pid, "order_ids": [o["id"]], "line_ids": ids}
        self.sb.ship_lines(shop, o, pid, ids, number, provider)
        return {"order_id": o["id"], "package_id": pid, "order_line_item_ids": ids}

    def ship_package(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        pkg = shop.packages.get(ctx.params["package_id"])
        if pkg is None:
            raise ApiError(11050001, "Package does not exist.")
        o = shop.orders[pkg["order_ids"][0]]
        if o["status"] not in SHIPPABLE:
            raise ApiError(21011002, f"An order in status {o['status']} cannot be shipped.")
        info = ctx.body.get("self_shipment")
        if not info:
            raise ApiError(11050001, "self_shipment is required for SEND_BY_SELLER packages.")
        number, provider = self._checked(shop, o, info)
        self.sb.ship_lines(shop, o, pkg["id"], pkg["line_ids"], number, provider)
        return {}

    def _correct(self, shop: Shop, o: dict[str, Any], line_ids: list[str], body: dict[str, Any]) -> dict[str, Any]:
        lines = [li for li in o["line_items"] if li["id"] in line_ids]
        shipped = [li for li in lines if li.get("tracking_number")]
        if not shipped:
            raise ApiError(21011004, "The package has not been shipped yet.")
        window = CORRECTION_WINDOW_HOURS * 3600
        if any(self.world.now() - li["shipped_time"] > window for li in shipped):
            raise ApiError(21011049, "Shipping info can only be updated within 72 hours of shipping.")
        number, provider = self._checked(shop, o, body)
        names = {p["id"]: p["name"] for p in shop.providers.get(o["delivery_option_id"], [])}
        for li in shipped:
            li.update(tracking_number=number, shipping_provider_id=provider,
                      shipping_provider_name=names.get(provider, ""))
        o["tracking_number"], o["shipping_provider_id"] = number, provider
        o["update_time"] = self.world.now()
        return {}

    def update_order_shipping(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        o = shop.orders.get(ctx.params["order_id"])
        if o is None:
            raise ApiError(11050001, "Order does not exist.")
        return self._correct(shop, o, [li["id"] for li in o["line_items"]], ctx.body)

    def update_package_shipping(self, ctx: Ctx) -> dict[str, Any]:
        shop = _shop(ctx)
        pkg = shop.packages.get(ctx.params["package_id"])
        if pkg is None:
            raise ApiError(11050001, "Package does not exist.")
        return self._correct(shop, shop.orders[pkg["order_ids"][0]], pkg["line_ids"], ctx.body)

    # ------------------------------------------------------------------ events

    def get_webhooks(self, ctx: Ctx) -> dict[str, Any]:
        hooks = list(_shop(ctx).webhooks.values())
        return {"total_count": len(hooks), "webhooks": hooks}

    def put_webhook(self, ctx: Ctx) -> dict[str, Any]:
        from bridge_tiktokshop.sandbox.webhooks import TYPES
        from bridge_tiktokshop.webhooks import address_problem

        address, event = str(ctx.body.get("address") or ""), str(ctx.body.get("event_type") or "")
        if event not in TYPES:
            raise ApiError(11050001, f"Unknown event_type {event}.")
        problem = "it is required" if not address else address_problem(address)
        if problem:
            raise ApiError(11050001, f"Invalid address: {problem} (https, a domain name, no port, "
                                     "at most 255 characters).")
        now = self.world.now()
        shop = _shop(ctx)
        old = shop.webhooks.get(event)
        shop.webhooks[event] = {"address": address, "event_type": event,
                                "create_time": old["create_time"] if old else now, "update_time": now}
        return {}

    def delete_webhook(self, ctx: Ctx) -> dict[str, Any]:
        _shop(ctx).webhooks.pop(str(ctx.body.get("event_type") or ""), None)
        return {}


def _matches(o: dict[str, Any], body: dict[str, Any]) -> bool:
    for field in ("create_time", "update_time"):
        ge, lt = body.get(f"{field}_ge"), body.get(f"{field}_lt")
        if ge is not None and o[field] < int(ge):
            return False
        if lt is not None and o[field] >= int(lt):
            return False
    if body.get("order_status") and o["status"] != body["order_status"]:
        return False
    return not (body.get("shipping_type") and o["shipping_type"] != body["shipping_type"])

"""Orders on demand (as buyers place them), their lifecycle and webhooks: a mixin of the
sandbox class."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bridge_tiktokshop.sandbox.state import Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox.state import World


class OrderMaker:
    world: World

    if TYPE_CHECKING:  # provided by the sandbox class this mixin is combined with
        def notify(self, shop: Shop, event_type: str, data: dict[str, Any]) -> None: ...

        def mark_shipped_market(self, shop: Shop) -> bool: ...

        def record_cancellation(self, shop: Shop, o: dict[str, Any], units: list[dict[str, Any]], who: str,
                                reason: str, status: str = ...) -> str: ...

    def _find_order(self, order_id: str) -> tuple[Shop, dict[str, Any]]:
        for shop in self.world.shops.values():
            if order_id in shop.orders:
                return shop, shop.orders[order_id]
        raise KeyError(f"no order {order_id}")

    def create_order(self, shop_id: str, lines: list[tuple[str, int]], **kw: Any) -> str:
        """Place a paid order for (seller SKU, quantity) lines; returns its id.

        ``fulfilled_by``: ``"seller"`` (default) or ``"platform"`` (FBT); ``released``: False
        keeps it ON_HOLD; ``shipping_type``: ``"SELLER"`` (default for seller orders) or
        ``"TIKTOK"`` (TikTok's label).
        """
        shop = self.world.shops[shop_id]
        platform = kw.get("fulfilled_by", "seller") == "platform"
        shipping_type = kw.get("shipping_type") or ("TIKTOK" if platform else "SELLER")
        released = kw.get("released", True)
        with self.world.lock:
            now = self.world.now()
            oid = self.world.new_id()
            wh = shop.warehouses[0]["id"]
            options = shop.delivery_options[wh]
            option = next(o for o in options if (o["type"] == "SEND_BY_SELLER") == (shipping_type == "SELLER"))
            items, subtotal = [], Decimal(0)
            for seller_sku, qty in lines:
                pid, sid = shop.sku_index[seller_sku]
                product = shop.products[pid]
                sku = next(s for s in product["skus"] if s["id"] == sid)
                sku["inventory"][0]["quantity"] = max(0, sku["inventory"][0]["quantity"] - qty)
                for _ in range(qty):
                    price = sku["price"]["sale_price"]
                    subtotal += Decimal(price)
                    items.append({
                        "id": self.world.new_id(), "sku_id": sid, "product_id": pid,
                        "product_name": product["title"],
                        "sku_name": ", ".join(a["value_name"] for a in sku["sales_attributes"]),
                        "seller_sku": seller_sku, "original_price": price, "sale_price": price,
                        "seller_discount": "0", "platform_discount": "0", "currency": shop.currency,
                        "display_status": "AWAITING_SHIPMENT" if released else "ON_HOLD",
                        "package_status": "TO_FULFILL", "tracking_number": "", "shipping_provider_id": "",
                        "shipping_provider_name": "", "rts_time": 0, "is_gift": False})
            shipping = Decimal("2.99")
            order = {
                "id": oid, "status": "AWAITING_SHIPMENT" if released else "ON_HOLD",
                "create_time": now, "update_time": now, "paid_time": now, "user_id": "7021436810468230477",
                "buyer_email": f"buyer{oid[-6:]}@chat.seller.tiktok.com", "buyer_message": "",
                "fulfillment_type": "FULFILLMENT_BY_TIKTOK" if platform else "FULFILLMENT_BY_SELLER",
                "shipping_type": shipping_type, "delivery_option_id": option["id"],
                "delivery_option_name": option["name"], "delivery_type": "HOME_DELIVERY",
                "warehouse_id": wh, "packages": [], "line_items": items,
                "payment": {"currency": shop.currency, "sub_total": str(subtotal),
                            "shipping_fee": str(shipping), "seller_discount": "0", "platform_discount": "0",
                            "tax": "0", "total_amount": str(subtotal + shipping),
                            "original_total_product_price": str(subtotal)},
                "recipient_address": {} if not released else _address(shop.region),
                "is_on_hold_order": not released, "is_sample_order": False, "is_cod": False,
                "order_type": "NORMAL", "cancel_reason": "", "cancellation_initiator": "",
                "commerce_platform": "TIKTOK_SHOP",
            }
            if not self.mark_shipped_market(shop) or shipping_type == "TIKTOK":
                pkg = self.world.new_id()
                shop.packages[pkg] = {"id": pkg, "order_ids": [oid], "line_ids": [li["id"] for li in items]}
                order["packages"] = [{"id": pkg}]
                for li in items:
                    li["package_id"] = pkg
            shop.orders[oid] = order
            self.notify(shop, "ORDER_STATUS_CHANGE", _status_data(order))
            return oid

    def release_order(self, order_id: str) -> None:
        """The on-hold window ends: ON_HOLD -> AWAITING_SHIPMENT, address revealed."""
        with self.world.lock:
            shop, o = self._find_order(order_id)
            if o["status"] == "ON_HOLD":
                o.update(status="AWAITING_SHIPMENT", is_on_hold_order=False, update_time=self.world.now(),
                         recipient_address=_address(shop.region))
                for li in o["line_items"]:
                    li["display_status"] = "AWAITING_SHIPMENT"
                self.notify(shop, "ORDER_STATUS_CHANGE", _status_data(o))

    def cancel_order(self, order_id: str) -> None:
        """Cancel as the buyer would (restocks)."""
        with self.world.lock:
            shop, o = self._find_order(order_id)
            if o["status"] != "CANCELLED":
                self.cancel_order_now(shop, o, "BUYER", "Buyer changed their mind")

    def cancel_order_now(self, shop: Shop, o: dict[str, Any], who: str, reason: str) -> None:
        now = self.world.now()
        units = [li for li in o["line_items"] if li["display_status"] != "CANCELLED"]
        o.update(status="CANCELLED", cancellation_initiator=who, cancel_reason=reason, cancel_time=now,
                 update_time=now)
        for li in units:
            li.update(display_status="CANCELLED", package_status="CANCELLED", cancel_user=who,
                      cancel_reason=reason)
            pid, sid = li["product_id"], li["sku_id"]
            product = shop.products.get(pid)
            sku = next((s for s in (product or {}).get("skus", []) if s["id"] == sid), None)
            if sku:
                sku["inventory"][0]["quantity"] += 1
        self.notify(shop, "ORDER_STATUS_CHANGE", _status_data(o))
        self.record_cancellation(shop, o, units, who, reason)

    def ship_lines(self, shop: Shop, o: dict[str, Any], package_id: str, line_ids: list[str],
                   number: str, provider: str) -> None:
        now = self.world.now()
        names = {p["id"]: p["name"] for p in shop.providers.get(o["delivery_option_id"], [])}
        for li in o["line_items"]:
            if li["id"] in line_ids:
                li.update(package_id=package_id, package_status="PROCESSING", tracking_number=number,
                          shipping_provider_id=provider, shipping_provider_name=names.get(provider, ""),
                          display_status="IN_TRANSIT", shipped_time=now)
        if {"id": package_id} not in o["packages"]:
            o["packages"].append({"id": package_id})
        live = [li for li in o["line_items"] if li["display_status"] != "CANCELLED"]
        done = all(li.get("tracking_number") for li in live)
        o.update(status="IN_TRANSIT" if done else "PARTIALLY_SHIPPING", update_time=now,
                 tracking_number=number, shipping_provider_id=provider,
                 shipping_provider=names.get(provider, ""))
        self.notify(shop, "ORDER_STATUS_CHANGE", _status_data(o))

    def order(self, order_id: str) -> dict[str, Any]:
        """An order with its status and packages (tracking number, provider)."""
        with self.world.lock:
            shop, o = self._find_order(order_id)
            packages = []
            for p in o["packages"]:
                lines = [li for li in o["line_items"] if li.get("package_id") == p["id"]]
                packages.append({"id": p["id"], "tracking_number": lines[0].get("tracking_number") if lines else "",
                                 "provider_id": lines[0].get("shipping_provider_id") if lines else "",
                                 "provider": lines[0].get("shipping_provider_name") if lines else "",
                                 "line_ids": [li["id"] for li in lines]})
            return {"id": o["id"], "shop_id": shop.id, "status": o["status"], "packages": packages,
                    "fulfillment_type": o["fulfillment_type"], "shipping_type": o["shipping_type"],
                    "cancel_reason": o.get("cancel_reason", ""), "line_items": len(o["line_items"])}


def _status_data(o: dict[str, Any]) -> dict[str, Any]:
    status = "CANCEL" if o["status"] == "CANCELLED" else o["status"]
    return {"order_id": o["id"], "order_status": status, "is_on_hold_order": o["status"] == "ON_HOLD",
            "update_time": o["update_time"]}


def _address(region: str) -> dict[str, Any]:
    return {"name": "Ada Lovelace", "first_name": "Ada", "last_name": "Lovelace", "phone_number": "(+44)7700900000",
            "full_address": "1 Test Street, London, SW1A 1AA", "address_line1": "1 Test Street",
            "address_line2": "", "postal_code": "SW1A 1AA", "region_code": region, "post_town": "London",
            "district_info": [{"address_level": "L0", "address_level_name": "Country", "address_name": region}]}

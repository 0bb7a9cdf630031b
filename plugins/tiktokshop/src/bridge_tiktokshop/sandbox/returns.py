"""Returns, refunds and cancellations as buyers, TikTok and sellers make them: a mixin of the
sandbox class, holding the records in the world and sending RETURN_STATUS_CHANGE (12) and
CANCELLATION_STATUS_CHANGE (11) webhooks.

Shapes follow reference §13.3/13.4: a return ``{return_id, order_id, return_type,
return_status, role, return_line_items[{return_line_item_id, order_line_item_id, sku_id,
seller_sku, refund_amount{…}}], refund_amount{currency, refund_total, refund_subtotal,
refund_shipping_fee, refund_tax}, create_time, update_time}``; a cancellation the same with
``cancel_*`` names. Return records (the timeline) use event names the sources do not document
(see the plugin README); the plugin matches them loosely.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bridge_tiktokshop.sandbox.state import ApiError, Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox.state import World

#: The order a return moves through, by type (complete = the buyer is paid back).
FLOW = {
    "REFUND": ["RETURN_OR_REFUND_REQUEST_PENDING", "RETURN_OR_REFUND_REQUEST_SUCCESS",
               "RETURN_OR_REFUND_REQUEST_COMPLETE"],
    "RETURN_AND_REFUND": ["RETURN_OR_REFUND_REQUEST_PENDING", "AWAITING_BUYER_SHIP", "BUYER_SHIPPED_ITEM",
                          "RETURN_OR_REFUND_REQUEST_SUCCESS", "RETURN_OR_REFUND_REQUEST_COMPLETE"],
}
RECORD_EVENT = {
    "RETURN_OR_REFUND_REQUEST_PENDING": "BUYER_REQUEST_RETURN",
    "AWAITING_BUYER_SHIP": "SELLER_APPROVE_RETURN",
    "BUYER_SHIPPED_ITEM": "BUYER_SHIP_ITEM",
    "RETURN_OR_REFUND_REQUEST_SUCCESS": "SELLER_RECEIVE_PACKAGE",
    "RETURN_OR_REFUND_REQUEST_COMPLETE": "PLATFORM_REFUND_SUCCESS",
}


def _amount(currency: str, total: Decimal, shipping: Decimal = Decimal(0)) -> dict[str, str]:
    return {"currency": currency, "refund_total": f"{total:.2f}", "refund_subtotal": f"{total - shipping:.2f}",
            "refund_shipping_fee": f"{shipping:.2f}", "refund_tax": "0.00"}


class ReturnMaker:
    world: World

    if TYPE_CHECKING:  # provided by the sandbox class this mixin is combined with
        def notify(self, shop: Shop, event_type: str, data: dict[str, Any]) -> None: ...

        def _find_order(self, order_id: str) -> tuple[Shop, dict[str, Any]]: ...

        def cancel_order_now(self, shop: Shop, o: dict[str, Any], who: str, reason: str) -> None: ...

    # ------------------------------------------------------------------ returns

    def _units(self, o: dict[str, Any], lines: list[tuple[str, int]], *, live: bool) -> list[dict[str, Any]]:
        chosen = []
        for seller_sku, qty in lines:
            units = [li for li in o["line_items"] if li["seller_sku"] == seller_sku
                     and (li["display_status"] != "CANCELLED") == live and not li.get("_after_sale")]
            if len(units) < qty:
                raise KeyError(f"order {o['id']} has {len(units)} unit(s) of {seller_sku} for this, not {qty}")
            chosen += units[:qty]
        return chosen

    def create_return(self, order_id: str, lines: list[tuple[str, int]], *, return_type: str = "REFUND",
                      refund_shipping: bool = False, amount: Decimal | str | None = None,
                      status: str | None = None) -> str:
        """The buyer asks for a refund (``REFUND``) or a return and refund (``RETURN_AND_REFUND``)
        of (seller SKU, units); ``amount`` refunds less than the units' price (a partial refund by
        amount), ``refund_shipping`` adds the order's shipping fee. ``status`` jumps straight to a
        state (e.g. ``RETURN_OR_REFUND_REQUEST_COMPLETE``). Returns the return id."""
        with self.world.lock:
            shop, o = self._find_order(order_id)
            units = self._units(o, lines, live=True)
            rid = self.world.new_id()
            currency = o["payment"]["currency"]
            prices = [Decimal(li["sale_price"]) for li in units]
            if amount is not None:  # spread a partial amount over the units, the rest on the last
                want = Decimal(str(amount))
                share = (want / len(units)).quantize(Decimal("0.01"))
                prices = [share] * (len(units) - 1) + [want - share * (len(units) - 1)]
            shipping = Decimal(o["payment"]["shipping_fee"]) if refund_shipping else Decimal(0)
            items = [{"return_line_item_id": self.world.new_id(), "order_line_item_id": li["id"],
                      "sku_id": li["sku_id"], "sku_name": li["sku_name"], "seller_sku": li["seller_sku"],
                      "product_name": li["product_name"], "product_image": {},
                      "refund_amount": _amount(currency, p)} for li, p in zip(units, prices, strict=True)]
            for li in units:
                li["_after_sale"] = rid
            now = self.world.now()
            ret = {"return_id": rid, "order_id": order_id, "return_type": return_type,
                   "return_status": FLOW[return_type][0], "arbitration_status": "", "role": "BUYER",
                   "return_reason": "ecom_order_delivered_refund_and_return_reason_wrong_item",
                   "return_reason_text": "Wrong item", "shipment_type": "PLATFORM", "handover_method": "DROP_OFF",
                   "return_tracking_number": "", "create_time": now, "update_time": now,
                   "seller_next_action_response": [], "return_line_items": items,
                   "refund_amount": _amount(currency, sum(prices, Decimal(0)) + shipping, shipping),
                   "discount_amount": [], "shipping_fee_amount": [], "can_buyer_keep_item": return_type == "REFUND"}
            shop.returns[rid] = ret
            shop.return_records[rid] = []
            self._return_event(shop, ret)
        if status:
            self.advance_return(rid, status)
        return rid

    def _return_event(self, shop: Shop, ret: dict[str, Any]) -> None:
        shop.return_records[ret["return_id"]].append({
            "event": RECORD_EVENT.get(ret["return_status"], ret["return_status"]), "role": "SYSTEM",
            "description": ret["return_status"].replace("_", " ").lower(), "reason_text": "", "note": "",
            "images": [], "videos": [], "create_time": ret["update_time"]})
        self.notify(shop, "RETURN_STATUS_CHANGE", {
            "order_id": ret["order_id"], "return_id": ret["return_id"], "return_role": ret["role"],
            "return_type": ret["return_type"], "return_status": ret["return_status"],
            "create_time": ret["create_time"], "update_time": ret["update_time"]})

    def advance_return(self, return_id: str, status: str | None = None) -> str:
        """Move a return to its next state (or through the states up to ``status``, or to a
        rejected/cancelled state directly); returns the new status."""
        with self.world.lock:
            shop, ret = self._find_return(return_id)
            path = FLOW[ret["return_type"]]
            if status and status not in path:
                ret.update(return_status=status, update_time=self.world.now())
                self._return_event(shop, ret)
                return status
            target = status or path[min(path.index(ret["return_status"]) + 1, len(path) - 1)]
            while ret["return_status"] != target and path.index(ret["return_status"]) < path.index(target):
                ret.update(return_status=path[path.index(ret["return_status"]) + 1], update_time=self.world.now())
                self._return_event(shop, ret)
            return ret["return_status"]

    def _find_return(self, return_id: str) -> tuple[Shop, dict[str, Any]]:
        for shop in self.world.shops.values():
            if return_id in shop.returns:
                return shop, shop.returns[return_id]
        raise KeyError(f"no return {return_id}")

    def returns(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Returns (of an order, or all)."""
        with self.world.lock:
            return [dict(r) for s in self.world.shops.values() for r in s.returns.values()
                    if order_id is None or r["order_id"] == order_id]

    # ------------------------------------------------------------------ cancellations

    def cancellations(self, order_id: str | None = None) -> list[dict[str, Any]]:
        """Cancellation records (of an order, or all)."""
        with self.world.lock:
            return [dict(c) for s in self.world.shops.values() for c in s.cancellations.values()
                    if order_id is None or c["order_id"] == order_id]

    def record_cancellation(self, shop: Shop, o: dict[str, Any], units: list[dict[str, Any]], who: str,
                            reason: str, status: str = "CANCELLATION_REQUEST_COMPLETE") -> str:
        """Keep a cancellation record for these units and send CANCELLATION_STATUS_CHANGE."""
        cid = self.world.new_id()
        now = self.world.now()
        currency = o["payment"]["currency"]
        items = [{"cancel_line_item_id": self.world.new_id(), "order_line_item_id": li["id"],
                  "sku_id": li["sku_id"], "sku_name": li["sku_name"], "seller_sku": li["seller_sku"],
                  "product_name": li["product_name"], "product_image": {},
                  "refund_amount": _amount(currency, Decimal(li["sale_price"]))} for li in units]
        whole = len(units) == len(o["line_items"])
        shipping = Decimal(o["payment"]["shipping_fee"]) if whole else Decimal(0)
        total = sum((Decimal(li["sale_price"]) for li in units), Decimal(0)) + shipping
        shop.cancellations[cid] = {
            "cancel_id": cid, "order_id": o["id"], "cancel_type": "CANCEL", "cancel_status": status,
            "role": who, "cancel_reason": reason, "cancel_reason_text": reason, "create_time": now,
            "update_time": now, "seller_next_action_response": [], "refund_amount": _amount(currency, total, shipping),
            "cancel_line_items": items}
        self.notify(shop, "CANCELLATION_STATUS_CHANGE", {
            "order_id": o["id"], "cancellations_role": who, "cancel_status": status, "cancel_id": cid,
            "create_time": now})
        return cid

    def cancel_lines(self, order_id: str, lines: list[tuple[str, int]], *, who: str = "BUYER",
                     reason: str = "Buyer no longer needs some items") -> str:
        """Cancel some units of an order that goes on (a buyer's item-level cancellation that the
        platform accepted), restocking them; returns the cancellation id."""
        with self.world.lock:
            shop, o = self._find_order(order_id)
            return self.cancel_units(shop, o, self._units(o, lines, live=True), who, reason)

    def cancel_units(self, shop: Shop, o: dict[str, Any], units: list[dict[str, Any]], who: str, reason: str) -> str:
        if o["status"] not in ("AWAITING_SHIPMENT", "UNPAID", "ON_HOLD", "PARTIALLY_SHIPPING"):
            raise ApiError(21011011, f"An order in status {o['status']} cannot be cancelled.")
        if any(li.get("tracking_number") for li in units):
            raise ApiError(21011011, "Shipped items cannot be cancelled.")
        live = [li for li in o["line_items"] if li["display_status"] != "CANCELLED"]
        if len(units) >= len(live):  # every remaining unit: the whole order is cancelled
            self.cancel_order_now(shop, o, who, reason)
            return next(c for c in reversed(list(shop.cancellations.values())) if c["order_id"] == o["id"])["cancel_id"]
        now = self.world.now()
        for li in units:
            li.update(display_status="CANCELLED", package_status="CANCELLED", cancel_user=who, cancel_reason=reason)
            product = shop.products.get(li["product_id"])
            sku = next((s for s in (product or {}).get("skus", []) if s["id"] == li["sku_id"]), None)
            if sku:
                sku["inventory"][0]["quantity"] += 1
        o["update_time"] = now
        return self.record_cancellation(shop, o, units, who, reason)

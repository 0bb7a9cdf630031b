"""Sandbox routes of invoices and offline refunds (credit memos), platform note §8.5 and §14:

* ``POST /V1/order/{id}/invoice`` invoices what is not invoiced yet (``capture`` is irrelevant
  for an offline method): ``qty_invoiced``, ``total_paid`` and ``total_invoiced`` move;
* ``POST /V1/order/{id}/refund`` creates a credit memo of **invoiced** units only — an order
  bridge created through ``POST /V1/orders`` is not invoiced, and Magento refuses a credit memo
  for it (the exact message is UNCONFIRMED; the sandbox uses core's "We can't create creditmemo
  for the order."); more units than invoiced and not yet refunded, or more money than was paid and
  not yet refunded, is refused ("The most money available to refund is %1.");
* ``return_to_stock_items``: refunded units of shipped items go back to the source; units never
  shipped were never deducted from a source (no reservation either, see ``sales_routes``), so
  Magento's reservation compensation makes them salable *again* — more than there is; bridge must
  not ask for it on unshipped units;
* the order's ``total_refunded`` and items' ``qty_refunded`` move, the state becomes ``closed``
  when everything is refunded; ``GET /V1/creditmemos`` searches memos (with their comments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request

from bridge_magento2.sandbox.app import REST, BadRequest, NotFound, body_json
from bridge_magento2.sandbox.criteria import parse, search
from bridge_magento2.sandbox.sales_routes import NO_ORDER as NO_ENTITY
from bridge_magento2.sandbox.sales_routes import order_or_404
from bridge_magento2.sandbox.state import State, now

if TYPE_CHECKING:  # pragma: no cover
    from bridge_magento2.sandbox import MagentoSandbox

CANNOT = "We can't create creditmemo for the order."


def _f(v: Any) -> float:
    return float(v or 0)


def invoice(st: State, order: dict[str, Any]) -> int:
    """``POST /V1/order/{id}/invoice`` on ``order`` (hold ``st.lock``): the new invoice's id."""
    if order["state"] in ("canceled", "closed", "holded"):
        raise BadRequest("The order does not allow an invoice to be created.")
    todo = [it for it in order["items"] if _f(it.get("qty_ordered")) > _f(it.get("qty_invoiced"))]
    if not todo:
        raise BadRequest("The order does not allow an invoice to be created.")
    for it in todo:
        it["qty_invoiced"] = _f(it.get("qty_ordered"))
    order["total_invoiced"] = order["total_paid"] = _f(order.get("grand_total"))
    order["total_due"] = 0.0
    if order["state"] == "new":
        order["state"] = order["status"] = "processing"
    order["updated_at"] = now()
    iid = st.new_id("invoice")
    st.invoices[iid] = {"entity_id": iid, "order_id": order["entity_id"], "grand_total": order["grand_total"],
                        "state": 2, "created_at": now()}
    return iid


def credit_memo(st: State, order: dict[str, Any], body: dict[str, Any]) -> int:
    """``POST /V1/order/{id}/refund`` of ``body`` on ``order`` (hold ``st.lock``): the memo's id."""
    if order["state"] in ("canceled", "closed") or not _f(order.get("total_paid")):
        raise BadRequest(CANNOT)
    by_id = {it["item_id"]: it for it in order["items"]}
    wanted = body.get("items") or []
    subtotal = 0.0
    for w in wanted:
        it = by_id.get(int(w.get("order_item_id") or 0))
        if it is None:
            raise BadRequest(CANNOT)
        qty = _f(w.get("qty"))
        if qty <= 0 or qty > _f(it.get("qty_invoiced")) - _f(it.get("qty_refunded")):
            raise BadRequest(f"The quantity to refund must not be greater than the unrefunded quantity "
                             f"({_f(it.get('qty_invoiced')) - _f(it.get('qty_refunded')):g}).")
        subtotal += _f(it.get("price_incl_tax") or it.get("price")) * qty
    args = body.get("arguments") or {}
    shipping = _f(args.get("shipping_amount"))
    if shipping > _f(order.get("shipping_amount")) - _f(order.get("shipping_refunded")):
        raise BadRequest("Maximum shipping amount allowed to refund is: "
                         f"{_f(order.get('shipping_amount')) - _f(order.get('shipping_refunded')):.2f}")
    grand = round(subtotal + shipping + _f(args.get("adjustment_positive")) - _f(args.get("adjustment_negative")), 4)
    left = round(_f(order.get("total_paid")) - _f(order.get("total_refunded")), 4)
    if grand > left + 0.0001:
        raise BadRequest(f"The most money available to refund is {left:.2f}.")
    if grand <= 0 and not wanted:
        raise BadRequest("The credit memo's total must be positive.")
    restock = {int(i) for i in ((args.get("extension_attributes") or {}).get("return_to_stock_items") or [])}
    for w in wanted:
        it = by_id[int(w["order_item_id"])]
        qty = _f(w["qty"])
        shipped_left = _f(it.get("qty_shipped")) - _f(it.get("qty_returned"))
        it["qty_refunded"] = _f(it.get("qty_refunded")) + qty
        if it["item_id"] in restock:
            back = min(qty, max(0.0, shipped_left))
            it["qty_returned"] = _f(it.get("qty_returned")) + back
            st.quantity[it["sku"]] = st.quantity.get(it["sku"], 0) + int(back)  # back to the source
            if qty > back:  # never shipped: MSI compensates a reservation that was never made
                st.reservations[it["sku"]] = st.reservations.get(it["sku"], 0) - int(qty - back)
    order["total_refunded"] = round(_f(order.get("total_refunded")) + grand, 4)
    order["shipping_refunded"] = _f(order.get("shipping_refunded")) + shipping
    if order["total_refunded"] >= _f(order.get("total_paid")) - 0.0001:
        order["state"] = order["status"] = "closed"
    order["updated_at"] = now()
    mid = st.new_id("creditmemo")
    stamp = now()
    comment = body.get("comment") or {}
    comments = [{"entity_id": st.new_id("comment"), "parent_id": mid, "comment": comment["comment"],
                 "is_customer_notified": int(bool(body.get("notify"))),
                 "is_visible_on_front": int(comment.get("is_visible_on_front") or 0), "created_at": stamp}
                ] if comment.get("comment") and body.get("appendComment", True) else []
    st.creditmemos[mid] = {
        "entity_id": mid, "increment_id": f"{mid:09d}", "order_id": order["entity_id"],
        "invoice_id": max((i for i, inv in st.invoices.items() if inv["order_id"] == order["entity_id"]),
                          default=0),
        "state": 2, "creditmemo_status": 2, "grand_total": grand, "base_grand_total": grand,
        "subtotal": subtotal, "shipping_amount": shipping,
        "adjustment_positive": _f(args.get("adjustment_positive")),
        "adjustment_negative": _f(args.get("adjustment_negative")),
        "order_currency_code": order.get("order_currency_code"),
        "base_currency_code": order.get("base_currency_code"), "created_at": stamp, "updated_at": stamp,
        "items": [{"entity_id": st.new_id("item"), "parent_id": mid, "order_item_id": int(w["order_item_id"]),
                   "sku": by_id[int(w["order_item_id"])]["sku"], "qty": _f(w["qty"]),
                   "price": _f(by_id[int(w["order_item_id"])].get("price")),
                   "base_price": _f(by_id[int(w["order_item_id"])].get("base_price")
                                    or by_id[int(w["order_item_id"])].get("price")),
                   "base_cost": _f(by_id[int(w["order_item_id"])].get("base_cost"))} for w in wanted],
        "comments": comments,
    }
    return mid


def routes(sb: MagentoSandbox) -> list[tuple[str, str, Any, bool]]:
    st = sb.state

    async def invoice_route(request: Request) -> Any:
        await body_json(request)
        with st.lock:
            return invoice(st, order_or_404(st, request))

    async def refund_route(request: Request) -> Any:
        body = await body_json(request)
        with st.lock:
            return credit_memo(st, order_or_404(st, request), body)

    async def creditmemos(request: Request) -> Any:
        with st.lock:
            return search(st.creditmemos.values(), parse(request.query_params.multi_items()), index=st.creditmemos)

    async def memo_comments(request: Request) -> Any:
        raw = request.path_params["memo_id"]
        memo = st.creditmemos.get(int(raw)) if str(raw).isdigit() else None
        if memo is None:
            raise NotFound(NO_ENTITY)
        return {"items": memo["comments"], "search_criteria": {"filter_groups": []}, "total_count": len(memo["comments"])}

    return [
        ("POST", REST + "order/{order_id}/invoice", invoice_route, True),
        ("POST", REST + "order/{order_id}/refund", refund_route, True),
        ("GET", REST + "creditmemos", creditmemos, True),
        ("GET", REST + "creditmemo/{memo_id}/comments", memo_comments, True),
    ]

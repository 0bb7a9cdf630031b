"""Returns, refunds and cancellations (the return_refund API of version 202309, reference §13).

Read: Search Returns and Search Cancellations (sorted by update time, filtered by update time or
order ids), Get Return Records for the timeline of a completed return-and-refund (did the item
come back?). Write: Cancel Order with ``order_line_item_ids`` for a line the store cancelled.

Statuses are matched in both spellings the sources disagree on (§13.3); an unknown status is
passed on as ``other`` with the raw value, never guessed. Amounts are TikTok's decimal strings:
each line's ``refund_amount.refund_total`` plus the header's ``refund_shipping_fee`` (§13.7).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from bridge.errors import Rejected
from bridge.models import (
    ChannelRefund,
    LineCancel,
    LineCancelResult,
    Money,
    RefundLine,
    RefundPage,
)
from bridge.values import decimal_or_none
from bridge_tiktokshop import mapping
from bridge_tiktokshop.client import TikTokClient
from bridge_tiktokshop.markets import item_cancel_allowed

RR = "/return_refund/202309"
PAGE_SIZE = 50
RECENT_WINDOW = 30 * 86400
#: Seconds re-read before a cursor (update times move while a search runs, as for orders).
OVERLAP = 60

RETURN_STATUS = {
    "RETURN_OR_REFUND_REQUEST_PENDING": "requested", "AWAITING_BUYER_SHIP": "requested",
    "BUYER_SHIPPED_ITEM": "requested", "AWAITING_BUYER_RESPONSE": "requested",
    "RETURN_OR_REFUND_REQUEST_SUCCESS": "approved",
    "RETURN_OR_REFUND_REQUEST_COMPLETE": "completed",
    "RETURN_OR_REFUND_REQUEST_REJECT": "rejected", "REFUND_OR_RETURN_REQUEST_REJECT": "rejected",
    "REJECT_RECEIVE_PACKAGE": "rejected",
    "RETURN_OR_REFUND_REQUEST_CANCEL": "closed", "RETURN_OR_REFUND_REQUEST_CANCELLED": "closed",
    "RETURN_OR_REFUND__REQUEST_CANCELLED": "closed",
    "REPLACEMENT_REQUEST_PENDING": "requested", "REPLACEMENT_REQUEST_REJECT": "rejected",
    "REPLACEMENT_REQUEST_REFUND_SUCCESS": "completed", "REPLACEMENT_REQUEST_CANCEL": "closed",
    "REPLACEMENT_REQUEST_COMPLETE": "closed",
}
CANCEL_STATUS = {
    "CANCELLATION_REQUEST_PENDING": "requested", "CANCELLATION_REQUEST_SUCCESS": "approved",
    "CANCELLATION_REQUEST_COMPLETE": "completed", "CANCELLATION_REQUEST_CANCEL": "closed",
    "CANCELLATION_REQUEST_CANCELLED": "closed", "CANCELLATION_REQUEST_REJECT": "rejected",
}
RETURN_TYPE = {"REFUND": "refund_only", "RETURN_AND_REFUND": "return_and_refund",
               "REPLACEMENT": "replacement"}
#: Default seller cancel reason for a line the store cancelled (§13.5; UK item-level
#: cancellation is allowed for out-of-stock items only).
CANCEL_REASON = "seller_cancel_reason_out_of_stock"


def _dec(value: Any) -> Decimal:
    """TikTok's decimal string; 0 for none or an unreadable one."""
    return decimal_or_none(value) or Decimal(0)


def _lines(items: list[dict[str, Any]], currency: str) -> list[RefundLine]:
    """Per-unit line items grouped by SKU: quantity, summed refund, the unit line ids."""
    groups: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
    for li in items:
        groups.setdefault(str(li.get("sku_id") or li.get("order_line_item_id")), []).append(li)
    out = []
    for sku_id, group in groups.items():
        total = sum((_dec((li.get("refund_amount") or {}).get("refund_total")) for li in group), Decimal(0))
        out.append(RefundLine(variant_id=sku_id, sku=group[0].get("seller_sku") or None, quantity=len(group),
                              amount=Money(amount=total, currency=currency),
                              line_ids=[str(li.get("order_line_item_id")) for li in group
                                        if li.get("order_line_item_id")]))
    return out


def refund(obj: dict[str, Any], kind: str, *, item_returned: bool = False,
           order_cancelled: bool = False) -> ChannelRefund:
    """A return (``kind="return"``) or cancellation (``"cancel"``) as a bridge model."""
    amount = obj.get("refund_amount") or {}
    items = obj.get("return_line_items" if kind == "return" else "cancel_line_items") or []
    currency = amount.get("currency") or next(
        ((li.get("refund_amount") or {}).get("currency") for li in items
         if (li.get("refund_amount") or {}).get("currency")), None) or "GBP"
    raw = str(obj.get("return_status" if kind == "return" else "cancel_status") or "")
    status = (RETURN_STATUS if kind == "return" else CANCEL_STATUS).get(raw, "other")
    lines = _lines(items, currency)
    shipping = _dec(amount.get("refund_shipping_fee"))
    total = amount.get("refund_total")
    total_dec = _dec(total) if total not in (None, "") else (
        sum(((ln.amount.amount if ln.amount else Decimal(0)) for ln in lines), Decimal(0)) + shipping)
    return ChannelRefund(
        remote_id=str(obj.get("return_id" if kind == "return" else "cancel_id")), kind=kind,  # type: ignore[arg-type]
        order_id=str(obj.get("order_id")), status=status, raw_status=raw,  # type: ignore[arg-type]
        return_type=RETURN_TYPE.get(str(obj.get("return_type")), "refund_only") if kind == "return"  # type: ignore[arg-type]
        else "cancel",
        item_returned=item_returned, initiator=str(obj.get("role") or ""),
        reason=str(obj.get("return_reason_text" if kind == "return" else "cancel_reason_text")
                   or obj.get("return_reason" if kind == "return" else "cancel_reason") or ""),
        currency=currency, lines=lines,
        shipping=Money(amount=shipping, currency=currency) if shipping else None,
        total=Money(amount=total_dec, currency=currency),
        whole_order=kind == "cancel" and order_cancelled,
        created_at=mapping.ts(obj.get("create_time")), updated_at=mapping.ts(obj.get("update_time")),
    )


def returned(client: TikTokClient, return_id: str) -> bool:
    """Whether the return's timeline shows the seller received the package (Get Return Records).

    Record ``event`` names are not documented in the sources (§13.1 gives the path only):
    any event naming a receipt that is not a rejection of it counts; none means not returned
    (the harder answer for stock: nothing is restocked on a guess)."""
    data = client.call("GET", f"{RR}/returns/{return_id}/records")
    for rec in data.get("records") or []:
        event = str(rec.get("event") or "").upper()
        if "RECEIVE" in event and "REJECT" not in event:
            return True
    return False


def _search(client: TikTokClient, kind: str, body: dict[str, Any], token: str | None = None,
            ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
    path, key = (f"{RR}/returns/search", "return_orders") if kind == "return" else \
        (f"{RR}/cancellations/search", "cancellations")
    query = {"page_size": PAGE_SIZE, "sort_field": "update_time", "sort_order": "ASC"}
    yield from client.pages("POST", path, query=query, body=body, key=key, page_token=token)


def _order_statuses(client: TikTokClient, order_ids: list[str]) -> dict[str, str]:
    """Status per order: a cancellation of an order now CANCELLED is a whole-order one (the
    orders flow cancels the store order)."""
    out: dict[str, str] = {}
    ids = sorted(set(order_ids))
    for i in range(0, len(ids), 50):
        data = client.call("GET", "/order/202309/orders", query={"ids": ids[i:i + 50]})
        for o in data.get("orders") or []:
            out[str(o["id"])] = str(o.get("status") or "")
    return out


def _convert(client: TikTokClient, kind: str, items: list[dict[str, Any]]) -> list[ChannelRefund]:
    statuses = _order_statuses(client, [str(c.get("order_id")) for c in items]) if kind == "cancel" and items else {}
    out = []
    for obj in items:
        back = False
        if kind == "return" and obj.get("return_type") == "RETURN_AND_REFUND" and \
                RETURN_STATUS.get(str(obj.get("return_status"))) == "completed":
            back = returned(client, str(obj.get("return_id")))
        out.append(refund(obj, kind, item_returned=back,
                          order_cancelled=statuses.get(str(obj.get("order_id"))) == "CANCELLED"))
    return out


def list_refunds(client: TikTokClient, cursor: str | None) -> Iterator[RefundPage]:
    """Returns, then cancellations, updated since the cursor, one page at a time.

    Cursor ``since:phase:page_token:max_seen`` (phase ``r`` returns, ``c`` cancellations); the
    last page's cursor starts the next run :data:`OVERLAP` seconds before the newest update seen.
    """
    if cursor:  # the page token sits between the phase and the newest update time: it may hold ':'
        head, _, rest = cursor.partition(":")
        phase, _, rest = rest.partition(":")
        token_s, _, seen_s = rest.rpartition(":")
        since, phase, token, max_seen = int(head or 0), phase or "r", token_s or None, int(seen_s or 0)
    else:
        since, phase, token, max_seen = int(time.time()) - RECENT_WINDOW, "r", None, 0
    phases = ["r", "c"][["r", "c"].index(phase):]
    for ph in phases:
        kind = "return" if ph == "r" else "cancel"
        for items, nxt in _search(client, kind, {"update_time_ge": since}, token):
            for obj in items:
                max_seen = max(max_seen, int(obj.get("update_time") or 0))
            refunds = _convert(client, kind, items)
            if nxt:
                yield RefundPage(refunds=refunds, cursor=f"{since}:{ph}:{nxt}:{max_seen}")
            elif ph == "r":
                yield RefundPage(refunds=refunds, cursor=f"{since}:c::{max_seen}")
            else:
                after = max(since, max_seen - OVERLAP) if max_seen else since
                yield RefundPage(refunds=refunds, cursor=f"{after}:r::{max_seen}")
        token = None


def get_refunds(client: TikTokClient, order_ids: list[str]) -> list[ChannelRefund]:
    """Every return and cancellation of these orders."""
    out: list[ChannelRefund] = []
    ids = sorted({str(i) for i in order_ids if i})
    for i in range(0, len(ids), 50):
        for kind in ("return", "cancel"):
            for items, _ in _search(client, kind, {"order_ids": ids[i:i + 50]}):
                out += _convert(client, kind, items)
    return out


def cancel_lines(client: TikTokClient, cancel: LineCancel) -> LineCancelResult:
    """Seller cancellation of some units (Cancel Order with ``order_line_item_ids``, §13.5).

    Cancel Order takes no idempotency key (§13.2): the order's lines are read first, so units
    already cancelled are not sent again, and a cancellation already covering every unit asked
    for is returned as found. Refused before sending where TikTok would refuse: shipped lines,
    markets without item-level cancellation (only US and UK have it)."""
    data = client.call("GET", "/order/202309/orders", query={"ids": [cancel.order_id]})
    orders = data.get("orders") or []
    if not orders:
        raise Rejected(f"order {cancel.order_id} is not on this TikTok shop", code="ORDER_NOT_FOUND",
                       item=cancel.order_id)
    o = orders[0]
    lines = {str(li["id"]): li for li in o.get("line_items") or []}
    wanted = _units(cancel, list(lines.values()))
    unknown = sorted(wanted - set(lines))
    if unknown or not wanted:
        raise Rejected(f"order {cancel.order_id} has no line {', '.join(unknown) or 'to cancel'}",
                       code="UNKNOWN_LINE", item=cancel.order_id)
    open_ids = sorted(i for i in wanted if lines[i].get("display_status") != "CANCELLED")
    if not open_ids:
        found = _existing(client, cancel.order_id, wanted)
        return LineCancelResult(order_id=cancel.order_id, remote_id=found, status="done", existed=True)
    if o.get("status") in mapping.SHIPPED_STATUSES or any(lines[i].get("tracking_number") for i in open_ids):
        raise Rejected(f"order {cancel.order_id} is already shipped on TikTok Shop: the buyer must ask for "
                       "a return instead", code="ORDER_SHIPPED", item=cancel.order_id)
    if o.get("status") in ("UNPAID", "ON_HOLD"):
        raise Rejected(f"order {cancel.order_id} is {o.get('status')} on TikTok Shop: lines can be "
                       "cancelled once it is released", code="ORDER_ON_HOLD", item=cancel.order_id)
    region = client.connection.setting("region")
    if len(open_ids) < sum(1 for li in lines.values() if li.get("display_status") != "CANCELLED") \
            and not item_cancel_allowed(region):
        raise Rejected(f"TikTok Shop cancels single items only in the US and UK (this shop: {region}): cancel "
                       f"the whole order {cancel.order_id} in Seller Center or ship the rest",
                       code="ITEM_CANCEL_UNSUPPORTED", item=cancel.order_id)
    reason = cancel.reason if cancel.reason.startswith(("seller_cancel_", "ecom_order_")) else CANCEL_REASON
    result = client.call("POST", f"{RR}/cancellations",
                         body={"order_id": cancel.order_id, "order_line_item_ids": open_ids,
                               "cancel_reason": reason})
    cancel_id = str(result.get("cancel_id") or "") or _existing(client, cancel.order_id, set(open_ids))
    return LineCancelResult(order_id=cancel.order_id, remote_id=cancel_id,
                            status=str(result.get("cancel_status") or "done"))


def _units(cancel: LineCancel, items: list[dict[str, Any]]) -> set[str]:
    """Unit line ids to cancel: those named, else ``quantity`` more units of the SKU
    (``variant_id``), taken from the units not cancelled yet."""
    out: set[str] = set()
    for ln in cancel.lines:
        if ln.line_ids:
            out |= set(ln.line_ids)
            continue
        units = [li for li in items if str(li.get("sku_id")) == str(ln.variant_id)
                 and li.get("display_status") != "CANCELLED"]
        out |= {str(li["id"]) for li in units[:ln.quantity]}
        if len(units) < ln.quantity:
            out.add(f"{ln.variant_id} x{ln.quantity}")
    return out


def _existing(client: TikTokClient, order_id: str, line_ids: set[str]) -> str | None:
    """The seller cancellation of this order covering these line ids (Search Cancellations)."""
    for items, _ in _search(client, "cancel", {"order_ids": [order_id]}):
        for c in items:
            ids = {str(li.get("order_line_item_id")) for li in c.get("cancel_line_items") or []}
            if line_ids <= ids:
                return str(c.get("cancel_id"))
    return None

"""Orders and shipments: create TikTok orders in Magento, find, cancel, list, read tracking.

Which path creates the order, and why
-------------------------------------
``POST /V1/orders`` (the sales order repository's save) with ``{"entity": ...}``. It is core
REST on every stock 2.4 install (Open Source and Adobe Commerce) and it is the only core path
that can carry what a TikTok order needs:

* the prices TikTok charged — line prices, shipping, tax and grand total are written as given
  (the guest-cart / quote flow recalculates everything from Magento's catalog prices, price
  rules and tax, and no core REST field overrides a cart line's price);
* the TikTok order id in ``ext_order_id`` — searchable with ``searchCriteria`` on the order
  table, which is what makes creation idempotent (a cart-flow order could only carry it in a
  comment or a purchase-order number, neither filterable);
* the addresses exactly as given, with no carrier or payment method that must quote a rate.

The price of this path, said plainly: Magento creates no MSI reservation for such an order
(magento/inventory #2787), so the salable quantity is not lowered until the merchant ships it.
TikTok sold the goods already, and bridge's inventory flow re-reads quantities after orders.

After creation bridge adds an order comment naming TikTok Shop (``POST
/V1/orders/{id}/comments``). Before creation it searches ``ext_order_id`` (idempotency). Cancel
is ``POST /V1/orders/{id}/cancel`` (only before invoicing/shipping). Tracking comes from
``GET /V1/shipments`` filtered on ``order_id``: each shipment's ``tracks[]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import Address, CreatedOrder, Fulfillment, Order, OrderDraft, OrderPage
from bridge_magento2 import cursor as cursors
from bridge_magento2 import mapping
from bridge_magento2.client import MagentoClient
from bridge_magento2.search import MAX_PAGE_SIZE, Criteria, ids_in
from bridge_magento2.store import facts as store_facts

RECENT = timedelta(days=30)


def _num(value: Decimal) -> float:
    """Magento's money fields are JSON numbers."""
    return float(value)


class Orders:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.client = MagentoClient(connection)

    # ------------------------------------------------------------------ reading

    def find(self, source_order_id: str) -> str | None:
        # ext_order_id is not unique in Magento: read a few and match exactly
        criteria = Criteria(page_size=10).where("ext_order_id", source_order_id, "eq")
        data = self.client.get("orders", criteria.params(1))
        items = data.get("items") or []
        for item in items:
            if str(item.get("ext_order_id")) == source_order_id:
                return str(item["entity_id"])
        return None

    def get(self, order_ids: list[str]) -> list[Order]:
        ids = sorted({int(i) for i in order_ids if str(i).isdigit()})
        out: list[Order] = []
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            criteria = Criteria(page_size=MAX_PAGE_SIZE).where("entity_id", ids_in(ids[start:start + MAX_PAGE_SIZE]), "in")
            out.extend(mapping.order(o) for o in self.client.search_all("orders", criteria))
        return out

    def stream(self, cursor: str | None) -> Iterator[OrderPage]:
        """Orders bridge created (``ext_order_id`` set), updated since the cursor."""
        state = cursors.decode(cursor)
        since, hw = state["since"], state["hw"]
        if not since:
            since = mapping.format_time(datetime.now(UTC) - RECENT)
        criteria = Criteria(page_size=100).where("ext_order_id", "", "notnull")
        criteria.where("updated_at", since, "gteq")
        for page, last, items in self.client.pages("orders", criteria, start_page=state["page"] + 1):
            hw = cursors.newest(hw, items)
            yield OrderPage(orders=[mapping.order(o) for o in items], cursor=cursors.after(since, page, last, hw))

    def fulfillments(self, order_ids: list[str]) -> list[Fulfillment]:
        ids = sorted({int(i) for i in order_ids if str(i).isdigit()})
        out: list[Fulfillment] = []
        for start in range(0, len(ids), MAX_PAGE_SIZE):
            criteria = Criteria(page_size=MAX_PAGE_SIZE).where("order_id", ids_in(ids[start:start + MAX_PAGE_SIZE]), "in")
            out.extend(mapping.fulfillment(s) for s in self.client.search_all("shipments", criteria))
        return out

    # ------------------------------------------------------------------ writing

    def create(self, draft: OrderDraft) -> CreatedOrder:
        existing = self.find(draft.source_order_id)
        if existing:
            return CreatedOrder(remote_id=existing, existed=True)
        facts = store_facts(self.connection, self.client)
        if draft.currency.upper() != str(facts["currency"]).upper():
            raise Rejected(f"the TikTok order is in {draft.currency} but the Magento store's base currency is "
                           f"{facts['currency']}", code="currency", item=draft.source_order_id)
        products = self._products(draft)
        body = {"entity": order_entity(draft, products, facts, self._methods())}
        created = self.client.post("orders", body, item=draft.source_order_id)
        order_id = int(created["entity_id"])
        comment = f"{draft.source} order {draft.source_order_id}"
        if draft.note and draft.note != comment:
            comment = f"{comment}: {draft.note}"
        self.comment(order_id, comment, status="processing")
        return CreatedOrder(remote_id=str(order_id), number=created.get("increment_id"), existed=False)

    def comment(self, order_id: int, text: str, status: str | None = None) -> None:
        history: dict[str, Any] = {"comment": text, "is_customer_notified": 0, "is_visible_on_front": 0,
                                   "parent_id": order_id}
        if status:
            history["status"] = status
        self.client.post(f"orders/{order_id}/comments", {"statusHistory": history})

    def cancel(self, order_id: str, reason: str) -> bool:
        raw = self.client.get(f"orders/{int(order_id)}", missing_ok=True)
        if raw is None:
            raise Rejected(f"Magento has no order {order_id}", code="404", item=order_id)
        state = str(raw.get("state") or "")
        if state == "canceled":
            return False
        if state in ("complete", "closed"):
            raise Rejected(f"Magento order {raw.get('increment_id') or order_id} is {state}: it can no longer "
                           "be cancelled", code=state, item=order_id)
        if self.client.post(f"orders/{int(order_id)}/cancel") is not True:
            raise Rejected(f"Magento refused to cancel order {raw.get('increment_id') or order_id} (state "
                           f"{state}): it may be invoiced or shipped", code="not_cancellable", item=order_id)
        self.comment(int(order_id), f"Cancelled because the TikTok Shop order was cancelled: {reason}".strip(": "))
        return True

    def _methods(self) -> tuple[str, str]:
        return (str(self.connection.setting("payment_method", "checkmo")),
                str(self.connection.setting("shipping_method", "flatrate_flatrate")))

    def _products(self, draft: OrderDraft) -> dict[str, dict[str, Any]]:
        """The Magento products of the draft's lines, by id; unknown ones are refused."""
        ids = sorted({int(ln.variant_id) for ln in draft.lines if ln.variant_id and ln.variant_id.isdigit()})
        found: dict[str, dict[str, Any]] = {}
        if ids:
            criteria = Criteria(page_size=MAX_PAGE_SIZE).where("entity_id", ids_in(ids), "in")
            found = {str(p["id"]): p for p in self.client.search_all("products", criteria)}
        for ln in draft.lines:
            if str(ln.variant_id) not in found:
                raise Rejected(f"Magento has no product with id {ln.variant_id} (SKU {ln.sku}) for this order line",
                               code="unknown_variant", item=draft.source_order_id)
        return found


def _address(addr: Address, kind: str, email: str) -> dict[str, Any]:
    first = addr.first_name or (addr.name.split(" ", 1)[0] if addr.name else "") or "TikTok"
    last = addr.last_name or (addr.name.split(" ", 1)[1] if " " in addr.name else "") or "Buyer"
    out: dict[str, Any] = {
        "address_type": kind, "firstname": first, "lastname": last,
        "street": [s for s in (addr.line1, addr.line2) if s], "city": addr.city or "-",
        "postcode": addr.postal_code or "-", "country_id": addr.country_code.upper(),
        "telephone": addr.phone or "-", "email": addr.email or email,
    }
    if addr.region:
        out["region"] = addr.region
    if addr.company:
        out["company"] = addr.company
    return out


def order_entity(draft: OrderDraft, products: dict[str, dict[str, Any]], facts: dict[str, Any],
                 methods: tuple[str, str]) -> dict[str, Any]:
    """The ``sales-data-order-interface`` body of a TikTok order, with TikTok's amounts."""
    payment_method, shipping_method = methods
    currency = draft.currency.upper()
    store_id = int(facts.get("store_id") or 1)
    email = draft.buyer_email or f"tiktok-{draft.source_order_id}@example.invalid"
    items = []
    subtotal = Decimal(0)
    for ln in draft.lines:
        p = products[str(ln.variant_id)]
        row = ln.unit_price.amount * ln.quantity
        subtotal += row
        price = _num(ln.unit_price.amount)
        items.append({
            "sku": p["sku"], "name": p.get("name") or ln.title, "product_id": int(p["id"]),
            "product_type": p.get("type_id") or "simple", "qty_ordered": ln.quantity, "store_id": store_id,
            "price": price, "base_price": price, "original_price": price, "base_original_price": price,
            "price_incl_tax": price, "base_price_incl_tax": price,
            "row_total": _num(row), "base_row_total": _num(row), "row_total_incl_tax": _num(row),
            "base_row_total_incl_tax": _num(row), "ext_order_item_id": ln.remote_id,
            "is_virtual": 1 if p.get("type_id") == "virtual" else 0,
        })
    shipping = draft.shipping.amount
    tax = draft.tax.amount if draft.tax else Decimal(0)
    total = draft.total.amount
    discount = min(Decimal(0), total - subtotal - shipping - tax)
    ship_to = _address(draft.shipping_address, "shipping", email)
    bill_to = _address(draft.billing_address or draft.shipping_address, "billing", email)
    name = draft.buyer_name or draft.shipping_address.name
    first, _, last = (name or "").partition(" ")
    entity: dict[str, Any] = {
        "ext_order_id": draft.source_order_id, "state": "processing", "status": "processing",
        "store_id": store_id, "customer_is_guest": 1, "customer_email": email,
        "customer_firstname": first or bill_to["firstname"], "customer_lastname": last or bill_to["lastname"],
        "base_currency_code": currency, "global_currency_code": currency,
        "order_currency_code": currency, "store_currency_code": currency,
        "base_to_global_rate": 1, "base_to_order_rate": 1, "store_to_base_rate": 1, "store_to_order_rate": 1,
        "subtotal": _num(subtotal), "base_subtotal": _num(subtotal),
        "subtotal_incl_tax": _num(subtotal), "base_subtotal_incl_tax": _num(subtotal),
        "shipping_amount": _num(shipping), "base_shipping_amount": _num(shipping),
        "shipping_incl_tax": _num(shipping), "base_shipping_incl_tax": _num(shipping),
        "tax_amount": _num(tax), "base_tax_amount": _num(tax),
        "discount_amount": _num(discount), "base_discount_amount": _num(discount),
        "grand_total": _num(total), "base_grand_total": _num(total),
        "total_due": _num(total), "base_total_due": _num(total),
        "total_qty_ordered": sum(ln.quantity for ln in draft.lines), "total_item_count": len(items),
        "shipping_description": f"{draft.source} shipping",
        "items": items, "billing_address": bill_to,
        "payment": {"method": payment_method, "account_status": "", "cc_last4": "",
                    "additional_information": [draft.source, draft.source_order_id],
                    "po_number": draft.source_order_id, "amount_ordered": _num(total),
                    "base_amount_ordered": _num(total)},
        "extension_attributes": {"shipping_assignments": [{
            "shipping": {"address": ship_to, "method": shipping_method,
                         "total": {"shipping_amount": _num(shipping)}},
            "items": items,
        }]},
    }
    if draft.created_at:
        entity["created_at"] = mapping.format_time(draft.created_at)
    return entity

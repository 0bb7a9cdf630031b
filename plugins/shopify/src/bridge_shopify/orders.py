"""Orders and fulfilments: create TikTok orders in Shopify (idempotently), cancel, read back.

Idempotency (platform doc §7.1): ``orderCreate`` has no idempotency key, so before creating,
the store is searched for an order already carrying the TikTok order id — bridge's own (source
identifier, ``tiktok-<id>`` tag) or one another app created (the same conventions) — and found
orders are linked, never created twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from bridge.connection import Connection
from bridge.errors import Rejected
from bridge.models import CreatedOrder, Fulfillment, Order, OrderDraft, OrderPage
from bridge_shopify import mapping, queries
from bridge_shopify.catalog import decode_cursor, encode_cursor
from bridge_shopify.client import ShopifyClient

#: Store state key of the order created for a TikTok order (read back by id: no search lag).
LINK_STATE = "shopify:order:"
#: Without a cursor, list_orders looks back this far.
RECENT_WINDOW = timedelta(days=30)
INVENTORY_BEHAVIOUR = "DECREMENT_IGNORING_POLICY"


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def find_order(connection: Connection, source_order_id: str) -> str | None:
    """The id of an order carrying this TikTok order id, or None (:func:`_find`)."""
    node = _find(connection, source_order_id)
    return str(node["id"]) if node else None


def _admin_url(client: ShopifyClient, order_id: str) -> str:
    """The order's page in the store's admin (``/admin/orders/{legacy id}``; an order's
    legacy id is its global id's number)."""
    return f"{client.base_url}/admin/orders/{order_id.rsplit('/', 1)[-1]}"


def _find(connection: Connection, source_order_id: str) -> dict[str, Any] | None:
    """The order carrying this TikTok order id (its id and name at least), or None.

    First the id this store remembered when it created the order (read by id, which does not
    lag), then Shopify's order search (which may lag a new order by seconds: after a lost answer
    the core waits that out before it calls this, see ``PlatformInfo.lookup_lag``).
    """
    client = ShopifyClient(connection)
    tag = mapping.ORDER_TAG_PREFIX + source_order_id
    known = connection.state.get(LINK_STATE + source_order_id)
    if known:
        data = client.execute("OrdersById", queries.ORDERS_BY_ID, {"ids": [known]})
        for node in data.get("nodes") or []:
            if node and (mapping.source_order_id(node) == source_order_id or tag in (node.get("tags") or [])):
                return dict(node)
    query = f"source_identifier:{_quote(source_order_id)} OR tag:{_quote(tag)}"
    data = client.execute("FindOrder", queries.FIND_ORDER, {"query": query})
    for node in (data.get("orders") or {}).get("nodes") or []:
        if mapping.source_order_id(node) == source_order_id or tag in (node.get("tags") or []):
            return dict(node)
    return None


def create_order(connection: Connection, draft: OrderDraft) -> CreatedOrder:
    """Create the order with the prices TikTok charged, decrementing stock; found → linked."""
    client = ShopifyClient(connection)
    existing = _find(connection, draft.source_order_id)
    if existing:
        return CreatedOrder(remote_id=existing["id"], number=existing.get("name"), existed=True,
                            admin_url=_admin_url(client, existing["id"]))
    behaviour = connection.setting("inventory_behaviour", INVENTORY_BEHAVIOUR)
    payload = client.mutate(
        "OrderCreate", queries.ORDER_CREATE,
        {"order": mapping.order_input(draft),
         "options": {"inventoryBehaviour": behaviour, "sendReceipt": False,
                     "sendFulfillmentReceipt": False}},
        "orderCreate", item=draft.source_order_id,
    )
    order = payload.get("order")
    if not order:
        raise Rejected(f"shopify: no order was created for {draft.source_order_id}",
                       code="NO_ORDER", item=draft.source_order_id)
    connection.state[LINK_STATE + draft.source_order_id] = order["id"]
    return CreatedOrder(remote_id=order["id"], number=order.get("name"), existed=False,
                        admin_url=_admin_url(client, order["id"]))


def cancel_order(connection: Connection, order_id: str, reason: str) -> bool:
    """Cancel with restock (no refund: TikTok refunds its buyer). False if already cancelled."""
    client = ShopifyClient(connection)
    state = client.execute("OrderCancelState", queries.ORDER_CANCEL_STATE, {"id": order_id})
    order = state.get("order")
    if order is None:
        raise Rejected(f"shopify: order {order_id} does not exist", code="NOT_FOUND", item=order_id)
    if order.get("cancelledAt"):
        return False
    client.mutate("OrderCancel", queries.ORDER_CANCEL,
                  {"orderId": order_id, "reason": "OTHER", "staffNote": (reason or "")[:255]},
                  "orderCancel", errors_key="orderCancelUserErrors", item=order_id)
    return True


def _order(client: ShopifyClient, node: dict[str, Any]) -> Order:
    currency = node.get("currencyCode") or "XXX"
    lines = [mapping.order_line(n, currency) for n in (node.get("lineItems") or {}).get("nodes") or []]
    return mapping.order(node, lines)


def search_lag(connection: Connection) -> float:
    """Seconds Shopify's order search may show an order late: the store's ``lookup_lag``
    setting, else the documented lag (:data:`~bridge_shopify.connecting.ORDER_SEARCH_LAG`)."""
    from bridge_shopify.connecting import ORDER_SEARCH_LAG

    value = connection.settings.get("lookup_lag")
    try:
        return max(0.0, float(value)) if value not in (None, "") else ORDER_SEARCH_LAG
    except (TypeError, ValueError):
        return ORDER_SEARCH_LAG


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _when(stamp: str) -> datetime:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def list_orders(connection: Connection, cursor: str | None) -> Iterator[OrderPage]:
    """Orders bridge created (tag ``TikTokShop``) updated since the cursor, for cancellations.

    The search behind ``orders(query:)`` may show an order late (:func:`search_lag`), so an order
    whose ``updated_at`` is already behind the watermark can still appear: each run looks back
    that far behind the watermark, and leaves out what an earlier run already listed (the
    cursor keeps, per order seen inside the look-back window, the ``updated_at`` it was listed
    with; an order changed since is listed again)."""
    client = ShopifyClient(connection)
    lag = timedelta(seconds=search_lag(connection))
    position = decode_cursor(cursor) or {}
    after = position.get("a")
    seen: dict[str, str] = dict(position.get("s") or {})
    watermark = _when(position["w"]) if position.get("w") else None
    since = position.get("q") if after else None
    if since is None:
        start = watermark - lag if watermark else datetime.now(UTC) - RECENT_WINDOW
        since = _iso(start.replace(microsecond=0))  # whole seconds: the search's resolution
    query = f"tag:{_quote(mapping.ORDER_TAG)} updated_at:>={_quote(since)}"
    while True:
        data = client.execute("Orders", queries.ORDERS,
                              {"first": queries.ORDERS_PAGE, "after": after, "query": query})
        conn = data.get("orders") or {}
        orders = []
        for o in (_order(client, n) for n in conn.get("nodes") or []):
            stamp = _iso(o.updated_at) if o.updated_at else None
            if stamp and seen.get(o.remote_id) == stamp:
                continue  # listed by an earlier run, unchanged since
            orders.append(o)
            if o.updated_at and stamp:
                seen[o.remote_id] = stamp
                watermark = max(watermark or o.updated_at, o.updated_at)
        mark = _iso(watermark) if watermark else since
        info = conn.get("pageInfo") or {}
        if info.get("hasNextPage"):
            after = info.get("endCursor")
            yield OrderPage(orders=orders, cursor=encode_cursor({"a": after, "q": since, "w": mark, "s": seen}))
            continue
        # what falls out of the next run's look-back can never be listed again: forget it
        floor = _when(mark) - lag - timedelta(seconds=1)
        yield OrderPage(orders=orders, cursor=encode_cursor(
            {"w": mark, "s": {k: v for k, v in seen.items() if _when(v) >= floor}}))
        return


def get_orders(connection: Connection, order_ids: list[str]) -> list[Order]:
    client = ShopifyClient(connection)
    found: list[Order] = []
    for start in range(0, len(order_ids), queries.ORDERS_PAGE):
        data = client.execute("OrdersById", queries.ORDERS_BY_ID,
                              {"ids": order_ids[start:start + queries.ORDERS_PAGE]})
        found.extend(_order(client, n) for n in data.get("nodes") or [] if n and n.get("id"))
    return found


def list_fulfillments(connection: Connection, order_ids: list[str]) -> list[Fulfillment]:
    """Fulfilments of the orders with tracking numbers, companies and URLs."""
    client = ShopifyClient(connection)
    result: list[Fulfillment] = []
    size = queries.FULFILLMENT_ORDERS_BATCH
    for start in range(0, len(order_ids), size):
        data = client.execute("Fulfillments", queries.FULFILLMENTS,
                              {"ids": order_ids[start:start + size]})
        for node in data.get("nodes") or []:
            if not node or not node.get("id"):
                continue
            result.extend(mapping.fulfillment(f, node["id"]) for f in node.get("fulfillments") or [])
    return result

"""Reading the catalog and inventory: cursor pages, bulk export, available quantities.

* Full read of a catalog above ``bulk_threshold`` products: one ``bulkOperationRunQuery``; its
  JSONL result is streamed line by line and products are rebuilt one at a time (children follow
  their parent, ``__parentId``), so memory holds one page, never the file.
* Otherwise, and for every incremental read: ``products(sortKey: UPDATED_AT, query:
  "updated_at:>='…'")`` with cursor pagination; a product with more variants than fit in the
  page gets its remaining variants paged on their own.

The cursor given back to the core is opaque base64 JSON: ``a`` (the API cursor to continue
after), ``q`` (the ``updated_at`` lower bound of that stream), ``w`` (the watermark for the
next incremental run), or ``b``/``s`` (a bulk operation and how many products were yielded).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from bridge import values
from bridge.connection import Connection
from bridge.errors import Misconfigured, RateLimited, Transient
from bridge.models import InventoryLevel, Product, ProductPage, Variant
from bridge.values import encode_cursor
from bridge_shopify import mapping, queries
from bridge_shopify.client import ShopifyClient
from bridge_shopify.errors import user_errors

ALL_STATUSES = "status:active,draft,archived"
DEFAULT_BULK_THRESHOLD = 1000
BULK_PAGE = 100
#: How long to come back after while Shopify prepares a bulk export.
BULK_POLL_SECONDS = 15.0


def decode_cursor(cursor: str | None) -> dict[str, Any] | None:
    """A stream position (None: none, or a cursor this version cannot read: read from the
    start, which changes nothing on a no-op re-sync)."""
    try:
        return values.decode_cursor(cursor, what="shopify") or None
    except Misconfigured:
        return None


def shop_currency(client: ShopifyClient) -> str:
    """The shop currency (prices are in it), cached in the store's state."""
    currency = client.conn.state.get("shop_currency")
    if not currency:
        currency = client.execute("Shop", queries.SHOP)["shop"]["currencyCode"]
        client.conn.state["shop_currency"] = currency
    return currency


# --------------------------------------------------------------------------- cursor pages


def _all_variants(client: ShopifyClient, node: dict[str, Any], currency: str) -> list[Variant]:
    conn = node.get("variants") or {}
    nodes = list(conn.get("nodes") or [])
    info = conn.get("pageInfo") or {}
    total = (node.get("variantsCount") or {}).get("count")
    while info.get("hasNextPage"):
        left = total - len(nodes) if isinstance(total, int) and total > len(nodes) else queries.VARIANTS_PAGE
        data = client.execute("ProductVariants", queries.PRODUCT_VARIANTS, {
            "id": node["id"], "first": min(queries.VARIANTS_PAGE, left), "after": info.get("endCursor")})
        page = ((data.get("product") or {}).get("variants")) or {}
        nodes.extend(page.get("nodes") or [])
        info = page.get("pageInfo") or {}
    return [mapping.variant(v, currency) for v in nodes]


def _paged(client: ShopifyClient, *, after: str | None, since: str | None,
           watermark: str | None) -> Iterator[ProductPage]:
    currency = shop_currency(client)
    query = ALL_STATUSES + (f" updated_at:>='{since}'" if since else "")
    while True:
        data = client.execute("Products", queries.PRODUCTS, {
            "first": queries.PRODUCTS_PAGE, "after": after, "query": query,
            "variantsFirst": queries.VARIANTS_PER_PRODUCT})
        conn = data.get("products") or {}
        products = [mapping.product_from_page(n, _all_variants(client, n, currency))
                    for n in conn.get("nodes") or []]
        for p in products:
            stamp = p.updated_at.isoformat().replace("+00:00", "Z") if p.updated_at else None
            if stamp and (watermark is None or stamp > watermark):
                watermark = stamp
        info = conn.get("pageInfo") or {}
        if info.get("hasNextPage"):
            after = info.get("endCursor")
            yield ProductPage(products=products,
                              cursor=encode_cursor({"a": after, "q": since, "w": watermark}))
            continue
        yield ProductPage(products=products, cursor=encode_cursor({"w": watermark or since}))
        return


# --------------------------------------------------------------------------- bulk export


def _start_bulk(client: ShopifyClient) -> str:
    state = client.conn.state
    if state.get("bulk_operation"):
        return state["bulk_operation"]
    data = client.execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
        current = client.execute("CurrentBulk", queries.CURRENT_BULK).get("currentBulkOperation")
        raise RateLimited(
            "shopify: another bulk export is running on this store"
            + (f" ({current['status']})" if current else "") + "; bridge tries again later",
            retry_after=BULK_POLL_SECONDS * 4,
        )
    user_errors(errors)
    op_id = payload["bulkOperation"]["id"]
    state["bulk_operation"] = op_id
    return op_id


def _bulk_status(client: ShopifyClient, op_id: str) -> dict[str, Any] | None:
    return client.execute("BulkStatus", queries.BULK_STATUS, {"id": op_id}).get("node")


def _assemble(lines: Iterator[dict[str, Any]], currency: str) -> Iterator[Product]:
    """Rebuild products from JSONL lines (each child line follows its parent)."""
    current: dict[str, Any] | None = None
    variants: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    collections: list[str] = []

    def build() -> Product:
        return mapping.product(current, [mapping.variant(v, currency) for v in variants],
                               media=media, collections=collections)

    for line in lines:
        if "__parentId" not in line:
            if current is not None:
                yield build()
            current, variants, media, collections = line, [], [], []
            continue
        if current is None or line["__parentId"] != current["id"]:
            continue  # an orphan line (its parent was filtered out): nothing to attach it to
        kind = (line.get("id") or "").split("/")[3:4]
        if kind == ["ProductVariant"]:
            variants.append(line)
        elif kind == ["Collection"]:
            collections.append(line.get("title") or "")
        elif line.get("image"):
            media.append(line)
    if current is not None:
        yield build()


def _bulk(client: ShopifyClient, resume: dict[str, Any] | None) -> Iterator[ProductPage]:
    op_id = resume["b"] if resume else _start_bulk(client)
    skip = int(resume.get("s", 0)) if resume else 0
    status = _bulk_status(client, op_id)
    state = client.conn.state
    if status is None or status.get("status") in ("FAILED", "CANCELED", "EXPIRED"):
        state.pop("bulk_operation", None)
        reason = (status or {}).get("errorCode") or (status or {}).get("status") or "not found"
        raise Transient(f"shopify: the catalog bulk export ended without a result ({reason})")
    if status.get("status") != "COMPLETED":
        state["bulk_operation"] = op_id
        raise RateLimited("shopify: Shopify is preparing the catalog export; bridge reads it "
                          "when it is ready", retry_after=BULK_POLL_SECONDS)
    watermark = status.get("createdAt")
    currency = shop_currency(client)
    page: list[Product] = []
    emitted = 0
    if status.get("url"):
        for index, product in enumerate(_assemble(client.stream_lines(status["url"]), currency)):
            if index < skip:
                continue
            page.append(product)
            if len(page) == BULK_PAGE:
                emitted = index + 1
                yield ProductPage(products=page,
                                  cursor=encode_cursor({"b": op_id, "s": emitted, "w": watermark}))
                page = []
    state.pop("bulk_operation", None)
    yield ProductPage(products=page, cursor=encode_cursor({"w": watermark}))


def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """The catalog page by page (see the module docstring for the strategy)."""
    client = ShopifyClient(connection)
    position = decode_cursor(cursor)
    if position is None:
        threshold = int(connection.setting("bulk_threshold", DEFAULT_BULK_THRESHOLD))
        if connection.state.get("bulk_operation"):
            yield from _bulk(client, None)
            return
        count = client.execute("ProductsCount", queries.PRODUCTS_COUNT, {"query": ALL_STATUSES})
        if int((count.get("productsCount") or {}).get("count") or 0) > threshold:
            yield from _bulk(client, None)
            return
        yield from _paged(client, after=None, since=None, watermark=None)
    elif "b" in position:
        yield from _bulk(client, position)
    elif position.get("a"):
        yield from _paged(client, after=position["a"], since=position.get("q"),
                          watermark=position.get("w"))
    else:
        yield from _paged(client, after=None, since=position.get("w"), watermark=position.get("w"))


def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    """The given products; ids Shopify does not know are left out."""
    client = ShopifyClient(connection)
    currency = shop_currency(client)
    found: list[Product] = []
    for start in range(0, len(product_ids), queries.PRODUCTS_PAGE):
        ids = product_ids[start:start + queries.PRODUCTS_PAGE]
        data = client.execute("ProductsById", queries.PRODUCTS_BY_ID,
                              {"ids": ids, "variantsFirst": queries.VARIANTS_PER_PRODUCT})
        for node in data.get("nodes") or []:
            if node and node.get("id"):
                found.append(mapping.product_from_page(node, _all_variants(client, node, currency)))
    return found


# --------------------------------------------------------------------------- inventory


def chosen_locations(client: ShopifyClient) -> set[str]:
    """Ids of the locations whose stock counts: the ``locations`` setting (ids or names,
    comma-separated), else every active location."""
    return _locations(client)[0]


def _locations(client: ShopifyClient) -> tuple[set[str], int]:
    """The chosen (active) locations, and how many locations the store has, inactive ones too (an
    inventory item has at most one level at each, so that many levels per item reads them all)."""
    nodes = (client.execute("Locations", queries.LOCATIONS).get("locations") or {}).get("nodes") or []
    active = [n for n in nodes if n.get("isActive", True)]
    wanted = [w.strip() for w in str(client.conn.setting("locations", "")).split(",") if w.strip()]
    if not wanted:
        return {n["id"] for n in active}, len(nodes)
    chosen = {n["id"] for n in active
              if n["id"] in wanted or n["id"].rsplit("/", 1)[-1] in wanted or n["name"] in wanted}
    if not chosen:
        from bridge.errors import Misconfigured

        raise Misconfigured(f"shopify: none of the locations {wanted} is an active location of the "
                            "store: fix the 'locations' setting")
    return chosen, len(nodes)


def _level(item: dict[str, Any], locations: set[str]) -> InventoryLevel | None:
    variant = item.get("variant") or {}
    if not variant.get("id"):
        return None
    levels = (item.get("inventoryLevels") or {}).get("nodes") or []
    quantity = sum(q["quantity"] for lv in levels if (lv.get("location") or {}).get("id") in locations
                   for q in lv.get("quantities") or [] if q.get("name") == "available")
    return InventoryLevel(product_id=(variant.get("product") or {}).get("id") or "",
                          variant_id=variant["id"], sku=item.get("sku") or None,
                          quantity=quantity, tracked=bool(item.get("tracked", True)))


def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """Available quantity per variant, summed over the chosen locations.

    ``variant_ids`` may also hold InventoryItem GIDs (what ``inventory_levels/update`` names).
    """
    client = ShopifyClient(connection)
    locations, every = _locations(client)
    levels_first = min(250, max(1, every))
    per_item = 2 * (6 + 3 * levels_first)  # both fragments of the document, counted by cost
    batch = max(1, min(250, 900 // per_item))
    if variant_ids is not None:
        for start in range(0, len(variant_ids), batch):
            data = client.execute("InventoryByIds", queries.INVENTORY_BY_IDS, {
                "ids": variant_ids[start:start + batch], "levelsFirst": levels_first})
            for node in data.get("nodes") or []:
                if not node:
                    continue
                item = node.get("inventoryItem") if "inventoryItem" in node else node
                level = _level(item or {}, locations)
                if level:
                    yield level
        return
    after = None
    while True:
        data = client.execute("InventoryAll", queries.INVENTORY_ALL, {
            "first": max(1, 900 // (6 + 3 * levels_first)), "after": after,
            "levelsFirst": levels_first})
        conn = data.get("productVariants") or {}
        for node in conn.get("nodes") or []:
            level = _level(node.get("inventoryItem") or {}, locations)
            if level:
                yield level
        info = conn.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            return
        after = info.get("endCursor")

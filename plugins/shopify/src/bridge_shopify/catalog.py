"""Reading the catalog and inventory: cursor pages, bulk export, available quantities.

* Full read of a catalog above ``bulk_threshold`` products: one ``bulkOperationRunQuery``, which
  Shopify builds in the background (``CREATED``, ``RUNNING``, then ``COMPLETED``). While it is
  built the catalog is read at once with the cursor pages, in product id order
  (``products(sortKey: ID)``, paced by query cost as every page is), and the export's status is
  checked between pages. Once it is ``COMPLETED`` its JSONL result is streamed line by line
  (products rebuilt one at a time, children following their parent through ``__parentId``, so
  memory holds one page, never the file), passing over every product whose numeric id is at
  most the highest the pages gave, whatever the file's order: products created meanwhile have
  higher ids. If the pages reach the end first, the pass ends there and the export is cancelled
  (``bulkOperationCancel``). An export already ``COMPLETED`` at its first check is streamed
  whole; while another bulk query holds the store's one slot the pages go on alone and the
  export is started when it can be.
* Otherwise, and for every incremental read: ``products(sortKey: UPDATED_AT, query:
  "updated_at:>='…'")`` with cursor pagination; a product with more variants than fit in the
  page gets its remaining variants paged on their own.

The cursor given back to the core is opaque base64 JSON: ``a`` (the API cursor to continue
after), ``q`` (the ``updated_at`` lower bound of that stream), ``w`` (the watermark for the
next incremental run: for a full read, when its export was created, which is before its first
page was read); ``f`` (a full read's page in id order: ``a``, ``h`` the highest product id read,
``b`` the export beside it); or ``b``/``s``/``h`` (a position in the export's file: how many of
its products were passed, and the id at or below which the pages gave them).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from bridge import values
from bridge.connection import Connection
from bridge.errors import Misconfigured, RateLimited, Transient
from bridge.http import MAX_INLINE_WAIT
from bridge.models import InventoryLevel, Product, ProductPage, Variant
from bridge.values import encode_cursor
from bridge_shopify import mapping, queries
from bridge_shopify.client import ShopifyClient
from bridge_shopify.errors import user_errors

ALL_STATUSES = "status:active,draft,archived"
DEFAULT_BULK_THRESHOLD = 1000
BULK_PAGE = 100
#: How long to come back after while Shopify prepares a bulk export; also how often a full read
#: that could not start its export (another bulk query held the store's slot) tries again.
BULK_POLL_SECONDS = 15.0
#: While the cost budget holds the next page of a full read back, the export is checked this
#: often (seconds), so that its file is read as soon as it is ready.
BULK_WATCH_SECONDS = 1.0
#: Share of the store's cost bucket the pages read while an export is built leave for other work
#: (orders created, inventory read): they are a head start, and an export can take minutes.
BULK_PAGES_KEEP = 0.5
#: Bulk operation statuses after which an export gives no file.
ENDED = ("CANCELING", "CANCELED", "FAILED", "EXPIRED")

log = logging.getLogger("bridge_shopify")


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


# --------------------------------------------------------------------------- full read


def _num(gid: str) -> int:
    """The numeric id at the end of a GID (0 when there is none)."""
    tail = gid.rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _start_bulk(client: ShopifyClient) -> tuple[dict[str, Any] | None, str]:
    """Start the catalog export: (the operation: ``id``, ``status``, ``createdAt``; a Shopify
    time before the read starts). The operation is None while another bulk query runs on the
    store (one at a time before API 2026-01), unless that one is this same export (a start whose
    answer was lost, or another pass of the store): then it is taken over."""
    data = client.execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    payload = data.get("bulkOperationRunQuery") or {}
    errors = payload.get("userErrors") or []
    if any(e.get("code") == "OPERATION_IN_PROGRESS" for e in errors):
        current = client.execute("CurrentBulk", queries.CURRENT_BULK).get("currentBulkOperation") or {}
        if not current.get("createdAt"):
            raise RateLimited("shopify: another bulk export is running on this store; bridge "
                              "tries again later", retry_after=BULK_POLL_SECONDS * 4)
        if (current.get("status") in ("CREATED", "RUNNING")
                and " ".join((current.get("query") or "").split()) == " ".join(queries.BULK_PRODUCTS.split())):
            client.conn.state["bulk_operation"] = current["id"]
            return current, current["createdAt"]
        return None, current["createdAt"]
    user_errors(errors)
    op = payload["bulkOperation"]
    client.conn.state["bulk_operation"] = op["id"]
    return op, op["createdAt"]


def _bulk_status(client: ShopifyClient, op_id: str) -> dict[str, Any] | None:
    """The operation's status; None when it ended without a result (or is unknown)."""
    status = client.execute("BulkStatus", queries.BULK_STATUS, {"id": op_id}).get("node")
    if status is None or status.get("status") in ENDED:
        reason = (status or {}).get("errorCode") or (status or {}).get("status") or "not found"
        log.info("shopify: the catalog export %s ended without a result (%s)", op_id, reason)
        _let_go(client, op_id)
        return None
    return status


def _let_go(client: ShopifyClient, op_id: str | None) -> None:
    """The store's state no longer names ``op_id`` as the export of a full read."""
    if op_id and client.conn.state.get("bulk_operation") == op_id:
        client.conn.state.pop("bulk_operation", None)


def _cancel(client: ShopifyClient, op_id: str | None) -> None:
    """The full read ended from its pages: the export it no longer needs is cancelled, so that
    it does not hold the store's one bulk query slot (best effort: an export left running ends
    on its own, and the next full read reads pages until it can start its own)."""
    _let_go(client, op_id)
    if op_id is None:
        return
    try:
        payload = client.execute("BulkCancel", queries.BULK_CANCEL, {"id": op_id}).get(
            "bulkOperationCancel") or {}
    except (Transient, RateLimited) as exc:
        log.info("shopify: the catalog export %s was not cancelled (%s); it ends on its own",
                 op_id, exc)
        return
    if payload.get("userErrors"):  # it completed meanwhile: nothing holds the slot
        log.debug("shopify: cancelling the catalog export %s: %s", op_id, payload["userErrors"])


def _assemble(lines: Iterator[dict[str, Any]], currency: str,
              keep: Callable[[int, dict[str, Any]], bool] | None = None) -> Iterator[tuple[int, Product]]:
    """Rebuild products from JSONL lines (each child line follows its parent): (the product's
    position among the file's products, the product), for those ``keep(position, line)`` wants."""
    current: dict[str, Any] | None = None
    wanted = False
    index = -1
    variants: list[dict[str, Any]] = []
    media: list[dict[str, Any]] = []
    collections: list[str] = []

    def build() -> Product:
        assert current is not None
        return mapping.product(current, [mapping.variant(v, currency) for v in variants],
                               media=media, collections=collections)

    for line in lines:
        if "__parentId" not in line:
            if current is not None and wanted:
                yield index, build()
            index += 1
            wanted = keep is None or keep(index, line)
            current, variants, media, collections = line, [], [], []
            continue
        if not wanted or current is None or line["__parentId"] != current["id"]:
            continue  # a product passed over, or an orphan line (its parent was filtered out)
        kind = (line.get("id") or "").split("/")[3:4]
        if kind == ["ProductVariant"]:
            variants.append(line)
        elif kind == ["Collection"]:
            collections.append(line.get("title") or "")
        elif line.get("image"):
            media.append(line)
    if current is not None and wanted:
        yield index, build()


def _export(client: ShopifyClient, status: dict[str, Any], *, skip: int, high: int,
            watermark: str) -> Iterator[ProductPage]:
    """The completed export's products: its first ``skip`` ones and every product whose id is at
    most ``high`` (the pages before gave them) passed over, whatever the file's order."""
    op_id = status["id"]
    currency = shop_currency(client)
    page: list[Product] = []

    def keep(index: int, line: dict[str, Any]) -> bool:
        return index >= skip and _num(line.get("id") or "") > high

    if status.get("url"):
        for index, product in _assemble(client.stream_lines(status["url"]), currency, keep):
            page.append(product)
            if len(page) == BULK_PAGE:
                yield ProductPage(products=page, cursor=encode_cursor(
                    {"b": op_id, "s": index + 1, "h": high, "w": watermark}))
                page = []
    _let_go(client, op_id)
    yield ProductPage(products=page, cursor=encode_cursor({"w": watermark}))


def _pages_then_export(client: ShopifyClient, status: dict[str, Any] | None, *, after: str | None,
                       high: int, watermark: str) -> Iterator[ProductPage]:
    """Pages in id order from ``after`` while the export (``status``, just checked; None: none
    could be started) is built, its status checked between pages; then the export's products
    past the highest id read; or, when the pages reach the end first, the pass ends there and
    the export is cancelled."""
    currency = shop_currency(client)
    tried = time.monotonic()
    op_id = status["id"] if status else None
    while True:
        if op_id is not None:
            status = _watch(client, op_id, status)
            if status is None:
                op_id, tried = None, time.monotonic()
            elif status.get("status") == "COMPLETED":
                yield from _export(client, status, skip=0, high=high, watermark=watermark)
                return
        data = client.execute("ProductsIdOrder", queries.PRODUCTS_ID_ORDER, {
            "first": queries.PRODUCTS_PAGE, "after": after, "query": ALL_STATUSES,
            "variantsFirst": queries.VARIANTS_PER_PRODUCT})
        conn = data.get("products") or {}
        products = [mapping.product_from_page(n, _all_variants(client, n, currency))
                    for n in conn.get("nodes") or []]
        high = max([high, *(_num(p.remote_id) for p in products)])
        info = conn.get("pageInfo") or {}
        if not info.get("hasNextPage"):
            _cancel(client, op_id)
            yield ProductPage(products=products, cursor=encode_cursor({"w": watermark}))
            return
        after = info.get("endCursor")
        yield ProductPage(products=products, cursor=encode_cursor(
            {"f": 1, "a": after, "h": high, "b": op_id, "w": watermark}))
        status = None  # to be checked before the next page
        if op_id is None and time.monotonic() - tried >= BULK_POLL_SECONDS:
            # another bulk query held the store's slot, or the export ended without a file
            tried = time.monotonic()
            status = _start_bulk(client)[0]
            op_id = status["id"] if status else None


def _watch(client: ShopifyClient, op_id: str, status: dict[str, Any] | None) -> dict[str, Any] | None:
    """The export's status before the next page (``status``: as just checked, else None); while
    the cost budget holds that page back, checked every :data:`BULK_WATCH_SECONDS` until it is
    ``COMPLETED`` or the page's wait is over (the wait the page would take anyway, split so that
    a ready export is not left waiting; the page is then paced as usual). None: the export ended
    without a file."""
    if status is None:
        status = _bulk_status(client, op_id)
    # the page waits until it leaves BULK_PAGES_KEEP of the bucket to the store's other work
    # (at most MAX_INLINE_WAIT: then the page goes as usual, paced by its own cost only)
    wait = min(client.bucket.delay("ProductsIdOrder", keep=client.bucket.maximum * BULK_PAGES_KEEP),
               MAX_INLINE_WAIT)
    until = time.monotonic() + wait
    while status is not None and status.get("status") != "COMPLETED":
        pause = min(until - time.monotonic(), BULK_WATCH_SECONDS)
        if pause <= 0:
            break
        client.bucket.waited += pause
        time.sleep(pause)
        status = _bulk_status(client, op_id)
    return status


def _full(client: ShopifyClient, position: dict[str, Any]) -> Iterator[ProductPage]:
    """A full read of a large catalog, from the start (``position`` empty) or resumed: a page
    cursor (``f``), or a position in the export's file (``b`` and ``s``)."""
    in_file = "b" in position and "f" not in position
    after, high = position.get("a"), int(position.get("h") or 0)
    skip = int(position.get("s") or 0) if in_file else 0
    op_id = position.get("b") or client.conn.state.get("bulk_operation")
    status = _bulk_status(client, op_id) if op_id else None
    began = (status or {}).get("createdAt")
    if status is None:
        if in_file:  # the file being read is gone (failed, expired): read again from the start
            after, high, skip, in_file = None, 0, 0, False
        status, began = _start_bulk(client)
    watermark = str(position.get("w") or began)
    if status is not None and status.get("status") == "COMPLETED":
        yield from _export(client, status, skip=skip, high=high, watermark=watermark)
        return
    if in_file:  # reported RUNNING again after a first COMPLETED: its file is read once ready
        raise RateLimited("shopify: Shopify is preparing the catalog export; bridge reads it "
                          "when it is ready", retry_after=BULK_POLL_SECONDS)
    yield from _pages_then_export(client, status, after=after, high=high, watermark=watermark)


def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """The catalog page by page (see the module docstring for the strategy)."""
    client = ShopifyClient(connection)
    position = decode_cursor(cursor)
    if position is None:
        threshold = int(connection.setting("bulk_threshold", DEFAULT_BULK_THRESHOLD))
        if connection.state.get("bulk_operation"):
            yield from _full(client, {})
            return
        count = client.execute("ProductsCount", queries.PRODUCTS_COUNT, {"query": ALL_STATUSES})
        if int((count.get("productsCount") or {}).get("count") or 0) > threshold:
            yield from _full(client, {})
            return
        yield from _paged(client, after=None, since=None, watermark=None)
    elif "f" in position or "b" in position:
        yield from _full(client, position)
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

"""Catalog and inventory reads: products streamed page by page, incremental by modification
date, and stock from the Inventory API at the chosen location.

Streaming uses keyset pagination (``sort=id``, ``id:greater``) so a product changed during a
stream cannot shift pages and be skipped; ``date_modified:min`` makes a run incremental. The
cursor of the last page is the earliest of the newest ``date_modified`` seen and the server time
the stream started, so a product changed during the stream is read again next time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from email.utils import parsedate_to_datetime
from typing import Any

from bridge.connection import Connection
from bridge.errors import Misconfigured, Rejected
from bridge.models import InventoryLevel, Product, ProductPage
from bridge.values import decode_cursor, encode_cursor, parse_iso
from bridge.values import iso_utc as iso
from bridge_bigcommerce.client import V3_MAX_LIMIT, BigCommerceClient, is_last_page
from bridge_bigcommerce.mapping import (
    StoreFacts,
    store_facts,
    to_product,
    variant_quantity,
)

STORE_KEY = "bigcommerce.store"
LOCATION_KEY = "bigcommerce.default_location"
PRODUCT_INCLUDE = "variants,images"
#: Product fields the inventory read needs (``include_fields``; ``id`` always comes).
INVENTORY_FIELDS = "inventory_tracking,inventory_level,base_variant_id"
#: Inventory API items per response (documented maximum 1000).
ITEMS_LIMIT = 1000
#: Ids per ``:in`` filter, to keep URLs short.
IDS_PER_CALL = 100


def facts(client: BigCommerceClient, *, refresh: bool = False) -> StoreFacts:
    """The store's currency and units, from ``GET /v2/store`` (kept in the store's state)."""
    state = client.connection.state
    cached = state.get(STORE_KEY)
    if cached and not refresh:
        return StoreFacts(**cached)
    store = client.call("GET", "v2", "store") or {}
    f = store_facts(store)
    state[STORE_KEY] = f.as_dict()
    return f


# --------------------------------------------------------------------------- products


def _decode(cursor: str | None) -> dict[str, Any]:
    return decode_cursor(cursor, what="bigcommerce product")


def _encode(**values: Any) -> str:
    return encode_cursor(values)


def _server_time(date_header: str | None) -> str | None:
    if not date_header:
        return None
    try:
        return iso(parsedate_to_datetime(date_header))
    except (TypeError, ValueError):
        return None


def _later(a: str | None, b: str | None) -> str | None:
    da, db = parse_iso(a), parse_iso(b)
    if da is None:
        return b
    if db is None:
        return a
    return a if da >= db else b


def _earlier(a: str | None, b: str | None) -> str | None:
    da, db = parse_iso(a), parse_iso(b)
    if da is None or db is None:
        return a or b
    return a if da <= db else b


def stream_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    """``GET /v3/catalog/products?include=variants,images`` page by page (see module doc)."""
    client = BigCommerceClient(connection)
    f = facts(client)
    state = _decode(cursor)
    since: str | None = state.get("since")
    after: int = int(state.get("after") or 0)
    start: str | None = state.get("start")
    newest: str | None = state.get("hw")
    params: dict[str, Any] = {"include": PRODUCT_INCLUDE, "limit": V3_MAX_LIMIT, "sort": "id",
                              "direction": "asc"}
    if since:
        params["date_modified:min"] = since
    while True:
        query = {**params, "page": 1}
        if after:
            query["id:greater"] = after
        body = client.call("GET", "v3", "catalog/products", params=query) or {}
        data = body.pop("data", None) or []
        pagination = (body.get("meta") or {}).get("pagination") or {}
        del body
        start = start or _server_time(client.last_date)
        if data:
            after = int(data[-1]["id"])
        products: list[Product] = []
        data.reverse()
        while data:  # each product's JSON goes as soon as it is converted (a page's is megabytes)
            raw = data.pop()
            newest = _later(newest, raw.get("date_modified"))
            products.append(to_product(raw, f))
        if is_last_page(pagination, len(products), V3_MAX_LIMIT):
            next_since = _earlier(newest, start) if newest else since
            yield ProductPage(products=products, cursor=_encode(since=next_since))
            return
        yield ProductPage(products=products,
                          cursor=_encode(since=since, after=after, start=start, hw=newest))
        del products  # the caller has the page: this one is not kept while the next is read


def read_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    """The given products (missing ones left out), ``id:in`` in chunks."""
    client = BigCommerceClient(connection)
    f = facts(client)
    ids = [i for i in dict.fromkeys(str(x) for x in product_ids) if i.isdigit()]
    out: list[Product] = []
    for chunk in _chunks(ids, V3_MAX_LIMIT):
        params = {"id:in": ",".join(chunk), "include": PRODUCT_INCLUDE, "limit": V3_MAX_LIMIT}
        for data, _ in client.v3_pages("catalog/products", params):
            out.extend(to_product(p, f) for p in data)
    return out


# --------------------------------------------------------------------------- inventory


def location_id(client: BigCommerceClient) -> int | None:
    """The chosen location (setting ``location_id``), else the store's default location;
    None when the token may not read locations (the catalog levels are used then)."""
    chosen = client.connection.setting("location_id")
    if chosen not in (None, ""):
        return int(chosen)
    state = client.connection.state
    if state.get(LOCATION_KEY):
        return int(state[LOCATION_KEY])
    try:
        body = client.call("GET", "v3", "inventory/locations", params={"is_default": "true"}) or {}
    except Misconfigured:  # 403: no store_locations scope
        return None
    data = body.get("data") or []
    if not data:
        return None
    state[LOCATION_KEY] = int(data[0]["id"])
    return int(data[0]["id"])


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _items(client: BigCommerceClient, location: int | None, key: str,
           ids: list[str]) -> tuple[dict[str, int], set[str]] | None:
    """From ``GET /v3/inventory/items``: available_to_sell by variant id at ``location``, and
    the product ids of the items; None when the Inventory API cannot be read (no location, or
    the token lacks the inventory scope)."""
    if location is None:
        return None
    stock: dict[str, int] = {}
    products: set[str] = set()
    try:
        for chunk in _chunks(ids, IDS_PER_CALL):
            params = {f"{key}:in": ",".join(chunk), "location_id:in": location, "limit": ITEMS_LIMIT}
            for data, _ in client.v3_pages("inventory/items", params):
                for item in data:
                    identity = item.get("identity") or {}
                    vid = str(identity.get("variant_id") or "")
                    products.add(str(identity.get("product_id") or ""))
                    for loc in item.get("locations") or []:
                        if int(loc.get("location_id") or 0) == location and vid:
                            stock[vid] = max(0, int(loc.get("available_to_sell") or 0))
    except Misconfigured:  # 403: no store_inventory scope
        return None
    products.discard("")
    return stock, products


def _levels(products: Iterable[dict], stock: dict[str, int] | None,
            wanted: set[str] | None) -> Iterator[InventoryLevel]:
    for p in products:
        mode = p.get("inventory_tracking") or "none"
        for v in p.get("variants") or []:
            vid = str(v["id"])
            if wanted is not None and vid not in wanted:
                continue
            if mode == "none":
                yield InventoryLevel(product_id=str(p["id"]), variant_id=vid, sku=v.get("sku") or None,
                                     quantity=0, tracked=False)
                continue
            qty = stock.get(vid) if stock is not None else None
            if qty is None:
                qty = max(0, variant_quantity(v, p) or 0)
            yield InventoryLevel(product_id=str(p["id"]), variant_id=vid, sku=v.get("sku") or None,
                                 quantity=qty)


def read_levels(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    """Stock per variant at the chosen location (see :func:`location_id`), page by page."""
    client = BigCommerceClient(connection)
    location = location_id(client)
    base = {"include": "variants", "include_fields": INVENTORY_FIELDS, "limit": V3_MAX_LIMIT}
    if variant_ids is None:
        params = {**base, "sort": "id", "direction": "asc"}
        for data, _ in client.v3_pages("catalog/products", params):
            found = _items(client, location, "product_id", [str(p["id"]) for p in data])
            yield from _levels(data, found[0] if found else None, None)
            del data, found  # a page's JSON (megabytes) goes before the next page is read
        return
    wanted = {str(v) for v in variant_ids if str(v).isdigit()}
    if not wanted:
        return
    found = _items(client, location, "variant_id", sorted(wanted))
    product_ids = found[1] if found else _product_ids(client, sorted(wanted))
    for chunk in _chunks(sorted(product_ids), V3_MAX_LIMIT):
        for data, _ in client.v3_pages("catalog/products", {**base, "id:in": ",".join(chunk)}):
            yield from _levels(data, found[0] if found else None, wanted)


def _product_ids(client: BigCommerceClient, variant_ids: list[str]) -> set[str]:
    """The products of these variants when the Inventory API cannot be read: one catalog
    variant lookup each (``GET /v3/catalog/variants?id=``)."""
    found: set[str] = set()
    for vid in variant_ids:
        try:
            body = client.call("GET", "v3", "catalog/variants", params={"id": vid}) or {}
        except Rejected:
            continue
        found.update(str(v.get("product_id")) for v in body.get("data") or [])
    return found

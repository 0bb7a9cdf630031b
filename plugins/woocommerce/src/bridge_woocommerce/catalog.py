"""Catalog and stock: products (simple and variable, with variations) streamed page by page,
incremental by modification time in GMT, and stock levels.

Cursor (JSON): ``{"since": S, "page": P, "start": T, "hw": H}``. A stream lists products with
``date_modified_gmt >= S`` (all when S is absent) ordered by id, 100 per page; P is the last page
done (mid-stream), T the server's clock when the stream began (its ``Date`` header) and H the
latest modification seen. The last page's cursor has only ``since = min(H, T)``: the next run
re-reads what changed from then on, so a product edited while the stream ran is not missed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from bridge.connection import Connection
from bridge.errors import Misconfigured
from bridge.models import InventoryLevel, Product, ProductPage
from bridge.values import decode_cursor, encode_cursor
from bridge_woocommerce import mapping
from bridge_woocommerce.client import WooClient, store_facts

STOCK_FIELDS = "id,parent_id,type,sku,manage_stock,stock_quantity,stock_status,variations"


def _decode(cursor: str | None) -> dict[str, Any]:
    return decode_cursor(cursor, what="woocommerce product")


def _server_now(response: httpx.Response) -> str:
    date = response.headers.get("date")
    try:
        return mapping.wc_gmt(parsedate_to_datetime(date)) if date else _utcnow()
    except (TypeError, ValueError):
        return _utcnow()


def _utcnow() -> str:
    from datetime import UTC, datetime

    return mapping.wc_gmt(datetime.now(UTC))


def _after(since: str) -> str:
    """``modified_after`` is strict; one second earlier includes ``since`` itself."""
    dt = mapping.gmt(since)
    return mapping.wc_gmt(dt - timedelta(seconds=1)) if dt else since


def variations(client: WooClient, product_id: Any, fields: str | None = None) -> list[dict[str, Any]]:
    """Every variation of a variable product (paged, 100 at a time)."""
    params: dict[str, Any] = {"orderby": "id", "order": "asc"}
    if fields:
        params["_fields"] = fields
    out: list[dict[str, Any]] = []
    for _, items, _, _ in client.pages(f"/products/{product_id}/variations", params, what=f"product {product_id}"):
        out.extend(items)
    return out


def _products(client: WooClient, items: list[dict[str, Any]], facts: dict[str, str]) -> list[Product]:
    out = []
    for obj in items:
        children = variations(client, obj["id"]) if obj.get("type") == "variable" else []
        made = mapping.product(obj, children, facts["currency"], facts)
        if made is not None:
            out.append(made)
    return out


def _changed_variation_parents(client: WooClient, since: str) -> tuple[set[int], str | None]:
    """Parents of variations changed since ``since`` (``GET /variations``, WooCommerce 10.3+): a
    variation's edit need not touch its product's ``date_modified``. Older sites: none known."""
    parents: set[int] = set()
    latest: str | None = None
    params = {"modified_after": _after(since), "dates_are_gmt": True, "orderby": "id", "order": "asc",
              "_fields": "id,parent_id,date_modified_gmt"}
    try:
        for _, items, _, _ in client.pages("/variations", params, what="changed variations"):
            for v in items:
                if v.get("parent_id"):
                    parents.add(int(v["parent_id"]))
                stamp = v.get("date_modified_gmt")
                if stamp and (latest is None or stamp > latest):
                    latest = stamp
    except Misconfigured:  # rest_no_route: no /variations on this WooCommerce
        return set(), None
    return parents, latest


def list_products(connection: Connection, cursor: str | None) -> Iterator[ProductPage]:
    client = WooClient(connection)
    facts = store_facts(client)
    state = _decode(cursor)
    since, start, hw = state.get("since"), state.get("start"), state.get("hw")
    params: dict[str, Any] = {"orderby": "id", "order": "asc"}
    extra: set[int] = set()
    if since:
        params.update({"modified_after": _after(since), "dates_are_gmt": True})
        extra, latest = _changed_variation_parents(client, since)
        if latest and (hw is None or latest > hw):
            hw = latest

    def final() -> str:
        next_since = min(hw, start) if hw and start else (hw or since)
        return encode_cursor({"since": next_since} if next_since else {})

    yielded = False
    for page, items, total, response in client.pages("/products", params, start=int(state.get("page", 0)) + 1,
                                                     what="products"):
        start = start or _server_now(response)
        for obj in items:
            stamp = obj.get("date_modified_gmt")
            if stamp and (hw is None or stamp > hw):
                hw = stamp
        last = (page >= total or not items) and not extra
        token = final() if last else encode_cursor({"since": since, "page": page, "start": start, "hw": hw})
        yielded = True
        yield ProductPage(products=_products(client, items, facts), cursor=token)
    if extra and since:
        # Products whose own date is older than ``since`` were not in the stream above.
        rest = []
        for _, items, _, _ in client.pages("/products", {"include": sorted(extra)}, what="products"):
            rest.extend(o for o in items if (o.get("date_modified_gmt") or "") < since)
        yield ProductPage(products=_products(client, rest, facts), cursor=final())
    elif not yielded:  # resumed past the end: nothing more, same position
        yield ProductPage(products=[], cursor=final())


def get_products(connection: Connection, product_ids: list[str]) -> list[Product]:
    client = WooClient(connection)
    facts = store_facts(client)
    out: list[Product] = []
    ids = [i for i in dict.fromkeys(str(p) for p in product_ids) if i.isdigit()]
    for n in range(0, len(ids), 100):
        chunk = ids[n:n + 100]
        for _, items, _, _ in client.pages("/products", {"include": chunk, "orderby": "include"}, what="products"):
            out.extend(_products(client, items, facts))
    return out


def _level(obj: dict[str, Any], product_id: str, unmanaged: int) -> InventoryLevel:
    managed = obj.get("manage_stock") in (True, "parent")
    if managed:
        qty = int(obj.get("stock_quantity") or 0)
    else:
        qty = 0 if obj.get("stock_status") == "outofstock" else unmanaged
    return InventoryLevel(product_id=product_id, variant_id=str(obj["id"]), sku=obj.get("sku") or None,
                          quantity=max(qty, 0), tracked=managed)


def read_inventory(connection: Connection, variant_ids: list[str] | None) -> Iterator[InventoryLevel]:
    client = WooClient(connection)
    unmanaged = int(connection.setting("unmanaged_stock", 100))
    if variant_ids is None:
        for _, items, _, _ in client.pages("/products", {"orderby": "id", "order": "asc", "_fields": STOCK_FIELDS},
                                           what="stock"):
            for obj in items:
                if obj.get("type") == "variable":
                    for v in variations(client, obj["id"], STOCK_FIELDS):
                        yield _level(v, str(obj["id"]), unmanaged)
                elif obj.get("type") in mapping.SELLABLE_TYPES:
                    yield _level(obj, str(obj["id"]), unmanaged)
        return
    wanted = [i for i in dict.fromkeys(str(v) for v in variant_ids) if i.isdigit()]
    for n in range(0, len(wanted), 100):
        chunk = wanted[n:n + 100]
        found: set[str] = set()
        for _, items, _, _ in client.pages("/products", {"include": chunk, "_fields": STOCK_FIELDS}, what="stock"):
            for obj in items:
                if obj.get("type") in mapping.SELLABLE_TYPES and obj.get("type") != "variable":
                    found.add(str(obj["id"]))
                    yield _level(obj, str(obj["id"]), unmanaged)
        rest = [i for i in chunk if i not in found]
        if rest:
            yield from _variation_levels(client, rest, unmanaged)


def _variation_levels(client: WooClient, ids: list[str], unmanaged: int) -> Iterator[InventoryLevel]:
    """Variations by id: ``GET /variations`` (WooCommerce 10.3+), else one by one via ``/products/{id}``."""
    try:
        for _, items, _, _ in client.pages("/variations", {"include": ids, "_fields": STOCK_FIELDS},
                                           what="variations"):
            for v in items:
                yield _level(v, str(v.get("parent_id") or ""), unmanaged)
        return
    except Misconfigured:  # rest_no_route: an older WooCommerce without /variations
        pass
    from bridge.errors import Rejected

    for vid in ids:
        try:
            v = client.get(f"/products/{vid}", {"_fields": STOCK_FIELDS}, what=f"variation {vid}")
        except Rejected:
            continue  # deleted since
        yield _level(v, str(v.get("parent_id") or ""), unmanaged)

"""Catalog and inventory against the sandbox: streaming, cursors, mapping, stock per location."""

from __future__ import annotations

import json
import types
from decimal import Decimal

from bridge_bigcommerce import catalog
from bridge_bigcommerce.sandbox.state import iso, now


def test_products_stream_one_page_per_api_page(sandbox, conn):
    sandbox.reset(300, 2, seed=1)
    stream = catalog.stream_products(conn, None)
    assert isinstance(stream, types.GeneratorType)
    pages = list(stream)
    assert [len(p.products) for p in pages] == [250, 50]
    assert sandbox.stats.by_route["GET /v3/catalog/products"] == 2
    ids = [p.remote_id for page in pages for p in page.products]
    assert len(set(ids)) == 300
    rest = [p.remote_id for page in catalog.stream_products(conn, pages[0].cursor) for p in page.products]
    assert rest == ids[250:]


def test_product_mapping(sandbox, conn):
    pages = list(catalog.stream_products(conn, None))
    products = {p.remote_id: p for p in pages[0].products}
    raw = sandbox.state.products
    first = products["100"]
    assert first.options == ["Colour", "Size"]
    assert [v.options for v in first.variants][:2] == [{"Colour": "Red", "Size": "S"},
                                                       {"Colour": "Red", "Size": "M"}]
    # weight in KGS -> grams; dimensions in cm (depth is the length)
    assert first.weight_g == (Decimal(str(raw[100]["weight"])) * 1000).quantize(Decimal("0.01"))
    assert first.dimensions.length_cm == Decimal(raw[100]["depth"])
    assert first.images[0].url.endswith("/product_images/800x800/p100-0.png")
    assert first.images[0].url.startswith("http://127.0.0.1")
    # product 5 has a sale price: sale is the price, the price the compare-at
    sale = products["104"]
    assert sale.variants[0].price.amount == Decimal(str(raw[104]["sale_price"]))
    assert sale.variants[0].compare_at_price.amount == Decimal(str(raw[104]["price"]))
    assert sale.variants[0].price.currency == "GBP"
    # variant with its own price
    v = sale.variants[1]
    assert v.compare_at_price is not None
    assert first.variants[1].price.amount == Decimal(str(raw[100]["price"] + 1))
    assert first.url == "https://sandbox-store.example/sandbox-product-1/"


def test_tracking_modes_and_visibility(sandbox, conn):
    sandbox.reset(17, 1, seed=2)
    products = {p.remote_id: p for page in catalog.stream_products(conn, None) for p in page.products}
    untracked = products["112"]  # the 13th product is not tracked
    assert untracked.variants[0].inventory_tracked is False and untracked.variants[0].quantity is None
    simple = products["100"]
    assert simple.options == [] and len(simple.variants) == 1
    assert simple.variants[0].quantity == sandbox.state.product_level(100)
    assert products["116"].published is False  # the 17th is hidden


def test_incremental_cursor_and_changes_during_a_stream(sandbox, conn):
    sandbox.reset(300, 1, seed=3)
    stream = catalog.stream_products(conn, None)
    first = next(stream)
    # a product already read is changed while the stream runs
    sandbox.state.products[100]["date_modified"] = iso(now())
    last = list(stream)[-1]
    again = {p.remote_id for page in catalog.stream_products(conn, last.cursor) for p in page.products}
    assert "100" in again
    assert len(again) < 50
    assert json.loads(first.cursor)["after"] == 349


def test_get_products_leaves_missing_out(sandbox, conn):
    got = catalog.read_products(conn, ["101", "999999", "nope", "103"])
    assert sorted(p.remote_id for p in got) == ["101", "103"]


def test_inventory_from_the_default_location(sandbox, conn):
    st = sandbox.state
    levels = {lv.variant_id: lv for lv in catalog.read_levels(conn, ["1000", "1001", "1003"])}
    assert set(levels) == {"1000", "1001", "1003"}
    for vid, lv in levels.items():
        assert lv.quantity == max(0, st.available(st.variant_index[int(vid)], 1))
        assert lv.product_id in ("100", "101")
    sandbox.set_quantity("SBX-7-00001-1", 42)
    assert next(iter(catalog.read_levels(conn, ["1000"]))).quantity == 42


def test_inventory_at_a_chosen_location_and_safety_stock(sandbox, make_conn):
    st = sandbox.state
    st.stock[(1000, 2)] = 9
    st.safety[(1000, 2)] = 2
    conn = make_conn({"location_id": 2})
    (level,) = catalog.read_levels(conn, ["1000"])
    assert level.quantity == 7


def test_inventory_of_every_variant(sandbox, conn):
    levels = list(catalog.read_levels(conn, None))
    assert len(levels) == 36
    untracked = [lv for lv in levels if not lv.tracked]
    assert {lv.product_id for lv in untracked} == set()  # 12 products: the 13th is untracked
    sandbox.reset(13, 2, seed=4)
    levels = list(catalog.read_levels(conn, None))
    assert [lv.tracked for lv in levels if lv.product_id == "112"] == [False, False]


def test_inventory_falls_back_to_the_catalog_without_the_inventory_scope(sandbox, conn):
    sandbox.fail_next(1, 403)  # GET /v3/inventory/locations refused: no locations scope
    levels = list(catalog.read_levels(conn, ["1004"]))
    assert [lv.quantity for lv in levels] == [sandbox.state.stock[(1004, 1)]]
    assert sandbox.stats.by_route.get("GET /v3/inventory/items", 0) == 0
    assert sandbox.stats.by_route["GET /v3/catalog/variants"] == 1


def test_inventory_lets_a_page_go_before_reading_the_next(sandbox, conn, monkeypatch):
    """Stock is read page by page: when the next catalog page is asked for, the JSON of the one
    before (megabytes at 250 products with their variants) is no longer held."""
    import gc
    import weakref

    from bridge_bigcommerce.client import BigCommerceClient

    class Page(list):  # a list that can be watched (a weak reference)
        pass

    sandbox.reset(600, 1, seed=2)  # three pages of 250
    pages: list[weakref.ref] = []
    alive: list[int] = []
    call = BigCommerceClient.call

    def watched(self, method, version, path, **kw):
        if path == "catalog/products":
            gc.collect()
            alive.append(sum(ref() is not None for ref in pages))
        body = call(self, method, version, path, **kw)
        if path == "catalog/products" and body and body.get("data"):
            body["data"] = Page(body["data"])
            pages.append(weakref.ref(body["data"]))
        return body

    monkeypatch.setattr(BigCommerceClient, "call", watched)
    assert len(list(catalog.read_levels(conn, None))) == 600
    assert alive == [0, 0, 0]

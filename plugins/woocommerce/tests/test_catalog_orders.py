"""Catalog, stock and orders against the sandbox over a real loopback socket."""

from __future__ import annotations

import json

import pytest

from bridge.errors import NeedsReconnect
from bridge_woocommerce import catalog, orders, store
from bridge_woocommerce.sandbox import WooSandbox


def test_products_carry_variations_units_and_stock(sandbox: WooSandbox, conn) -> None:
    pages = list(catalog.list_products(conn, None))
    products = [p for page in pages for p in page.products]
    variable = next(p for p in products if p.product_type == "variable")
    assert len(variable.variants) == 3 and variable.options == ["Colour", "Size"]
    v = variable.variants[0]
    raw = sandbox.site.variations[int(v.remote_id)]
    assert v.sku == raw["sku"] and v.options == {"Colour": "Black", "Size": "XS"}
    assert str(v.price.amount) == raw["price"] and v.price.currency == "GBP"
    assert v.quantity == raw["stock_quantity"] and v.inventory_tracked is raw["manage_stock"]
    parent = sandbox.site.products[int(variable.remote_id)]
    assert variable.weight_g == pytest.approx(float(parent["weight"]) * 1000)
    assert variable.categories == [parent["categories"][0]["name"]] and variable.images
    assert variable.updated_at is not None and variable.updated_at.tzinfo is not None


def test_stream_requests_100_per_page_and_is_incremental(sandbox: WooSandbox, conn) -> None:
    pages = list(catalog.list_products(conn, None))
    sandbox.stats.reset()
    again = [p.remote_id for page in catalog.list_products(conn, pages[-1].cursor) for p in page.products]
    assert len(again) <= 1  # only what changed in the last second seen
    sku = next(v["sku"] for v in sandbox.site.variations.values())
    sandbox.set_quantity(sku, 17)
    changed = [p for page in catalog.list_products(conn, pages[-1].cursor) for p in page.products]
    pid = str(sandbox.site.by_sku[sku][0])
    assert pid in [p.remote_id for p in changed]
    assert json.loads(pages[-1].cursor)["since"]
    listed = [k for k in sandbox.stats.by_route if k.startswith("GET /wc/v3/products")]
    assert listed


def test_read_inventory_for_simple_and_variable(sandbox: WooSandbox, conn) -> None:
    sandbox.seed_catalog(2, 1, seed=5)
    levels = list(catalog.read_inventory(conn, None))
    ids = {lv.variant_id for lv in levels}
    assert ids == {str(v) for v in sandbox.site.variations} | {
        str(p["id"]) for p in sandbox.site.products.values() if p["type"] == "simple"}
    some = [lv.variant_id for lv in levels[:5]]
    assert [lv.variant_id for lv in catalog.read_inventory(conn, some)] == some or \
        {lv.variant_id for lv in catalog.read_inventory(conn, some)} == set(some)
    sku, qty = next((v["sku"], v["stock_quantity"]) for v in sandbox.site.variations.values() if v["manage_stock"])
    level = next(lv for lv in levels if lv.sku == sku)
    assert level.quantity == qty and level.tracked


def test_create_order_reduces_stock_once_and_cancel_restocks(sandbox: WooSandbox, conn, make_draft,
                                                              new_connection) -> None:
    vid, v = next((k, v) for k, v in sandbox.site.variations.items() if v["manage_stock"])
    sandbox.set_quantity(v["sku"], 10)
    draft = make_draft("TT-1001", str(v["parent_id"]), str(vid), "GBP", quantity=2, price="9.99")
    created = orders.create_order(conn, draft)
    raw = sandbox.order(created.remote_id)
    assert raw["status"] == "processing" and raw["date_paid_gmt"] and raw["transaction_id"] == "TT-1001"
    assert {"key": "_tiktok_order_id", "value": "TT-1001"}.items() <= {
        m["key"]: m for m in raw["meta_data"]}["_tiktok_order_id"].items()
    assert raw["line_items"][0]["variation_id"] == vid and raw["line_items"][0]["total"] == "19.98"
    assert raw["shipping_lines"][0]["total"] == "2.50" and raw["total"] == "22.48"
    assert sandbox.quantity(v["sku"]) == 8
    fresh = new_connection(sandbox, str(conn.base_url))  # no state: found by its meta, not by a cache
    again = orders.create_order(fresh, draft)
    assert again.existed and again.remote_id == created.remote_id and sandbox.quantity(v["sku"]) == 8
    assert orders.find_order(fresh, "TT-NOPE") is None
    got = orders.get_orders(conn, [created.remote_id])[0]
    assert got.source_order_id == "TT-1001" and got.status == "processing"
    assert orders.cancel_order(conn, created.remote_id, "buyer asked") is True
    assert sandbox.quantity(v["sku"]) == 10
    assert orders.cancel_order(conn, created.remote_id, "buyer asked") is False
    assert "buyer asked" in sandbox.site.notes[int(created.remote_id)][0]["note"]
    listed = [o for page in orders.list_orders(conn, None) for o in page.orders]
    assert any(o.remote_id == created.remote_id and o.status == "cancelled" for o in listed)


def test_bad_keys_need_reconnecting(sandbox: WooSandbox, server, new_connection) -> None:
    c = new_connection(sandbox, server.url)
    c.credentials["consumer_secret"] = "cs_wrong"
    with pytest.raises(NeedsReconnect):
        store.connect(c)


def test_transient_failures_are_retried_by_the_http_layer(sandbox: WooSandbox, conn) -> None:
    sandbox.fail_next(1, 503)
    info = store.connect(conn)
    assert info.currency == "GBP" and not sandbox.faults


@pytest.mark.parametrize("options", [{"ssl": True}, {"permalinks": "plain"}])
def test_basic_over_tls_and_plain_permalinks_against_the_sandbox(options, new_connection) -> None:
    from bridge.sandboxing import SandboxServer

    sb = WooSandbox({"seed": 3, "variants": 2, **options})
    with SandboxServer(sb.app) as srv:
        auth = "basic" if options.get("ssl") else "auto"
        c = new_connection(sb, srv.url, auth=auth)
        info = store.connect(c)
        products = [p for page in catalog.list_products(c, None) for p in page.products]
        c.close()
    assert len(products) == 3 and info.details["woocommerce_version"]
    assert info.settings["permalinks"] == options.get("permalinks", "pretty")
    assert info.settings["auth"] == ("basic" if options.get("ssl") else "oauth1")

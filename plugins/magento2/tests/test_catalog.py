"""Reading the catalog from the sandbox: mapping, children, paging that stops, cursors."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx

from bridge.sandboxing import SandboxServer
from bridge_magento2 import connector
from bridge_magento2.sandbox import MagentoSandbox

PRODUCTS = "GET /rest/{store}/V1/products"


def test_configurable_products_map_children_options_and_media(sandbox: MagentoSandbox, conn: Any,
                                                              server: SandboxServer) -> None:
    [pid] = sandbox.seed_catalog(1, 8)
    [page] = list(connector.list_products(conn, None))
    [product] = page.products
    raw = sandbox.state.products[int(pid)]
    assert product.remote_id == pid and product.title == raw["name"]
    assert product.description_html.startswith("<p>")
    assert product.options == ["Size", "Color"]
    assert len(product.variants) == 8
    first = product.variants[0]
    assert first.options == {"Size": "XS", "Color": "Black"}
    assert product.variants[6].options == {"Size": "XS", "Color": "White"}
    assert first.sku.startswith(raw["sku"] + "-XS-Black")
    assert first.price.currency == "GBP" and first.price.amount > 0
    assert first.weight_g == Decimal("450.00")  # 0.45 kgs
    assert product.images[0].url == f"{server.url}/media/catalog/product/m/b/{raw['sku'].lower()}.png"
    image = httpx.get(product.images[0].url)  # the sandbox serves its own media (offline)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    assert product.status == "active" and product.published


def test_disabled_children_and_special_prices(sandbox: MagentoSandbox, conn: Any) -> None:
    [pid] = sandbox.seed_catalog(1, 3)
    [simple_id] = sandbox.seed_catalog(1, 1)
    st = sandbox.state
    child = st.products[st.products[int(pid)]["extension_attributes"]["configurable_product_links"][0]]
    child["status"] = 2
    simple = st.products[int(simple_id)]
    simple["price"] = 20
    simple["custom_attributes"].append({"attribute_code": "special_price", "value": "15.5"})
    products = {p.remote_id: p for page in connector.list_products(conn, None) for p in page.products}
    assert len(products[pid].variants) == 2
    assert child["sku"] not in {v.sku for v in products[pid].variants}
    [variant] = products[simple_id].variants
    assert variant.price.amount == Decimal("15.5") and variant.compare_at_price.amount == Decimal("20")
    held = {p.remote_id: {v.remote_id: (v.sku, v.price, v.compare_at_price) for v in p.variants}
            for p in sandbox.catalog()}  # the test kit's whole-catalog comparison reads this
    assert held == {pid: {v.remote_id: (v.sku, v.price, v.compare_at_price) for v in products[pid].variants},
                    simple_id: {variant.remote_id: (variant.sku, variant.price, variant.compare_at_price)}}


def test_paging_stops_at_the_last_page_and_resumes(sandbox: MagentoSandbox, make_conn: Any) -> None:
    ids = sandbox.seed_catalog(7, 2)
    conn = make_conn({"page_size": 3})
    sandbox.stats.reset()
    pages = list(connector.list_products(conn, None))
    assert [len(p.products) for p in pages] == [3, 3, 1]
    assert [p.remote_id for page in pages for p in page.products] == ids
    # 3 product pages + 3 children batches; never a 4th page (Magento would repeat page 3)
    assert sandbox.stats.by_route[PRODUCTS] == 6
    rest = [p.remote_id for page in connector.list_products(conn, pages[0].cursor) for p in page.products]
    assert rest == ids[3:]


def test_incremental_from_the_last_cursor(sandbox: MagentoSandbox, conn: Any) -> None:
    ids = sandbox.seed_catalog(5, 1)
    final = list(connector.list_products(conn, None))[-1].cursor
    again = [p.remote_id for page in connector.list_products(conn, final) for p in page.products]
    assert again == ids[-2:]  # seeded a minute apart: the newest and the one at the overlap edge
    [new] = sandbox.seed_catalog(1, 2, seed=5)
    after = [p.remote_id for page in connector.list_products(conn, final) for p in page.products]
    assert new in after and ids[0] not in after


def test_get_products_by_id_leaves_missing_out(sandbox: MagentoSandbox, conn: Any) -> None:
    ids = sandbox.seed_catalog(3, 2)
    got = connector.get_products(conn, [ids[2], "999999", ids[0]])
    assert sorted(p.remote_id for p in got) == sorted([ids[0], ids[2]])
    assert all(len(p.variants) == 2 for p in got)


def test_sandbox_failures_and_latency_reach_the_connector(sandbox: MagentoSandbox, conn: Any) -> None:
    import time

    import pytest

    from bridge.errors import Transient

    sandbox.seed_catalog(2, 1)
    connector.connect(conn)
    sandbox.fail_next(1, 500)  # a read is retried through one 500
    assert len([p for page in connector.list_products(conn, None) for p in page.products]) == 2
    sandbox.fail_next(4, 500)  # ... but not past the retry policy's four attempts
    with pytest.raises(Transient, match="Internal Error"):
        list(connector.list_products(conn, None))
    sandbox.set_latency(150)
    started = time.perf_counter()
    assert len([p for page in connector.list_products(conn, None) for p in page.products]) == 2
    assert time.perf_counter() - started >= 0.15

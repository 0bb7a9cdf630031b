"""Catalog and inventory against the sandbox: pages, resume, increments, bulk, locations."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from bridge.errors import Misconfigured, RateLimited
from bridge_shopify import catalog


def _ids(pages) -> list[str]:
    return [p.remote_id for page in pages for p in page.products]


def test_pages_resume_and_increment(served, conn) -> None:
    pages = list(catalog.list_products(conn, None))
    assert [len(p.products) for p in pages] == [12, 12, 6]
    ids = _ids(pages)
    assert len(set(ids)) == 30 == len(ids)
    rest = _ids(catalog.list_products(conn, pages[0].cursor))
    assert rest == ids[12:]
    final = pages[-1].cursor
    before = _ids(catalog.list_products(conn, final))
    assert len(before) < 3
    served.sandbox.update_product(ids[3], title="Renamed shirt")
    after = list(catalog.list_products(conn, final))
    renamed = [p for page in after for p in page.products if p.remote_id == ids[3]]
    assert renamed and renamed[0].title == "Renamed shirt"
    assert ids[5] not in _ids(after)


def test_product_fields_are_mapped(served, conn) -> None:
    product = next(iter(catalog.list_products(conn, None))).products[0]
    record = served.sandbox.state.products[product.remote_id]
    assert product.title == record["title"] and product.vendor == record["vendor"]
    assert product.options == ["Size"] and len(product.variants) == 3
    assert len(product.categories) == 3  # two collections and the taxonomy category
    assert product.images and product.images[0].url.startswith(served.url + "/s/files/")
    image = httpx.get(product.images[0].url)  # the sandbox serves its own images (offline)
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    variant = product.variants[0]
    item = served.sandbox.state.items[served.sandbox.state.variants[variant.remote_id]["item"]]
    assert variant.price.currency == "GBP" and variant.price.amount == Decimal(
        served.sandbox.state.variants[variant.remote_id]["price"])
    grams = {"GRAMS": 1, "KILOGRAMS": 1000, "OUNCES": 28.349523125, "POUNDS": 453.59237}
    expected = Decimal(str(item["weight"]["value"])) * Decimal(str(grams[item["weight"]["unit"]]))
    assert abs(variant.weight_g - expected) < Decimal("0.01")
    assert variant.options == {"Size": "S"}


def test_products_with_many_variants_are_read_whole(served_factory) -> None:
    s = served_factory(seed=3, variants=14)
    c = s.connection()
    products = [p for page in catalog.list_products(c, None) for p in page.products]
    assert [len(p.variants) for p in products] == [14, 14, 14]
    assert len({v.sku for p in products for v in p.variants}) == 42
    assert s.sandbox.stats.by_route["POST /admin/api/{version}/graphql.json"] >= 5
    # the rest of each product is asked for by its variantsCount (9 more), not a page of 100:
    # a 100-variant page alone would cost 603 points
    assert s.sandbox.stats.requested_cost < 1000


def test_bulk_export_matches_the_paged_read(served_factory) -> None:
    s = served_factory(seed=25, variants=2)
    paged = {p.remote_id: p for page in catalog.list_products(s.connection(), None)
             for p in page.products}
    s.sandbox.stats.reset()
    bulk_pages = list(catalog.list_products(s.connection(bulk_threshold=10), None))
    bulk = {p.remote_id: p for page in bulk_pages for p in page.products}
    assert bulk.keys() == paged.keys()
    for pid, product in paged.items():
        assert bulk[pid].model_dump(exclude={"categories"}) == product.model_dump(exclude={"categories"})
        assert sorted(bulk[pid].categories) == sorted(product.categories)
    assert s.sandbox.stats.by_route.get("GET /bulk/{id}.jsonl") == 1
    # the bulk run's cursor is incremental from the operation's start
    s.sandbox.update_product(next(iter(paged)), title="Changed after export")
    assert _ids(catalog.list_products(s.connection(bulk_threshold=10), bulk_pages[-1].cursor)) == [
        next(iter(paged))]


def test_bulk_export_still_running_hands_the_wait_to_the_scheduler(served_factory) -> None:
    s = served_factory(seed=12, variants=1, bulk_running_polls=1)
    c = s.connection(bulk_threshold=5)
    with pytest.raises(RateLimited) as err:
        list(catalog.list_products(c, None))
    assert err.value.retry_after > 0
    assert c.state.get("bulk_operation")
    products = _ids(catalog.list_products(c, None))
    assert len(products) == 12 and not c.state.get("bulk_operation")
    runs = s.sandbox.stats.snapshot()["writes"]
    assert runs == 1, "the second call must reuse the running operation, not start another"


def test_get_products_leaves_out_missing(served, conn) -> None:
    pid = next(iter(served.sandbox.state.products))
    found = catalog.get_products(conn, [pid, "gid://shopify/Product/999999999"])
    assert [p.remote_id for p in found] == [pid]


def test_inventory_sums_active_locations(served, conn) -> None:
    state = served.sandbox.state
    vids = list(state.variants)[:5]
    levels = {lv.variant_id: lv for lv in catalog.read_inventory(conn, vids)}
    assert set(levels) == set(vids)
    for vid in vids:
        item = state.items[state.variants[vid]["item"]]
        active = [loc["id"] for loc in state.active_locations()]
        assert levels[vid].quantity == sum(item["levels"][loc] for loc in active)
        assert levels[vid].product_id == state.variants[vid]["product"]
    served.sandbox.set_quantity(state.variants[vids[0]]["sku"], 17)
    assert next(iter(catalog.read_inventory(conn, vids[:1]))).quantity == 17


def test_inventory_at_chosen_locations_and_by_inventory_item(served) -> None:
    state = served.sandbox.state
    vid = list(state.variants)[7]
    item = state.items[state.variants[vid]["item"]]
    warehouse = state.active_locations()[0]
    c = served.connection(locations="Warehouse")
    levels = list(catalog.read_inventory(c, [item["id"]]))
    assert [(lv.variant_id, lv.quantity) for lv in levels] == [(vid, item["levels"][warehouse["id"]])]
    with pytest.raises(Misconfigured):
        list(catalog.read_inventory(served.connection(locations="Old depot"), [vid]))


def test_inventory_of_every_variant(served, conn) -> None:
    levels = list(catalog.read_inventory(conn, None))
    assert {lv.variant_id for lv in levels} == set(served.sandbox.state.variants)

"""Catalog and inventory against the sandbox: pages, resume, increments, bulk, locations."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import httpx
import pytest

from bridge.errors import Misconfigured
from bridge_shopify import catalog, queries
from bridge_shopify.client import ShopifyClient


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


def _num(pid: str) -> int:
    return int(pid.rsplit("/", 1)[-1])


def _bulk_gets(s) -> int:
    return s.sandbox.stats.by_route.get("GET /bulk/{id}.jsonl", 0)


def test_bulk_export_matches_the_paged_read(served_factory) -> None:
    s = served_factory(seed=25, variants=2)
    paged = {p.remote_id: p for page in catalog.list_products(s.connection(), None)
             for p in page.products}
    s.sandbox.stats.reset()
    reading = catalog.list_products(s.connection(bulk_threshold=10), None)
    bulk_pages = [next(reading)]  # read while the export is built
    s.sandbox.bulk.release(wait=10)
    bulk_pages += list(reading)
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


def test_bulk_run_answers_at_once_and_builds_in_the_background(served_factory) -> None:
    s = served_factory(seed=5, variants=1, bulk_delay=60)
    client = ShopifyClient(s.connection())
    run = client.execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    op = run["bulkOperationRunQuery"]["bulkOperation"]
    assert op["status"] == "CREATED"
    again = client.execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    assert [e["code"] for e in again["bulkOperationRunQuery"]["userErrors"]] == ["OPERATION_IN_PROGRESS"]
    s.sandbox.bulk.release(wait=10)
    status = client.execute("BulkStatus", queries.BULK_STATUS, {"id": op["id"]})["node"]
    assert status["status"] == "COMPLETED" and status["url"] and status["rootObjectCount"] == "5"
    cancel = client.execute("BulkCancel", queries.BULK_CANCEL, {"id": op["id"]})["bulkOperationCancel"]
    assert cancel["userErrors"]  # a completed export cannot be cancelled
    second = client.execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    op2 = second["bulkOperationRunQuery"]["bulkOperation"]
    cancel = client.execute("BulkCancel", queries.BULK_CANCEL, {"id": op2["id"]})["bulkOperationCancel"]
    assert not cancel["userErrors"] and cancel["bulkOperation"]["status"] == "CANCELING"
    s.sandbox.bulk.release(wait=10)
    assert client.execute("BulkStatus", queries.BULK_STATUS, {"id": op2["id"]})["node"]["status"] == "CANCELED"


@pytest.mark.parametrize("shuffle", [False, True], ids=["id-order", "any-order"])
def test_full_read_lists_pages_while_the_export_is_built(served_factory, shuffle) -> None:
    s = served_factory(seed=60, variants=2, bulk_delay=60, bulk_shuffle=shuffle)
    c = s.connection(bulk_threshold=10)
    everything = sorted(s.sandbox.state.products, key=_num)
    reading = catalog.list_products(c, None)
    first, second = next(reading), next(reading)
    # the export is still being built: the first pages come from the paged read, in id order
    assert s.sandbox.bulk.current()["status"] == "CREATED"
    assert _ids([first, second]) == everything[:24] and _bulk_gets(s) == 0
    s.sandbox.bulk.release(wait=10)
    rest = list(reading)
    # the rest from the export (whatever its order), past the highest id the pages gave
    assert _bulk_gets(s) == 1
    ids = _ids([first, second, *rest])
    assert len(ids) == len(set(ids)) == 60 and set(ids) == set(everything)
    assert set(_ids(rest)) == set(everything[24:])
    assert not c.state.get("bulk_operation")
    assert catalog.decode_cursor(rest[-1].cursor) == {"w": s.sandbox.bulk.current()["createdAt"]}


def test_an_export_ready_while_the_budget_holds_a_page_back_is_read_at_once(
        served_factory, monkeypatch) -> None:
    monkeypatch.setattr(catalog, "BULK_WATCH_SECONDS", 0.2)
    # a page costs about 590 points requested: after the first, the next waits about 20 s
    s = served_factory(seed=40, variants=1, bulk_delay=60, bucket_size=700, restore_rate=20)
    c = s.connection(bulk_threshold=10)
    everything = sorted(s.sandbox.state.products, key=_num)
    reading = catalog.list_products(c, None)
    first = next(reading)
    assert _ids([first]) == everything[:12]
    threading.Timer(0.3, s.sandbox.bulk.release).start()
    started = time.monotonic()
    rest = list(reading)
    assert time.monotonic() - started < 5, "the export is read once ready, not after the page's wait"
    assert sorted(_ids(rest), key=_num) == everything[12:] and _bulk_gets(s) == 1
    assert s.sandbox.stats.snapshot()["throttled"] == 0


def test_pages_read_while_the_export_is_built_leave_half_the_budget(served_factory, monkeypatch) -> None:
    monkeypatch.setattr(catalog, "BULK_WATCH_SECONDS", 0.2)
    # a page of 12 products of 4 variants costs about 470 points: without the rule the third
    # page would leave the bucket near 570
    s = served_factory(seed=60, variants=4, bulk_delay=60, bucket_size=2000, restore_rate=200)
    c = s.connection(bulk_threshold=10)
    bucket = ShopifyClient(c).bucket  # the store's one bucket, as the server last reported it
    reading = catalog.list_products(c, None)
    for _ in range(4):
        next(reading)
        assert bucket.available >= bucket.maximum * catalog.BULK_PAGES_KEEP, bucket.available
    reading.close()
    assert s.sandbox.stats.snapshot()["throttled"] == 0


def test_full_read_resumes_from_each_kind_of_cursor(served_factory, monkeypatch) -> None:
    monkeypatch.setattr(catalog, "BULK_PAGE", 10)
    s = served_factory(seed=60, variants=1, bulk_delay=60, bulk_shuffle=True)
    c = s.connection(bulk_threshold=10)
    everything = sorted(s.sandbox.state.products, key=_num)
    reading = catalog.list_products(c, None)
    next(reading)
    second = next(reading)
    reading.close()  # the process stops; the export is still being built
    # a page cursor while the export is built: the pages go on from there, same export
    resumed = catalog.list_products(c, second.cursor)
    third = next(resumed)
    resumed.close()
    assert _ids([third]) == everything[24:36]
    assert s.sandbox.stats.snapshot()["writes"] == 1, "the export of the pass goes on"
    # a page cursor once the export is built: the export, past the highest id read
    s.sandbox.bulk.release(wait=10)
    assert sorted(_ids(catalog.list_products(c, third.cursor)), key=_num) == everything[36:]
    # a position in the export's file (in any order): what the file's first pages did not give
    from_file = list(catalog.list_products(c, second.cursor))
    assert [len(p.products) for p in from_file] == [10, 10, 10, 6]
    mid = from_file[1].cursor
    assert "s" in catalog.decode_cursor(mid)
    after_mid = _ids(catalog.list_products(c, mid))
    assert sorted(_ids(from_file[:2]) + after_mid, key=_num) == everything[24:]
    assert s.sandbox.stats.snapshot()["writes"] == 1
    # the export is gone (expired, failed): a page cursor goes on with its pages beside a new
    # export; a position in the file reads again from the start
    s.sandbox.bulk.clear()
    assert sorted(_ids(catalog.list_products(c, third.cursor)), key=_num) == everything[36:]
    s.sandbox.bulk.clear()
    again = _ids(catalog.list_products(c, mid))
    assert sorted(again, key=_num) == everything


def test_a_running_export_does_not_hold_the_read_and_is_reused(served_factory) -> None:
    s = served_factory(seed=30, variants=1, bulk_running_polls=1)
    c = s.connection(bulk_threshold=5)
    reading = catalog.list_products(c, None)
    first = next(reading)  # no RateLimited: the first page while Shopify builds the export
    assert len(first.products) == 12 and c.state.get("bulk_operation")
    reading.close()  # the process stops before it kept the page's cursor
    s.sandbox.bulk.release(wait=10)
    products = _ids(catalog.list_products(c, None))
    assert len(products) == len(set(products)) == 30 and not c.state.get("bulk_operation")
    runs = s.sandbox.stats.snapshot()["writes"]
    assert runs == 1, "the second call must reuse the running operation, not start another"
    assert _bulk_gets(s) == 1


def test_products_created_during_the_export_are_read(served_factory) -> None:
    s = served_factory(seed=40, variants=1, bulk_delay=60)
    c = s.connection(bulk_threshold=10)
    reading = catalog.list_products(c, None)
    first = next(reading)
    early = s.sandbox.seed_catalog(1)[0]  # created before the export is built: in its file
    s.sandbox.bulk.release(wait=10)
    late = s.sandbox.seed_catalog(1)[0]  # created once it is built: not in it
    s.sandbox.update_product(late, title="New arrival")  # (seeding back-dates; now, as created)
    rest = list(reading)
    ids = _ids([first, *rest])
    assert early in ids and len(ids) == len(set(ids)) == 41
    assert late in _ids(catalog.list_products(c, rest[-1].cursor)), "the next run reads it"


def test_pages_reaching_the_end_first_cancel_the_export(served_factory) -> None:
    s = served_factory(seed=20, variants=1, bulk_delay=60)
    c = s.connection(bulk_threshold=10)
    pages = list(catalog.list_products(c, None))
    ids = _ids(pages)
    assert len(ids) == len(set(ids)) == 20 and _bulk_gets(s) == 0
    op = s.sandbox.bulk.current()
    deadline = time.monotonic() + 10  # a cancel takes effect after a short delay (CANCELING)
    while op["status"] == "CANCELING" and time.monotonic() < deadline:
        time.sleep(0.05)
        op = s.sandbox.bulk.current()
    assert op["status"] == "CANCELED" and not c.state.get("bulk_operation")
    assert catalog.decode_cursor(pages[-1].cursor) == {"w": op["createdAt"]}
    # the next full read starts its own export at once: the cancelled one holds no slot
    next(catalog.list_products(c, None))
    assert s.sandbox.bulk.current()["id"] != op["id"]
    assert s.sandbox.bulk.current()["status"] == "CREATED"


def test_full_read_goes_on_while_another_bulk_query_holds_the_slot(served_factory, monkeypatch) -> None:
    monkeypatch.setattr(catalog, "BULK_POLL_SECONDS", 0.0)
    s = served_factory(seed=40, variants=1, bulk_delay=60)
    c = s.connection(bulk_threshold=10)
    client = ShopifyClient(c)
    client.execute("BulkRun", queries.BULK_RUN, {"query": "{ locations { edges { node { id } } } }"})
    reading = catalog.list_products(c, None)
    first = next(reading)  # pages while the other bulk query runs
    assert len(first.products) == 12 and not c.state.get("bulk_operation")
    s.sandbox.bulk.release(wait=10)  # it ends: the export starts after the next page
    second = next(reading)
    assert c.state.get("bulk_operation") and s.sandbox.bulk.current()["status"] == "CREATED"
    s.sandbox.bulk.release(wait=10)
    rest = list(reading)
    ids = _ids([first, second, *rest])
    assert len(ids) == len(set(ids)) == 40 and _bulk_gets(s) == 1


def test_full_read_takes_over_its_own_export_whose_start_answer_was_lost(served_factory) -> None:
    s = served_factory(seed=30, variants=1, bulk_delay=60)
    c = s.connection(bulk_threshold=10)
    lost = ShopifyClient(c).execute("BulkRun", queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
    reading = catalog.list_products(c, None)
    first = next(reading)
    assert c.state.get("bulk_operation") == lost["bulkOperationRunQuery"]["bulkOperation"]["id"]
    s.sandbox.bulk.release(wait=10)
    ids = _ids([first, *reading])
    assert len(ids) == len(set(ids)) == 30 and _bulk_gets(s) == 1


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

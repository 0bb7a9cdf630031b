"""The products flow on the fake pair: create, no-op, update, deactivate, reject, hold, plan."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from bridge import db
from bridge.tables import CategoryRule, ListingLink, ProductMapping, SkuLink
from tests.flows.conftest import Flows


def _links(flows: Flows) -> dict[str, ListingLink]:
    with db.session() as s:
        return {ln.source_product_id: ln for ln in s.exec(select(ListingLink).where(
            ListingLink.channel_store_id == flows.channel_store.id))}


def test_initial_sync_lists_every_mapped_product_once(flows: Flows) -> None:
    r = flows.run("products")
    assert r.status == "ok", r.errors
    assert r.counts["created"] == 6
    listed = flows.listed()
    assert set(listed) == {f"SKU-{i}-1" for i in range(1, 7)}
    shirt = listed["SKU-1-1"]
    assert shirt["category_id"] == "101"
    # two-variant products carry both SKUs, with the store's price and quantity
    mug = listed["SKU-2-1"]
    assert [s["seller_sku"] for s in mug["skus"]] == ["SKU-2-1", "SKU-2-2"]
    assert mug["skus"][0]["price"] == "11.50"
    assert mug["skus"][1]["quantity"] == flows.shop.quantity("SKU-2-2")
    links = _links(flows)
    assert {ln.status for ln in links.values()} == {"live"}
    with db.session() as s:
        assert len(list(s.exec(select(SkuLink)))) == 9


def test_no_op_resync_makes_no_write_call(flows: Flows) -> None:
    flows.run_all()
    flows.reset_stats()
    results = flows.run_all()
    assert flows.writes() == 0
    assert results["products"].counts.get("created", 0) == 0
    assert results["inventory"].counts.get("updated", 0) == 0


def test_full_pass_after_rule_change_is_still_a_no_op_for_unchanged_products(flows: Flows) -> None:
    flows.run("products")
    with db.session() as s:  # a new rule forces a full pass; it matches no product
        s.add(CategoryRule(channel_store_id=flows.channel_store.id, facet="tag", value="none",
                           category_id="200"))
    flows.reset_stats()
    r = flows.run("products")
    assert r.counts["unchanged"] == 6
    assert flows.writes() == 0


def test_changed_product_is_updated_and_only_it(flows: Flows) -> None:
    flows.run("products")
    flows.reset_stats()
    with flows.shop.lock:
        p = flows.shop.products_["p3"]
        p["title"] = "Fake product 3, now in blue"
        p["seq"] = flows.shop._touch()
    r = flows.run("products")
    assert r.counts["updated"] == 1
    assert flows.channel.stats.snapshot()["writes"] == 1
    assert flows.listed()["SKU-3-1"]["title"] == "Fake product 3, now in blue"


def test_price_rules_apply_and_a_rule_change_updates_every_listing(flows: Flows) -> None:
    flows.run("products")
    flows.set_options({"pricing": {"markup_percent": 10, "rounding": ".99"}})
    r = flows.run("products")
    assert r.counts["updated"] == 6
    # 10.50 * 1.1 = 11.55 -> 11.99
    assert flows.sku("SKU-1-1")["price"] == "11.99"


def test_unpublished_product_is_deactivated_and_comes_back(flows: Flows) -> None:
    flows.run("products")
    with flows.shop.lock:
        p = flows.shop.products_["p2"]
        p["status"] = "draft"
        p["seq"] = flows.shop._touch()
    r = flows.run("products")
    assert r.counts["deactivated"] == 1
    assert flows.listed()["SKU-2-1"]["status"] == "deactivated"
    assert _links(flows)["p2"].status == "deactivated"
    with flows.shop.lock:
        p["status"] = "active"
        p["seq"] = flows.shop._touch()
    r = flows.run("products")
    assert r.counts["updated"] == 1
    assert flows.listed()["SKU-2-1"]["status"] == "live"


def test_deleted_product_is_deactivated_after_a_full_pass(flows: Flows) -> None:
    flows.run("products")
    with flows.shop.lock:
        del flows.shop.products_["p4"]
    flows.set_options({"pricing": {"markup_fixed": "1"}})  # forces a full pass
    r = flows.run("products")
    assert r.counts["deactivated"] == 1
    assert _links(flows)["p4"].reasons == ["deleted in the eCommerce store"]


def test_rejected_product_does_not_stop_the_others(flows: Flows) -> None:
    with flows.shop.lock:
        flows.shop.products_["p3"]["title"] = "REJECT this one"
    r = flows.run("products")
    assert r.status == "partial"
    assert r.counts["created"] == 5
    assert [item for item, _ in r.errors] == ["p3"]
    link = _links(flows)["p3"]
    assert link.status == "failed"
    assert "title violates the listing policy" in link.reasons[0]
    assert "12019000" in link.reasons[0]
    # refused as it is: not sent again until the product changes
    flows.reset_stats()
    flows.set_options({"pricing": {"markup_fixed": "0"}})  # a full pass
    r = flows.run("products")
    assert flows.writes() == 0
    with flows.shop.lock:
        flows.shop.products_["p3"]["title"] = "A fine product"
        flows.shop.products_["p3"]["seq"] = flows.shop._touch()
    assert flows.run("products").counts["created"] == 1


def test_unmapped_and_incomplete_products_are_held_with_what_is_missing(flows: Flows) -> None:
    with db.session() as s:
        for row in s.exec(select(CategoryRule)):
            if row.category_id == "101":
                row.attributes = {}
                s.add(row)
            else:
                s.delete(row)
    r = flows.run("products")
    assert r.counts.get("created", 0) == 0
    links = _links(flows)
    assert links["p1"].status == "held"
    assert "attribute Material (required)" in links["p1"].reasons[0]
    assert links["p2"].status == "unmapped"
    assert "no rule matches" in links["p2"].reasons[0]
    assert flows.channel.products("shop-1") == []
    # a per-product choice fixes one product
    with db.session() as s:
        s.add(ProductMapping(channel_store_id=flows.channel_store.id, source_product_id="p1",
                             category_id="101", attributes={"a1": ["v2"]}))
    r = flows.run("products")
    assert r.counts["created"] == 1
    assert _links(flows)["p1"].status == "live"


def test_existing_tiktok_product_with_the_same_sku_is_linked_not_listed_again(flows: Flows) -> None:
    with flows.channel.lock:
        flows.channel.products_["TP900"] = {
            "id": "TP900", "status": "live", "title": "Made by hand", "description": "",
            "category_id": "200", "skus": [{"id": "S900", "seller_sku": "SKU-2-1", "price": "1.00", "quantity": 1},
                                           {"id": "S901", "seller_sku": "SKU-2-2", "price": "1.00", "quantity": 1}]}
    r = flows.run("products")
    assert r.counts["linked"] == 1
    assert r.counts["created"] == 5
    assert len([p for p in flows.channel.products("shop-1") if "SKU-2-1" in str(p["skus"])]) == 1
    assert _links(flows)["p2"].remote_product_id == "TP900"
    # the store is the source of truth: the linked product now has the store's price
    assert flows.sku("SKU-2-1")["price"] == "11.50"
    assert flows.sku("SKU-2-1")["id"] == "S900"


def test_daily_limit_leaves_the_rest_waiting_for_the_next_day(flows: Flows) -> None:
    flows.set_options({"products": {"daily_limit": 4}})
    r = flows.run("products")
    assert r.counts["created"] == 4
    assert r.counts["waiting"] == 2
    waiting = [ln for ln in _links(flows).values() if ln.status == "waiting"]
    assert len(waiting) == 2
    assert "daily limit of 4" in waiting[0].reasons[0]
    flows.set_options({"products": {"daily_limit": 10}})
    r = flows.run("products")
    assert r.counts["created"] == 2


def test_plan_makes_no_write_and_shows_prices_quantities_and_rules(flows: Flows) -> None:
    flows.set_options({"pricing": {"markup_percent": 20}, "inventory": {"buffer_units": 2}})
    flows.reset_stats()
    r = flows.run("products", dry_run=True)
    assert flows.writes() == 0
    assert _links(flows) == {}
    creates = [e for e in r.plan if e["action"] == "create"]
    assert len(creates) == 6
    first = next(e for e in creates if e["item"] == "p1")
    assert first["rule"] == "rule product_type=Shirts"
    assert first["skus"][0]["price"] == "12.60"
    assert first["skus"][0]["price_rule"] == "price +20%"
    assert first["skus"][0]["quantity"] == flows.shop.quantity("SKU-1-1") - 2
    assert "buffer 2" in first["skus"][0]["quantity_rule"]
    # then the sync does what the plan said
    r2 = flows.run("products")
    assert r2.counts["created"] == 6


def test_a_full_pass_stopped_half_way_resumes_where_it_got_to(flows: Flows, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The initial pass keeps its progress: stopped after its first page, the next run goes on
    from the second page instead of reading the catalog from the beginning."""
    import json

    from bridge.sync.base import FlowContext
    from bridge.tables import SyncCursor

    flows.shop.seed_catalog(15, 1, seed=4)  # 21 products: three pages of the fake's ten
    with monkeypatch.context() as m:
        m.setattr(FlowContext, "stopping", lambda self: True)  # the daemon is shutting down
        first = flows.run("products")
    with db.session() as s:
        saved = json.loads(s.exec(select(SyncCursor).where(SyncCursor.flow.startswith("products:"))).one().value)
    assert saved.get("pass"), saved  # where the pass got to
    flows.shop.listed_rows = 0
    second = flows.run("products")
    assert flows.shop.listed_rows == 11  # pages 2 and 3 only: the first is not listed again
    assert first.counts["created"] + second.counts["created"] == 21
    assert len(flows.channel.products("shop-1")) == 21


def _split(flows: Flows) -> tuple[Any, list[dict[str, Any]]]:
    from bridge.sync.base import flow_pages

    split = flow_pages("products", flows.org_id, flows.channel_store.id)
    assert split is not None, "an initial sync is a full pass: it splits"
    return split, list(split.pages)


def test_a_split_pass_reads_the_catalog_once_and_its_finishing_run_only_finishes(flows: Flows) -> None:
    from bridge.sync.base import Finishing, flow_pages
    from bridge.sync.links import SeenSet

    split, pages = _split(flows)
    assert sum(len(p["items"]) for p in pages) == 6
    flows.reset_stats()
    seen = SeenSet()
    try:
        for page in pages:
            seen.add_many(page["items"])
            assert flows.run("products", page=page).counts["created"] == len(page["items"])
        done = flows.run("products", finishing=Finishing(end=split.end(), seen=seen))
    finally:
        seen.close()
    assert done.status == "ok" and not done.counts.get("created")
    assert flows.shop.stats.snapshot()["total"] == 0, "the store was read again after the split's read"
    assert len(flows.listed()) == 6
    # the finishing run kept the cursor: the next run is incremental, not another full pass
    assert flow_pages("products", flows.org_id, flows.channel_store.id) is None
    assert flows.run("products").counts.get("created", 0) == 0


def test_the_finishing_run_does_the_products_of_a_page_that_gave_up(flows: Flows) -> None:
    from bridge.sync.base import Finishing
    from bridge.sync.links import SeenSet

    split, pages = _split(flows)
    given_up = [i for p in pages for i in p["items"]]  # no page task completed
    seen = SeenSet()
    try:
        done = flows.run("products", finishing=Finishing(end=split.end(), seen=seen, failed=given_up))
    finally:
        seen.close()
    assert done.counts["created"] == 6
    assert {ln.status for ln in _links(flows).values()} == {"live"}


def _pass_cursor() -> str | None:
    from bridge.tables import SyncCursor

    with db.session() as s:
        row = s.exec(select(SyncCursor).where(SyncCursor.flow.startswith("products:"))).first()
        return row.value if row is not None else None


def test_a_checkpoint_does_not_stop_the_pass_until_the_pages_in_flight_are_written(  # type: ignore[no-untyped-def]
        flows: Flows, monkeypatch) -> None:
    """A full pass keeps its progress without waiting there: the next page is read while the
    creates of the one before are still in flight (waiting left the workers idle while it was
    read, at every checkpoint), and the cursor is kept only once those creates are written."""
    import threading
    import time

    from bridge.sync.products import apply, run

    flows.shop.seed_catalog(15, 1, seed=4)  # 21 products: three pages of the fake's ten
    monkeypatch.setattr(run, "PASS_CHECKPOINT_S", 0.0)  # a checkpoint after every page
    original = apply.ProductsApplier._create
    first = threading.Lock()
    seen: dict[str, object] = {}

    def create(self, a, link):  # type: ignore[no-untyped-def]
        if first.acquire(blocking=False):  # a create of the first page: held until page 2 is read
            deadline = time.monotonic() + 5
            while flows.shop.listed_rows < 20 and time.monotonic() < deadline:
                time.sleep(0.01)
            seen["rows"], seen["cursor"] = flows.shop.listed_rows, _pass_cursor()
        original(self, a, link)

    monkeypatch.setattr(apply.ProductsApplier, "_create", create)
    r = flows.run("products")
    assert seen["rows"] >= 20, "page 2 was read only once page 1's creates were written"
    assert seen["cursor"] is None  # page 1 not written yet: no cursor past it
    assert r.counts["created"] == 21
    assert _pass_cursor() is not None


def test_a_page_that_fails_keeps_the_cursor_before_it(flows: Flows, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The cursor never moves past a page whose write failed, though the pass read on."""
    import threading

    import pytest

    from bridge.errors import NeedsReconnect
    from bridge.sync.products import apply, run

    flows.shop.seed_catalog(15, 1, seed=4)
    monkeypatch.setattr(run, "PASS_CHECKPOINT_S", 0.0)
    original = apply.ProductsApplier._create
    first = threading.Lock()

    def create(self, a, link):  # type: ignore[no-untyped-def]
        if first.acquire(blocking=False):
            raise NeedsReconnect("TikTok says no")
        original(self, a, link)

    with monkeypatch.context() as m:
        m.setattr(apply.ProductsApplier, "_create", create)
        with pytest.raises(NeedsReconnect):
            flows.run("products")
    assert _pass_cursor() is None
    flows.shop.listed_rows = 0
    flows.run("products")
    assert flows.shop.listed_rows == 21  # from the beginning
    assert len(flows.channel.products("shop-1")) == 21


def test_a_page_of_products_is_let_go_before_the_next_page_is_read(flows: Flows, monkeypatch) -> None:
    """The flow streams: when the next page of the catalog is read, no product of the page
    before is still held (by the flow or its writers), so memory does not follow the pages."""
    import gc
    import weakref

    from bridge.facade import StoreReader

    flows.shop.seed_catalog(24, 2, seed=5)  # 30 products: three pages of the fake's ten
    listed = StoreReader.list_products
    alive: list[int] = []

    def watched(self: StoreReader, cursor: str | None) -> Any:
        previous: list[weakref.ref[Any]] = []
        for page in listed(self, cursor):
            previous = [weakref.ref(p) for p in page.products]
            yield page
            del page
            gc.collect()  # the flow asks for the next page: what of this one is still held?
            alive.append(sum(ref() is not None for ref in previous))

    monkeypatch.setattr(StoreReader, "list_products", watched)
    r = flows.run("products")
    assert r.counts["created"] == 30, r.errors
    assert len(alive) >= 2 and alive == [0] * len(alive)

"""Light calls on listed products, through the plugin against the sandbox: prices/update,
partial_edit, full edit from Get Product, activate, listing_check, the shop scan, and the
sandbox behaving as the reference says (review, deactivated products, promotions, freezes)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge.errors import Rejected
from bridge.models import ListingCertification, ListingSku, Money, PriceUpdate
from bridge_tiktokshop import connector
from plugins.tiktokshop.tests.test_catalog import listing

PRICES = "POST /product/202309/products/{product_id}/prices/update"
PARTIAL = "POST /product/202309/products/{product_id}/partial_edit"
FULL = "PUT /product/202309/products/{product_id}"
GET = "GET /product/202309/products/{product_id}"


@pytest.fixture()
def review_time(sandbox) -> Iterator[None]:
    """Reviews take a minute (the session sandbox approves at once)."""
    sandbox.audit_seconds, offset = 60, sandbox.world.clock_offset
    yield
    sandbox.audit_seconds, sandbox.world.clock_offset = 0, offset


def _later(sandbox, seconds: int = 61) -> None:
    sandbox.world.clock_offset += seconds


def _count(sandbox, route: str) -> int:
    return sandbox.stats.snapshot()["by_route"].get(route, 0)


def _made(conn, images, prefix: str, **kw):
    made = connector.create_listing(connection=conn, listing=listing(images, prefix, **kw))
    with_ids = listing(images, prefix, remote_product_id=made.remote_product_id, **kw)
    for s in with_ids.skus:
        s.remote_sku_id = made.sku_ids[s.seller_sku]
    return made, with_ids


def _raw(sandbox, pid: str) -> dict:
    return next(s.products[pid] for s in sandbox.world.shops.values() if pid in s.products)


def test_price_update_is_one_call_live_at_once_and_needs_activate(sandbox, conn, images) -> None:
    made, ls = _made(conn, images, "PR1")
    sandbox.product(made.remote_product_id)  # review passes
    reviews, before = sandbox.reviews, _count(sandbox, PRICES)
    updates = [PriceUpdate(product_id=made.remote_product_id, sku_id=s.remote_sku_id,
                           price=Money(amount="19.99", currency="GBP")) for s in ls.skus]
    results = connector.update_prices(connection=conn, updates=updates)
    assert [r.ok for r in results] == [True, True]
    assert _count(sandbox, PRICES) == before + 1  # one call for the product's two SKUs
    assert sandbox.reviews == reviews  # no review for a price
    assert {s["price"] for p in sandbox.products(sandbox.shops()[0]["id"])
            if p["id"] == made.remote_product_id for s in p["skus"]} == {"19.99"}
    connector.deactivate_listing(connection=conn, remote_product_id=made.remote_product_id)
    off = connector.update_prices(connection=conn, updates=updates[:1])
    assert not off[0].ok and off[0].code == "NOT_LIVE" and "SELLER_DEACTIVATED" in off[0].message


def test_promotion_locks_the_price(sandbox, conn, images) -> None:
    made, ls = _made(conn, images, "PR2")
    sandbox.product(made.remote_product_id)
    sandbox.lock_price(made.remote_product_id)
    upd = PriceUpdate(product_id=made.remote_product_id, sku_id=ls.skus[0].remote_sku_id,
                      price=Money(amount="9.99", currency="GBP"))
    res = connector.update_prices(connection=conn, updates=[upd])[0]
    assert not res.ok and res.code == "PRICE_LOCKED" and "promotion" in res.message
    sandbox.lock_price(made.remote_product_id, False)
    assert connector.update_prices(connection=conn, updates=[upd])[0].ok


def test_content_edit_of_a_live_product_goes_to_review_while_live_version_sells(
        sandbox, conn, images, review_time) -> None:
    made, ls = _made(conn, images, "RV1")
    assert sandbox.product(made.remote_product_id)["status"] == "PENDING"
    _later(sandbox)
    assert sandbox.product(made.remote_product_id)["status"] == "ACTIVATE"
    new = ls.model_copy(update={"title": "Organic cotton tee RV1, now longer"})
    connector.partial_edit_listing(connection=conn, listing=new, parts=["title"])
    live = sandbox.product(made.remote_product_id)
    assert live["status"] == "ACTIVATE" and live["audit"]["status"] == "AUDITING"
    assert live["title"] == "Organic cotton tee RV1"  # the live version stays on sale
    assert sandbox.product(made.remote_product_id, review_version=True)["title"].endswith("longer")
    _later(sandbox)
    assert sandbox.product(made.remote_product_id)["title"].endswith("longer")


def test_full_edit_does_not_reactivate_and_activate_goes_through_review(sandbox, conn, images, review_time) -> None:
    made, ls = _made(conn, images, "DA1")
    _later(sandbox)
    connector.deactivate_listing(connection=conn, remote_product_id=made.remote_product_id)
    connector.update_listing(connection=conn, listing=ls.model_copy(update={"title": "Organic cotton tee DA1 v2"}))
    _later(sandbox)
    assert sandbox.product(made.remote_product_id)["status"] == "SELLER_DEACTIVATED"
    got = connector.activate_listing(connection=conn, remote_product_id=made.remote_product_id)
    assert got.status == "pending"
    assert connector.listing_status(connection=conn, remote_product_ids=[made.remote_product_id])[0].status == "pending"
    _later(sandbox)
    status = connector.listing_status(connection=conn, remote_product_ids=[made.remote_product_id])[0]
    assert status.status == "live"
    assert sandbox.product(made.remote_product_id)["title"].endswith("v2")


def test_partial_edit_leaves_omitted_properties_and_replaces_sent_arrays(sandbox, conn, images) -> None:
    made, ls = _made(conn, images, "PE1")
    raw = _raw(sandbox, made.remote_product_id)
    raw["brand_id"] = "7082427311584347905"  # set by the seller in Seller Center
    raw["video"] = {"id": "v123"}
    connector.partial_edit_listing(connection=conn, listing=ls.model_copy(update={
        "title": "Organic cotton tee PE1 renamed", "description_html": "<p>ignored: not sent</p>"}),
        parts=["title"])
    got = sandbox.product(made.remote_product_id)
    assert got["title"].endswith("renamed") and got["brand"]["name"] == "Bridge Basics"
    assert got["video"] == {"id": "v123"} and "Soft." in got["description"]
    two = [images.url("front.png"), images.url("back.png")]
    from bridge.models import Image

    connector.partial_edit_listing(connection=conn, listing=ls.model_copy(update={
        "images": [Image(url=u, position=i) for i, u in enumerate(two)]}), parts=["images"])
    connector.partial_edit_listing(connection=conn, listing=ls.model_copy(update={
        "images": [Image(url=two[1])]}), parts=["images"])
    assert len(sandbox.product(made.remote_product_id)["main_images"]) == 1  # replaced, not merged


def test_full_edit_is_built_from_get_product(sandbox, conn, images) -> None:
    made, ls = _made(conn, images, "FE1")
    raw = _raw(sandbox, made.remote_product_id)
    raw["brand_id"] = "7082427311584347905"
    raw["skus"][0]["identifier_code"] = {"code": "00012345678905", "type": "GTIN"}
    gets, puts = _count(sandbox, GET), _count(sandbox, FULL)
    more = ls.model_copy(update={"skus": ls.skus + [ListingSku(
        source_variant_id="FE1-v9", seller_sku="FE1-9", price=Money(amount="14.00", currency="GBP"),
        quantity=2, sales_attributes={"Colour": "Black"})]})
    res = connector.update_listing(connection=conn, listing=more)
    assert set(res.sku_ids) == {"FE1-0", "FE1-1", "FE1-9"}
    assert (_count(sandbox, GET), _count(sandbox, FULL)) == (gets + 1, puts + 1)
    got = sandbox.product(made.remote_product_id)
    assert got["brand"]["id"] == "7082427311584347905"  # not blanked by the full edit
    assert got["skus"][0]["identifier_code"]["code"] == "00012345678905"
    fewer = ls.model_copy(update={"skus": ls.skus[:1]})
    connector.update_listing(connection=conn, listing=fewer)
    assert [s["seller_sku"] for s in sandbox.product(made.remote_product_id)["skus"]] == ["FE1-0"]


def test_frozen_and_deleted_products_are_reported_as_such(sandbox, conn, images) -> None:
    made, ls = _made(conn, images, "FR1")
    sandbox.set_product_status(made.remote_product_id, "FREEZE")
    with pytest.raises(Rejected) as err:
        connector.partial_edit_listing(connection=conn, listing=ls, parts=["title"])
    assert err.value.code == "FROZEN" and "froze" in err.value.message
    status = connector.listing_status(connection=conn, remote_product_ids=[made.remote_product_id])[0]
    assert status.status == "frozen" and "FREEZE" in status.reasons[0]
    with pytest.raises(Rejected) as err:
        connector.activate_listing(connection=conn, remote_product_id=made.remote_product_id)
    assert err.value.code == "FROZEN"
    sandbox.set_product_status(made.remote_product_id, "DELETED")
    with pytest.raises(Rejected) as err:
        connector.update_listing(connection=conn, listing=ls)
    assert err.value.code == "DELETED" and "relist" in err.value.message


def test_listing_check_reports_category_rules_without_creating(sandbox, conn, images) -> None:
    dress = listing(images, "CK1", category_id="601154", title="Linen summer dress CK1")
    products = len(sandbox.products(sandbox.shops()[0]["id"]))
    check = connector.check_listing(connection=conn, listing=dress, dry_run=False)
    assert not check.ok and any("size chart" in r for r in check.reasons)
    assert any("DESC" in w for w in check.warnings)
    ok = connector.check_listing(connection=conn, listing=dress.model_copy(
        update={"size_chart_url": images.url("chart", 1200, 1200)}), dry_run=False)
    assert ok.ok and ok.checked, ok.reasons
    cream = listing(images, "CK2", category_id="800200", title="Hand cream CK2", attributes=[])
    rules = connector.category_rules(connection=conn, category_id="800200")
    assert [c.id for c in rules.required_certifications] == ["602362", "602363"]
    assert rules.required_certifications[1].conditions == [("103001", "1030012")]
    bad = connector.check_listing(connection=conn, listing=cream, dry_run=False)
    assert bad.reasons == ["The certification [Cosmetic Product Safety Report] is required for this category."]
    good = cream.model_copy(update={"certifications": [ListingCertification(id="602362", image_urls=[
        images.url("report", 800, 1000)])]})
    assert connector.check_listing(connection=conn, listing=good, dry_run=False).ok
    assert len(sandbox.products(sandbox.shops()[0]["id"])) == products  # nothing created
    fresh = listing(images, "CK3", image="never-uploaded.png")
    uploads = sandbox.uploads
    planned = connector.check_listing(connection=conn, listing=fresh, dry_run=True)
    assert planned.ok and not planned.checked and sandbox.uploads == uploads  # a plan uploads nothing
    sandbox.world.prohibited_words.add("replica")
    try:
        refused = connector.check_listing(connection=conn, listing=listing(
            images, "CK4", image="never-uploaded.png", title="Replica cotton tee CK4"), dry_run=True)
    finally:
        sandbox.world.prohibited_words.clear()
    assert refused.reasons == ["The title contains prohibited words: replica."]  # images: not counted


def test_scan_lists_the_whole_shop_a_hundred_a_page(sandbox, conn) -> None:
    before = _count(sandbox, "POST /product/202309/products/search")
    pages = list(connector.scan_listings(connection=conn))
    total = len(sandbox.products(sandbox.shops()[0]["id"]))
    assert _count(sandbox, "POST /product/202309/products/search") - before == -(-total // 100) == len(pages)
    assert pages[0].total == total
    skus = {e.seller_sku for p in pages for e in p.listings}
    assert skus == {s["seller_sku"] for p in sandbox.products(sandbox.shops()[0]["id"]) for s in p["skus"]}

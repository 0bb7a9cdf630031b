"""Listing changes the way TikTok Shop wants them, end to end: BigCommerce sandbox edits ->
products flow -> the TikTok calls made (TikTok sandbox), one case per test.

Light calls per change, status transitions (activate, frozen, deleted), promotion locks, the
pre-flight check, category rules (brand, size chart, certifications), linking without
overwriting (by seller SKU and by hand), and the initial sync's SKU index."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from bridge import db
from bridge.stores import connection_for
from bridge.sync.base import FlowContext
from bridge.tables import ListingLink, ProductMapping, Store, utcnow
from tests.e2e.harness import CHANNEL, Harness, running

ECO = "bigcommerce"
P = "/product/202309/products"
PRICES = f"POST {P}/{{product_id}}/prices/update"
PARTIAL = f"POST {P}/{{product_id}}/partial_edit"
FULL = f"PUT {P}/{{product_id}}"
GET = f"GET {P}/{{product_id}}"
ACTIVATE = f"POST {P}/activate"
CREATE = f"POST {P}"
CHECK = f"POST {P}/listing_check"
SEARCH = f"POST {P}/search"


@pytest.fixture()
def h(monkeypatch: pytest.MonkeyPatch) -> Iterator[Harness]:
    yield from running(ECO, monkeypatch.setenv)


def edits() -> Any:
    from bridge_bigcommerce.sandbox import edits as mod

    return mod


def _links() -> dict[str, ListingLink]:
    with db.session() as s:
        return {ln.source_product_id: ln for ln in s.exec(select(ListingLink))}


FACTS = ("GET /product/202309/categories", "GET /product/202309/brands", "GET /logistics/")


def _calls(h: Harness) -> dict[str, int]:
    """TikTok requests by route, reads included, but for the shop's facts (categories, rules,
    brands, warehouses: read once, then cached)."""
    return {k: v for k, v in h.tt.stats.snapshot()["by_route"].items() if not k.startswith(FACTS)}


def _listed(h: Harness, n: int = 6, variants: int = 3) -> list[str]:
    """``n`` products listed and live on TikTok (stock sent), stats reset."""
    h.eco.seed_catalog(n, variants, seed=7)
    h.map_everything()
    assert h.sync("products").counts["created"] >= n - 1
    h.sync("listings")
    h.sync("inventory")
    h.reset_stats()
    return [pid for pid, ln in _links().items() if ln.remote_product_id]


def test_each_change_gets_the_lightest_call_and_nothing_else(h: Harness) -> None:
    priced, described, grown, *_ = _listed(h)
    bc = h.eco.state
    edits().change_price(bc, priced, 2.0)
    edits().change_description(bc, described, "<p>Now with a much longer description of the fabric.</p>")
    edits().add_variant(bc, grown)
    reviews = h.tt.reviews
    r = h.sync("products")
    assert r.status == "ok", r.errors
    assert _calls(h) == {PRICES: 1, PARTIAL: 1, GET: 1, FULL: 1}
    assert h.tt.reviews - reviews == 2  # the description and the new variant; none for the price
    links = _links()
    remote = {pid: links[pid].remote_product_id for pid in (priced, described, grown)}
    product = {pid: h.tt.product(rid, review_version=True) for pid, rid in remote.items()}
    store = h.pm.call(ECO, "get_products", connection=connection_for(h.eco_store, h.pm), product_ids=[priced])[0]
    assert {s["seller_sku"]: s["price"]["sale_price"] for s in product[priced]["skus"]} == {
        v.sku: str(v.price.amount) for v in store.variants}
    assert "much longer" in product[described]["description"]
    assert len(product[grown]["skus"]) == 4
    h.reset_stats()
    h.sync("products")
    assert h.writes()["tiktok"] == 0  # nothing changed: nothing sent


def test_deactivated_by_bridge_comes_back_through_activate_and_review(h: Harness) -> None:
    pid = _listed(h)[0]
    bc = h.eco.state
    edits().set_visible(bc, pid, False)
    h.sync("products")
    assert _links()[pid].status == "deactivated"
    edits().set_visible(bc, pid, True)
    h.reset_stats()
    h.sync("products")
    assert _calls(h) == {ACTIVATE: 1}  # content as sent: no edit; the product is activated
    assert _links()[pid].status == "pending"
    h.sync("listings")
    assert _links()[pid].status == "live"


def test_frozen_and_deleted_products_are_held_not_edited(h: Harness) -> None:
    frozen, deleted, *_ = _listed(h)
    links = _links()
    h.tt.set_product_status(links[frozen].remote_product_id, "FREEZE")
    h.tt.set_product_status(links[deleted].remote_product_id, "DELETED")
    for pid in (frozen, deleted):
        edits().change_description(h.eco.state, pid, f"<p>changed {pid}</p>")
    r = h.sync("products")
    assert r.errors == [] and r.counts["held"] == 2
    links = _links()
    assert links[frozen].status == "frozen" and "froze" in links[frozen].reasons[0]
    assert links[deleted].status == "deleted" and "relist" in links[deleted].reasons[0]
    h.reset_stats()
    for pid in (frozen, deleted):
        edits().change_description(h.eco.state, pid, f"<p>changed again {pid}</p>")
    h.sync("products")
    assert h.writes()["tiktok"] == 0  # never edited while TikTok forbids it
    # TikTok lifts the freeze: the listings flow notices, edits resume
    h.tt.set_product_status(links[frozen].remote_product_id, "ACTIVATE")
    h.sync("listings")
    assert _links()[frozen].status == "live"
    # the merchant asks to list the deleted one again
    from bridge.sync.manual_links import relist

    assert relist(h.shop.id, deleted)  # type: ignore[arg-type]
    h.reset_stats()
    r = h.sync("products")
    assert _calls(h).get(CREATE) == 1 and _calls(h).get(PARTIAL) == 1
    assert _links()[deleted].remote_product_id != links[deleted].remote_product_id


def test_a_status_webhook_makes_a_frozen_product_held_before_any_edit(h: Harness) -> None:
    pid = _listed(h)[0]
    h.tt.set_product_status(_links()[pid].remote_product_id, "PLATFORM_DEACTIVATED")
    h.sync("listings", items=[pid])  # what a PRODUCT_STATUS_CHANGE delivery runs
    link = _links()[pid]
    assert link.status == "frozen" and "PLATFORM_DEACTIVATED" in link.reasons[0]
    edits().change_description(h.eco.state, pid, "<p>changed while frozen</p>")
    h.reset_stats()
    h.sync("products")
    assert h.writes()["tiktok"] == 0


def test_promotion_lock_holds_the_price_and_retries_later(h: Harness) -> None:
    pid = _listed(h)[0]
    remote = _links()[pid].remote_product_id
    h.tt.lock_price(remote)
    edits().change_price(h.eco.state, pid, 3.0)
    r = h.sync("products")
    assert r.errors == [] and r.counts.get("price_locked") == 1, (r.counts, _calls(h))
    assert "promotion" in _links()[pid].reasons[0] and _links()[pid].status == "live"
    assert _links()[pid].reasons[0].startswith("price held: ")
    h.reset_stats()
    r = h.sync("products")  # a later run (nothing changed in the store) tries once more, no storm
    assert _calls(h) == {PRICES: 1} and r.errors == []
    h.tt.lock_price(remote, False)
    h.reset_stats()
    h.sync("products")
    assert _calls(h) == {PRICES: 1} and _links()[pid].reasons == []
    h.reset_stats()
    h.sync("products")
    assert _calls(h) == {}


def test_preflight_holds_with_tiktoks_reasons_and_the_plan_shows_them(h: Harness) -> None:
    ids = h.eco.seed_catalog(3, 1, seed=9)
    h.map_everything()
    bad = ids[0]
    bc = h.eco.state
    bc.products[int(bad)]["name"] = "Replica " + bc.products[int(bad)]["name"]
    h.tt.world.prohibited_words.add("replica")
    plan = h.sync("products", dry_run=True)
    held = [e for e in plan.plan if e["action"] == "hold"]
    assert [e["item"] for e in held] == [bad] and "prohibited words" in held[0]["why"]
    assert h.writes()["tiktok"] == 0
    h.reset_stats()
    r = h.sync("products")
    assert r.counts["created"] == 2 and r.errors == []
    link = _links()[bad]
    assert link.status == "held" and link.remote_product_id is None
    assert link.reasons == ["TikTok's pre-flight: The title contains prohibited words: replica."]
    assert _calls(h)[CHECK] == 3 and _calls(h)[CREATE] == 2
    h.reset_stats()
    h.sync("products")
    assert h.writes()["tiktok"] == 0 and _calls(h).get(CHECK) is None  # not asked again until it changes


def test_category_rules_brand_size_chart_and_certifications(h: Harness) -> None:
    dress, cream, plain = h.eco.seed_catalog(3, 1, seed=11)
    h.map_everything()
    with db.session() as s:
        s.add(ProductMapping(channel_store_id=h.shop.id, source_product_id=dress, category_id="601154",  # type: ignore[arg-type]
                             attributes={"Material": ["Linen"], "@brand": ["Bridge Basics"]}))
        s.add(ProductMapping(channel_store_id=h.shop.id, source_product_id=cream, category_id="800200",  # type: ignore[arg-type]
                             attributes={}))
    r = h.sync("products")
    links = _links()
    assert links[plain].remote_product_id and r.counts["created"] == 1
    assert links[dress].status == "held" and links[dress].reasons[0].startswith(
        "size chart (required by category 601154)")
    assert links[cream].status == "held" and links[cream].reasons[0].startswith(
        "certification 'Cosmetic Product Safety Report' (required by category 800200)")
    with db.session() as s:
        for row in s.exec(select(ProductMapping)):
            url = _image_url(h, row.source_product_id)
            key = "@size_chart" if row.source_product_id == dress else "@certification:602362"
            row.attributes = {**row.attributes, key: [url]}
            row.updated_at = utcnow()  # as `bridge map product` does: the next run is a full pass
            s.add(row)
    r = h.sync("products")
    assert r.counts["created"] == 2, (r.errors, {k: v.reasons for k, v in _links().items()})
    got = h.tt.product(_links()[dress].remote_product_id)
    assert got["size_chart"]["image"]["uri"] and got["brand"]["name"] == "Bridge Basics"
    assert h.tt.product(_links()[cream].remote_product_id)["certifications"][0]["id"] == "602362"


def _image_url(h: Harness, product_id: str) -> str:
    conn = connection_for(h.eco_store, h.pm)
    return h.pm.call(ECO, "get_products", connection=conn, product_ids=[product_id])[0].images[0].url


def test_linking_by_seller_sku_keeps_tiktok_content_then_light_calls(h: Harness) -> None:
    ids = h.eco.seed_catalog(2, 3, seed=13)
    h.map_everything()
    conn = connection_for(h.shop, h.pm)
    eco_conn = connection_for(h.eco_store, h.pm)
    product = h.pm.call(ECO, "get_products", connection=eco_conn, product_ids=[ids[0]])[0]
    # the same SKUs already on TikTok, listed by hand in Seller Center with their own title
    from decimal import Decimal

    from bridge.models import Dimensions, Image, Listing, ListingAttribute, ListingSku, Money

    listing = Listing(source_product_id="seller-center", title="Seller Center title for this tee",
                      description_html="<p>Written in Seller Center.</p>", category_id="601152",
                      images=[Image(url=product.images[0].url)],
                      attributes=[ListingAttribute(id="101001", value_ids=["1010011"])],
                      package_weight_g=Decimal(300), package_dimensions=Dimensions(
                          length_cm=Decimal(20), width_cm=Decimal(15), height_cm=Decimal(3)),
                      skus=[ListingSku(source_variant_id=v.remote_id, seller_sku=v.sku or "",
                                       price=Money(amount="1.00", currency="GBP"), quantity=1,
                                       sales_attributes=dict(v.options)) for v in product.variants])
    made = h.pm.call(CHANNEL, "create_listing", connection=conn, listing=listing)
    h.tt.product(made.remote_product_id)  # approved
    h.reset_stats()
    r = h.sync("products")
    assert r.counts["linked"] == 1 and r.counts["created"] == 1
    assert _calls(h).get(PRICES) == 1 and PARTIAL not in _calls(h) and FULL not in _calls(h)
    got = h.tt.product(made.remote_product_id)
    assert got["title"] == "Seller Center title for this tee"  # TikTok's content kept
    assert {s["price"]["sale_price"] for s in got["skus"]} != {"1.00"}  # the store's prices
    h.reset_stats()
    edits().change_description(h.eco.state, ids[0], "<p>The store's new words.</p>")
    h.sync("products")
    assert _calls(h) == {PARTIAL: 1}  # from now on the store's changes follow, lightly
    assert h.tt.product(made.remote_product_id, review_version=True)["title"] == "Seller Center title for this tee"


def test_manual_link_for_skus_that_differ(h: Harness) -> None:
    ids = h.eco.seed_catalog(1, 1, seed=15)
    h.map_everything()
    tiktok_pid = h.tt.seed_catalog(1, 1, seed=3)[0]
    sku_id = h.tt.product(tiktok_pid)["skus"][0]["id"]
    with db.session() as s:
        shop = s.get(Store, h.shop.id)
        eco = s.get(Store, h.eco_store.id)
    ctx = FlowContext(flow="link", org_id=h.org_id, ecommerce=eco, channel=shop, pm=h.pm)
    from bridge.sync.manual_links import link_product, unlink_product

    eco_product = h.pm.call(ECO, "get_products", connection=connection_for(h.eco_store, h.pm), product_ids=ids)[0]
    out = link_product(ctx, ids[0], tiktok_pid, {eco_product.variants[0].remote_id: sku_id})
    assert out.linked == {eco_product.variants[0].remote_id: sku_id} and out.unmatched == []
    h.reset_stats()
    r = h.sync("products")
    assert r.counts.get("created", 0) == 0 and _calls(h) == {PRICES: 1}
    assert unlink_product(h.shop.id, ids[0])  # type: ignore[arg-type]
    h.reset_stats()
    h.sync("products")
    assert h.writes()["tiktok"] == 0 and _links()[ids[0]].status == "unlinked"


def test_initial_sync_indexes_a_small_shop_with_one_scan(h: Harness) -> None:
    h.eco.seed_catalog(40, 3, seed=17)  # 120 variants: 12 searches of ten SKUs otherwise
    h.tt.seed_catalog(30, 2, seed=5)  # the shop already holds 30 other products
    h.map_everything()
    h.reset_stats()
    r = h.sync("products")
    assert r.errors == []
    assert _calls(h)[SEARCH] == 1  # one scan page (30 products) instead of the searches

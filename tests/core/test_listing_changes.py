"""The per-part diff of a listing against what was last sent, and the calls it leads to."""

from __future__ import annotations

from decimal import Decimal

from bridge.models import Image, Listing, ListingSku, Money
from bridge.sync.listing_changes import SentSku, decode, diff, digests, encode, legacy_hash


def _listing(**kw) -> Listing:
    skus = [ListingSku(source_variant_id=f"v{i}", seller_sku=f"S-{i}", price=Money(amount=Decimal("10.00"),
                       currency="GBP"), quantity=3, sales_attributes={"Size": s}) for i, s in enumerate("SM")]
    data = dict(source_product_id="p1", title="A tee", description_html="<p>Soft</p>", category_id="601152",
                images=[Image(url="https://img/1.png")], skus=skus)
    data.update(kw)
    return Listing(**data)


def _sent(listing: Listing, **prices: str) -> dict[str, SentSku]:
    return {s.source_variant_id: SentSku(f"r-{s.source_variant_id}", prices.get(s.source_variant_id, "10.00"))
            for s in listing.skus}


def test_nothing_changed_sends_nothing() -> None:
    ls = _listing()
    ch = diff(ls, encode(digests(ls)), _sent(ls))
    assert ch.nothing and ch.calls() == []


def test_price_only_is_a_price_update_of_the_changed_skus() -> None:
    ls = _listing()
    ch = diff(ls, encode(digests(ls)), _sent(ls, v1="9.00"))
    assert ch.calls() == ["prices"] and [s.source_variant_id for s in ch.prices] == ["v1"]


def test_content_change_is_a_partial_edit_of_only_the_changed_parts() -> None:
    before = _listing()
    after = _listing(description_html="<p>Softer</p>", images=[Image(url="https://img/2.png")])
    ch = diff(after, encode(digests(before)), _sent(after))
    assert ch.calls() == ["partial_edit"] and ch.parts == ["description", "images"]
    both = diff(after, encode(digests(before)), _sent(after, v0="12.00"))
    assert both.calls() == ["partial_edit", "prices"]


def test_sku_set_change_is_a_full_edit() -> None:
    before = _listing()
    extra = ListingSku(source_variant_id="v9", seller_sku="S-9", price=Money(amount=Decimal(5), currency="GBP"),
                       quantity=1, sales_attributes={"Size": "L"})
    after = _listing(skus=before.skus + [extra])
    ch = diff(after, encode(digests(before)), _sent(before))
    assert ch.calls() == ["full_edit"] and ch.skus_changed
    renamed = _listing(skus=[before.skus[0].model_copy(update={"seller_sku": "S-0b"}), before.skus[1]])
    assert diff(renamed, encode(digests(before)), _sent(before)).calls() == ["full_edit"]


def test_older_whole_listing_hash_is_understood() -> None:
    ls = _listing()
    old = legacy_hash(ls)
    assert decode(old) is None
    assert diff(ls, old, _sent(ls)).nothing
    cheaper = _listing(skus=[s.model_copy(update={"price": Money(amount=Decimal("8.00"), currency="GBP")})
                             for s in ls.skus])
    ch = diff(cheaper, old, _sent(ls))  # the hash was made with the old prices: only prices differ
    assert ch.calls() == ["prices"] and len(ch.prices) == 2
    assert diff(_listing(title="New"), old, _sent(ls)).calls() == ["partial_edit"]
    assert diff(ls, None, _sent(ls)).calls() == ["partial_edit"]  # unknown: send it all again


# --------------------------------------------------------------------------- the SKU index


def _index(n_products: int):
    from bridge.models import ExistingListing, ListingIndexPage
    from bridge.sync.sku_index import SkuIndex

    shop = [ExistingListing(remote_product_id=f"r{i}", remote_sku_id=f"s{i}", seller_sku=f"X-{i}")
            for i in range(n_products)]
    calls = {"search": 0, "scan": 0}

    def search(skus):
        calls["search"] += 1
        return [e for e in shop if e.seller_sku in skus]

    def scan():
        for i in range(0, max(1, len(shop)), 100):
            calls["scan"] += 1
            yield ListingIndexPage(listings=shop[i:i + 100], total=len(shop))

    return SkuIndex(search, scan), calls


def test_sku_index_scans_an_empty_or_small_shop_once() -> None:
    idx, calls = _index(0)
    for page in range(50):  # 50 pages of 200 new SKUs: 1,000 searches otherwise
        assert idx.find([f"N-{page}-{i}" for i in range(200)]) == {}
    assert calls == {"search": 0, "scan": 1}
    idx, calls = _index(80)
    assert set(idx.find([f"X-{i}" for i in range(70, 90)])) == {f"X-{i}" for i in range(70, 80)}
    assert calls == {"search": 0, "scan": 1}


def test_sku_index_switches_to_a_scan_once_searches_would_cost_more() -> None:
    idx, calls = _index(1000)  # 10 scan pages
    for page in range(20):
        found = idx.find([f"X-{page * 20 + i}" for i in range(20)])  # 2 searches a page
        assert len(found) == 20
    assert calls["scan"] == 10 and calls["search"] <= 10
    few, calls = _index(1000)
    few.find(["X-1", "X-2"])  # one search: no scan started for a handful of SKUs
    assert calls == {"search": 1, "scan": 0}


def test_a_small_shops_index_is_shared_by_a_splits_pages_from_one_scan() -> None:
    from bridge.sync.sku_index import SkuIndex

    idx, calls = _index(80)  # the split's reader: one scan page holds the whole shop
    snap = idx.snapshot()
    assert calls == {"search": 0, "scan": 1} and snap is not None and len(snap) == 80
    page = SkuIndex.of(snap)  # each page task: the same answers, no call at all
    assert set(page.find([f"X-{i}" for i in range(70, 90)])) == {f"X-{i}" for i in range(70, 80)}
    assert calls == {"search": 0, "scan": 1}
    big, calls = _index(1000)  # a large shop: pages find their own SKUs as a run would
    assert big.snapshot() is None and calls == {"search": 0, "scan": 1}


def test_decisions_by_link_status() -> None:
    from bridge.sync.listing_changes import KEPT, decide

    ls = _listing()
    sent = _sent(ls)
    same = encode(digests(ls))
    assert decide("live", [], same, ls, sent).kind == "unchanged"
    assert decide("frozen", ["TikTok froze it"], same, ls, sent).why == "TikTok froze it"
    assert decide("deleted", [], same, ls, sent).kind == "hold"
    assert decide("deleted", [], same, ls, sent, recreate_deleted=True).kind == "relist"
    back = decide("deactivated", [], same, ls, sent)
    assert back.kind == "update" and back.activate and back.changes.calls() == []
    kept = decide("live", [], KEPT, ls, _sent(ls, v0="12.00"))
    assert kept.kind == "update" and kept.changes.calls() == ["prices"]
    assert decide("live", [], KEPT, ls, sent).kind == "adopt"
    assert decide("live", [], legacy_hash(ls), ls, sent).kind == "adopt"  # re-kept per part


# --------------------------------------------------------------------------- category requirements


def test_brand_size_chart_and_certifications_from_rules() -> None:
    from bridge.models import (
        Brand,
        CategoryRules,
        Certification,
        ListingAttribute,
        Product,
        Variant,
    )
    from bridge.sync.requirements import BrandRules, complete

    brands = [Brand(id="b1", name="Acme"), Brand(id="b2", name="Globex", authorized=False)]
    product = Product(remote_id="p1", title="Dress", vendor="ACME Ltd", variants=[
        Variant(remote_id="v1", price=Money(amount=Decimal(5), currency="GBP"))])
    chart = Image(url="https://img/chart.png", position=2, alt="Size chart")
    ls = _listing(images=[Image(url="https://img/1.png"), chart],
                  attributes=[ListingAttribute(id="103001", value_ids=["1030012"])])
    rules = CategoryRules(category_id="c", size_chart_required=True, size_chart_supported=True, brand_required=True,
                          required_certifications=[Certification(id="9", name="SPF report", required=False,
                                                                 conditions=[("103001", "1030012")])])
    mapped_brand = BrandRules.parse({"map": {"acme ltd": "Acme"}})
    done = complete(ls, product, rules, {"@certification:9": ["https://img/report.png"]}, mapped_brand,
                    lambda cid: brands)
    assert done.missing == []
    assert done.listing.brand_id == "b1" and done.listing.size_chart_url == "https://img/chart.png"
    assert [i.url for i in done.listing.images] == ["https://img/1.png"]  # the chart is not a main image
    assert done.listing.certifications[0].image_urls == ["https://img/report.png"]
    bare = complete(_listing(attributes=[ListingAttribute(id="103001", value_ids=["1030012"])]), product, rules,
                    {}, BrandRules.parse(None), lambda cid: brands)
    assert [m.split(" ")[0] for m in bare.missing] == ["brand:", "size", "certification"]
    assert "'ACME Ltd' is not a TikTok brand" in bare.missing[0]
    optional = CategoryRules(category_id="c")
    no_brand = complete(_listing(), product, optional, {}, BrandRules.parse(None), lambda cid: brands)
    assert no_brand.missing == [] and no_brand.listing.brand_id is None and "without a brand" in no_brand.warnings[0]
    unauthorized = complete(_listing(), product, optional, {"@brand": ["Globex"]}, BrandRules.parse(None),
                            lambda cid: brands)
    assert unauthorized.listing.brand_id is None  # a brand the shop may not use is never sent

"""Per-product overrides (title, description, price, images) win over the shop's templates and
price rule: the plan shows them, a sync sends them, a change of the store product keeps them, and
a draft shows in a plan without being saved (the bulk editor's preview)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlmodel import select

from bridge import db, overrides
from bridge.errors import Misconfigured
from bridge.mapping import Mapped, drafted
from bridge.models import Image, Money, Product, Variant
from bridge.sync import plan_flow
from bridge.sync.listing import build_listing
from bridge.sync.options import shop_options
from bridge.tables import ProductMapping
from tests.flows.conftest import Flows


def _entry(plan: list[dict], item: str) -> dict:
    return next(e for e in plan if e["item"] == item)


def test_an_override_shows_in_the_plan_is_sent_and_outlives_a_store_change(flows: Flows) -> None:
    flows.set_options({"templates": {"title": "{{ product.title }} | UK"}, "pricing": {"markup_percent": 20}})
    flows.run("products")
    assert flows.listed()["SKU-1-1"]["title"] == "Fake product 1 | UK"
    sid = flows.channel_store.id
    assert overrides.save(sid, ["p1"], {"title": "Hand-picked shirt", "price": {"fixed": "9.99"}}) == 1
    assert overrides.save(sid, ["p1"], {"title": "Hand-picked shirt", "price": {"fixed": "9.99"}}) == 0

    flows.reset_stats()
    plan = plan_flow("products", flows.org_id, sid)[0].plan
    assert flows.writes() == 0
    e = _entry(plan, "p1")
    assert (e["action"], e["title"], e["overrides"]) == ("update", "Hand-picked shirt", ["title", "price"])
    assert [(s["price"], s["price_rule"]) for s in e["skus"]] == [("9.99", "per-product price 9.99")]
    assert [x["item"] for x in plan] == ["p1"]  # the others are unchanged

    r = flows.run("products")
    assert r.counts["updated"] == 1
    sent = flows.listed()["SKU-1-1"]
    assert sent["title"] == "Hand-picked shirt"
    assert flows.sku("SKU-1-1")["price"] == "9.99"
    assert flows.listed()["SKU-2-1"]["title"] == "Fake product 2 | UK"  # the template still rules the rest

    # the store product changes: the override is kept and still wins
    with flows.shop.lock:
        p = flows.shop.products_["p1"]
        p["title"], p["seq"] = "Renamed in the store", flows.shop._touch()
    flows.reset_stats()
    flows.run("products")
    assert flows.listed()["SKU-1-1"]["title"] == "Hand-picked shirt"
    with db.session() as s:
        assert s.exec(select(ProductMapping)).one().title == "Hand-picked shirt"

    # cleared: the template's title and the shop's price rule again
    overrides.save(sid, ["p1"], {"title": None, "price": {}})
    flows.run("products")
    assert flows.listed()["SKU-1-1"]["title"] == "Renamed in the store | UK"
    assert flows.sku("SKU-1-1")["price"] != "9.99"


def test_a_draft_shows_in_the_plan_and_is_never_saved(flows: Flows) -> None:
    flows.run("products")
    sid = flows.channel_store.id
    flows.reset_stats()
    with drafted(sid, {"p1": {"price": {"markup_percent": "50", "markup_fixed": "0", "rounding": ".99"}},
                       "p2": {"title": "A better mug"}}):
        plan = plan_flow("products", flows.org_id, sid, items=["p1", "p2"])[0].plan
    assert _entry(plan, "p1")["skus"][0]["price_rule"] == "per-product price +50%, round to .99"
    assert _entry(plan, "p1")["skus"][0]["price"] == "15.99"  # 10.00 + 50 %, up to .99
    assert _entry(plan, "p2")["title"] == "A better mug"
    with db.session() as s:
        assert s.exec(select(ProductMapping)).first() is None
    # outside the block nothing changed: no action, no write
    assert plan_flow("products", flows.org_id, sid, items=["p1", "p2"])[0].plan == []
    r = flows.run("products")
    assert flows.writes() == 0 and r.counts.get("updated", 0) == 0


def _product() -> Product:
    imgs = [Image(url=f"https://img.test/{n}.jpg", position=n) for n in range(3)]
    return Product(remote_id="p1", title="Shirt", description_html="<p>Soft</p>", images=imgs,
                   variants=[Variant(remote_id="v1", sku="S-1", price=Money(amount="10.00", currency="GBP"),
                                     compare_at_price=Money(amount="14.00", currency="GBP"), quantity=3)])


def test_images_are_chosen_and_ordered_and_a_vanished_one_is_left_out() -> None:
    row = ProductMapping(channel_store_id=1, source_product_id="p1",
                         images=["https://img.test/2.jpg", "https://img.test/gone.jpg", "https://img.test/0.jpg"],
                         description_html="<p>Mine</p><script>x</script>",
                         price={"markup_percent": "-10", "markup_fixed": "0"})
    built = build_listing(_product(), Mapped("101"), shop_options({"pricing": {"markup_percent": 50}}), {},
                          override=row)
    assert [i.url for i in built.listing.images] == ["https://img.test/2.jpg", "https://img.test/0.jpg"]
    assert any("gone.jpg is no longer on the product" in w for w in built.warnings)
    assert built.listing.description_html == "<p>Mine</p>"
    sku = built.listing.skus[0]
    assert (sku.price.amount, sku.original_price.amount) == (Decimal("9.00"), Decimal("12.60"))  # type: ignore[union-attr]
    assert built.overridden == ["description", "price", "images"]
    # none of the chosen images left: the product's own
    row.images = ["https://img.test/gone.jpg"]
    built = build_listing(_product(), Mapped("101"), shop_options({}), {}, override=row)
    assert len(built.listing.images) == 3


@pytest.mark.parametrize(("text", "want"), [
    ("12.50", {"fixed": "12.50"}),
    ("+10%", {"markup_percent": "10", "markup_fixed": "0"}),
    ("-5% +1.50 round .99", {"markup_percent": "-5", "markup_fixed": "1.50", "rounding": ".99"}),
    ("", {}),
])
def test_price_overrides_are_read_from_what_a_person_types(text: str, want: dict) -> None:
    assert overrides.parse_price(text) == want
    assert overrides.parse_price(overrides.describe_price(want)) == want


@pytest.mark.parametrize("text", ["abc", "0", "12.50 round .99", "10%"])
def test_a_price_that_is_not_understood_says_what_is(text: str) -> None:
    with pytest.raises(Misconfigured, match="price"):
        overrides.parse_price(text)


def test_a_variant_s_own_price_wins_over_the_product_s_rule() -> None:
    p = _product()
    p.variants.append(Variant(remote_id="v2", sku="S-2", price=Money(amount="20.00", currency="GBP"), quantity=1))
    row = ProductMapping(channel_store_id=1, source_product_id="p1",
                         price={"markup_percent": "10", "markup_fixed": "0", "skus": {"v2": "17.00"}})
    built = build_listing(p, Mapped("101"), shop_options({"pricing": {"markup_percent": 50}}), {}, override=row)
    assert [(n["sku"], n["price"], n["price_rule"]) for n in built.notes] == [
        ("S-1", "11.00", "per-product price +10%; compare-at price as original price"),
        ("S-2", "17.00", "per-variant price 17.00")]
    row.price = {"skus": {"v2": "17.00"}}  # only one variant's price: the other follows the shop's rule
    built = build_listing(p, Mapped("101"), shop_options({"pricing": {"markup_percent": 50}}), {}, override=row)
    assert [n["price"] for n in built.notes] == ["15.00", "17.00"]
    assert overrides.describe_price(row.price) == ""
    assert overrides.parse_variant_prices({"v1": " ", "v2": "17"}) == {"v2": "17"}
    with pytest.raises(Misconfigured, match="a variant's price is an amount"):
        overrides.parse_variant_prices({"v1": "+10%"})

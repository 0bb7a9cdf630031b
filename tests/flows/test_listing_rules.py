"""Building listings: HTML reduction, templates, price and quantity rules, limits, mapping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bridge.errors import Misconfigured
from bridge.mapping import Mapped, attribute_value, matching_rule
from bridge.models import AttributeValue, CategoryAttribute, Money, Product, Variant
from bridge.sync.listing import ListingProblem, build_listing, content_hash, reduce_html, render
from bridge.sync.options import InventoryRules, Pricing, shop_options
from bridge.sync.pricing import compute_price, compute_quantity
from bridge.tables import CategoryRule


def _product(n_variants: int = 2, **kw: object) -> Product:
    variants = [Variant(remote_id=f"v{i}", sku=f"S-{i}", options={"Size": str(i)},
                        price=Money(amount="10.00", currency="GBP"), quantity=10 + i)
                for i in range(n_variants)]
    data = {"remote_id": "p1", "title": "A shirt", "description_html": "<p>Soft</p>",
            "options": ["Size"], "variants": variants, **kw}
    return Product(**data)  # type: ignore[arg-type]


def test_html_is_reduced_to_tiktok_tags() -> None:
    html = ('<div class="x"><h2>Title</h2><script>alert(1)</script><p style="color:red">A <b>bold</b> '
            '<a href="/x">link</a></p><iframe src="x">f</iframe><img src="https://i/x.png" onerror="y">'
            '<table><tr><td>cell</td></tr></table></div>')
    out, warnings = reduce_html(html)
    assert out == '<h2>Title</h2><p>A <strong>bold</strong> link</p><img src="https://i/x.png">cell'
    assert warnings == []


def test_long_description_is_cut_at_an_element_with_a_warning() -> None:
    html = "".join(f"<p>paragraph {i} " + "x" * 80 + "</p>" for i in range(300))
    out, warnings = reduce_html(html, limit=1000)
    assert len(out) <= 1000
    assert out.endswith("</p>")
    assert warnings and "cut to" in warnings[0]


def test_templates_render_in_a_sandbox() -> None:
    p = _product()
    assert render("{{ product.title }} | {{ shop.name }}", "", p, {"name": "UK"}) == "A shirt | UK"
    assert render(None, "as is", p, {}) == "as is"
    with pytest.raises(Misconfigured, match="cannot be rendered"):
        render("{{ product.__class__.__mro__ }}", "", p, {})


@pytest.mark.parametrize(("price", "rules", "want"), [
    ("10.00", Pricing(), "10.00"),
    ("10.00", Pricing(markup_percent=Decimal(15)), "11.50"),
    ("10.00", Pricing(markup_percent=Decimal(15), rounding=".99"), "11.99"),
    ("11.99", Pricing(rounding=".99"), "11.99"),
    ("12.00", Pricing(rounding=".99"), "12.99"),
    ("10.40", Pricing(markup_fixed=Decimal("2"), rounding="1"), "12"),
])
def test_price_rules(price: str, rules: Pricing, want: str) -> None:
    selling, _, _ = compute_price(Money(amount=price, currency="GBP"), None, rules)
    assert str(selling.amount) == want


def test_compare_at_price_becomes_the_original_price() -> None:
    selling, original, why = compute_price(Money(amount="8", currency="GBP"),
                                           Money(amount="10", currency="GBP"), Pricing())
    assert (selling.amount, original.amount) == (Decimal("8.00"), Decimal("10.00"))  # type: ignore[union-attr]
    assert "original price" in why


@pytest.mark.parametrize(("available", "tracked", "rules", "want"), [
    (10, True, InventoryRules(), 10),
    (10, True, InventoryRules(buffer_units=3), 7),
    (10, True, InventoryRules(buffer_percent=Decimal(25)), 7),
    (4, True, InventoryRules(buffer_units=1, threshold=4), 0),
    (500, True, InventoryRules(cap=100), 100),
    (-3, True, InventoryRules(), 0),
    (None, False, InventoryRules(untracked_quantity=50), 50),
])
def test_quantity_rules(available: int | None, tracked: bool, rules: InventoryRules, want: int) -> None:
    assert compute_quantity(available, tracked, rules)[0] == want


def test_bad_options_are_refused_naming_the_option() -> None:
    with pytest.raises(Misconfigured, match="inventory.threshold"):
        shop_options({"inventory": {"threshold": "lots"}})
    with pytest.raises(Misconfigured, match="pricing.rounding"):
        shop_options({"pricing": {"rounding": "0.9"}})


def test_variant_limits_hold_the_product_never_truncate() -> None:
    mapped = Mapped("101")
    with pytest.raises(ListingProblem, match="at most 100 SKUs"):
        build_listing(_product(101), mapped, shop_options({}), {})
    many = _product(2, options=["A", "B", "C", "D"])
    many.variants[0].options.update({"A": "1", "B": "1", "C": "1", "D": "1"})
    with pytest.raises(ListingProblem, match="at most 3 sales attributes"):
        build_listing(many, mapped, shop_options({}), {})


def test_listing_uses_the_default_package_and_sales_attributes() -> None:
    built = build_listing(_product(), Mapped("101"), shop_options({"package": {"weight_g": 321}}), {})
    assert built.listing.package_weight_g == Decimal(321)
    assert built.listing.skus[1].sales_attributes == {"Size": "1"}
    assert any("package weight" in w for w in built.warnings)
    # quantities do not change the hash (the inventory flow owns them)
    other = built.listing.model_copy(update={"skus": [s.model_copy(update={"quantity": 0})
                                                      for s in built.listing.skus]})
    assert content_hash(other) == content_hash(built.listing)


def test_rule_matching_order_and_attribute_values() -> None:
    p = _product(product_type="Shirts", tags=["summer"], vendor="Acme")
    rules = [CategoryRule(id=1, channel_store_id=1, facet="vendor", value="acme", category_id="V"),
             CategoryRule(id=2, channel_store_id=1, facet="product_type", value="shirts", category_id="T")]
    assert matching_rule(p, rules).category_id == "V"  # type: ignore[union-attr]
    attr = CategoryAttribute(id="a1", name="Material", custom_values_allowed=False,
                             values=[AttributeValue(id="v1", name="Cotton")])
    value, problem = attribute_value(attr, "cotton")
    assert value is not None and value.value_ids == ["v1"] and problem is None
    value, problem = attribute_value(attr, "Silk")
    assert value is None and "'Silk' is not allowed" in (problem or "")

"""The product page and the bulk editor in a real browser, over the fake pair after a real
products sync: the list with store and TikTok columns, one product's page, its overrides saved
and planned, an action; the bulk editor's preview and apply. Every page is screenshotted."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bridge import db
from bridge.sandboxing import SandboxServer
from bridge.sandboxing.images import make_png
from bridge.tables import ProductMapping
from tests.web.conftest import IMG, PASSWORD

pytestmark = [pytest.mark.browser]


@pytest.fixture()
def site(listed) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The admin pages served on loopback."""
    from bridge.web.app import create_app

    with SandboxServer(create_app()) as server:
        yield server.url


def _image(route) -> None:  # type: ignore[no-untyped-def]
    """The store's (https) product images, answered by the browser itself: no network."""
    colour = zlib.crc32(route.request.url.encode()) % 200
    route.fulfill(body=make_png(96, 96, (colour, 120, 200 - colour)), content_type="image/png")


@pytest.fixture()
def page(browser, site):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    p = context.new_page()
    p.set_default_timeout(10_000)
    p.route("https://img.test/**", _image)
    p.goto(f"{site}/login")
    p.get_by_label("Email").fill("ann@acme.test")
    p.get_by_label("Password").fill(PASSWORD)
    p.get_by_role("button", name="Sign in").click()
    p.wait_for_url(f"{site}/")
    yield p
    context.close()


def test_product_page_overrides_and_actions(page, site, listed, shots):  # type: ignore[no-untyped-def]
    page.goto(f"{site}/products?shop={listed.sid}&sort=-price")
    row = page.locator('tr[data-product="p1"]')
    assert row.locator("td.store-price").inner_text() == "10.50"
    row.scroll_into_view_if_needed()  # thumbnails load lazily
    page.wait_for_function("""() => { const i = document.querySelector('tr[data-product="p1"] img');
                                      return i && i.complete && i.naturalWidth > 0; }""")  # the thumbnail loaded
    shots(page, "products-list")
    row.get_by_role("link", name="Fake product 1").click()
    page.wait_for_url(f"{site}/products/{listed.sid}/product/p1")
    assert page.locator("#product-title").inner_text() == "Fake product 1"
    assert page.locator('#variant-table tr[data-sku="SKU-1-1"] td').nth(4).inner_text() == "10.50"
    assert page.locator("#no-change").is_visible()
    shots(page, "product-page")

    form = page.locator("#overrides-form")
    form.get_by_label("Title").fill("Hand-picked shirt")
    form.get_by_label("Price").fill("+10% round .99")
    form.get_by_role("checkbox").nth(1).uncheck()  # send images 1 and 3, the third first
    form.locator('input[name="pos_2"]').fill("1")
    form.locator('input[name="pos_0"]').fill("2")
    form.get_by_role("button", name="Save overrides").click()
    page.get_by_text("Overrides saved").wait_for()
    assert "Overrides used: title, price, images" in page.locator("#next").inner_text()
    assert "11.99 (per-product price +10%, round to .99)" in page.locator("#next").inner_text()
    shots(page, "product-overrides-planned")
    with db.session() as s:
        m = s.exec(select(ProductMapping)).one()
    assert m.images == [IMG.format(2), IMG.format(0)]

    page.get_by_role("button", name="Exclude from this shop").click()
    page.get_by_text("Excluded: the next sync takes it off the shop.").wait_for()
    assert page.get_by_role("button", name="Include").is_visible()
    shots(page, "product-excluded")


def test_bulk_editor_preview_then_apply(page, site, listed, shots):  # type: ignore[no-untyped-def]
    page.goto(f"{site}/products?shop={listed.sid}")
    for pid in ("p1", "p3"):
        page.locator(f'tr[data-product="{pid}"] input[name="ids"]').check()
    editor = page.locator("#bulk-editor")
    editor.get_by_label("Field").select_option("price")
    editor.get_by_label("New value").fill("9.99")
    shots(page, "bulk-selected")
    editor.get_by_role("button", name="Preview").click()
    page.wait_for_url(f"{site}/products/{listed.sid}/edit")
    plan = page.locator("#bulk-plan")
    assert plan.locator("tbody tr").count() == 2
    assert "SKU-1-1: 9.99" in plan.locator('tr[data-product="p1"]').inner_text()
    assert "SKU-3-1: 9.99" in plan.locator('tr[data-product="p3"]').inner_text()
    with db.session() as s:
        assert s.exec(select(ProductMapping)).first() is None  # the preview saved nothing
    shots(page, "bulk-preview")
    page.get_by_role("button", name="Apply to 2 product(s)").click()
    page.get_by_text("price set on 2 product(s)").wait_for()
    shots(page, "bulk-applied")
    with db.session() as s:
        assert {m.source_product_id: m.price for m in s.exec(select(ProductMapping))} == {
            "p1": {"fixed": "9.99"}, "p3": {"fixed": "9.99"}}

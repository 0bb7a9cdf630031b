"""Every admin page in a real browser (Debian Chromium), on a desktop and on a phone: axe-core
finds no serious or critical violation, the keyboard reaches the content with the focus
visible, and the tables fit a narrow screen. The app is served on loopback over the fake
platform pair, with listings, orders, tracking, runs and failures in the database. A new page
goes into ``Site.pages``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bridge import db, journal
from bridge.sandboxing import SandboxServer
from bridge.tables import (
    CategoryRule,
    ItemError,
    Job,
    ListingLink,
    OrderLink,
    SyncRun,
    TrackingPushRecord,
    utcnow,
)
from tests.web.conftest import PASSWORD, fake_pair

pytestmark = [pytest.mark.browser]

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


class Site:
    def __init__(self, url: str, shop_id: int, eco_id: int, rule_id: int, order_id: int) -> None:
        self.url, self.shop_id, self.eco_id, self.rule_id = url, shop_id, eco_id, rule_id
        self.order_id = order_id

    def pages(self) -> dict[str, str]:
        """Every admin page a signed-in merchant reaches, by name."""
        shop, eco = self.shop_id, self.eco_id
        return {
            "home": "/", "dashboard": "/dashboard", "apps": "/apps",
            "products": f"/products?shop={shop}", "products-failed": f"/products?shop={shop}&status=failed",
            "mapping-rule": f"/products/{shop}/rules/{self.rule_id}",
            "mapping-product": f"/products/{shop}/item/p1?category_id=101",
            "product": f"/products/{shop}/product/p1", "product-held": f"/products/{shop}/product/p4",
            "orders": "/orders", "order": f"/orders/{self.order_id}", "activity": "/activity", "settings": f"/stores/{shop}/settings",
            "checklist": f"/stores/{eco}/prerequisites", "disconnect": f"/stores/{shop}/disconnect",
            "connect-channel": "/connect/channel", "connect-ecommerce": "/connect/ecommerce",
            "connect-platform": "/connect/platform/fakechannel", "not-found": "/orders/999999/nothing",
        }


@pytest.fixture()
def site(pm, app) -> Iterator[Site]:  # type: ignore[no-untyped-def]
    with fake_pair(pm) as (eco, shop):
        now = utcnow()
        with db.session() as s:
            for i, status in enumerate(("live", "live", "failed", "held", "pending")):
                s.add(ListingLink(channel_store_id=shop.id, source_product_id=f"p{i + 1}",
                                  title=f"Product {i + 1}", status=status,
                                  reasons=["Material is required"] if status in ("failed", "held") else []))
            rule = CategoryRule(channel_store_id=shop.id, facet="all", value="*", category_id="101")
            s.add(rule)
            s.add(Job(key=f"orders:{shop.org_id}:{shop.id}", flow="orders", org_id=shop.org_id,
                      channel_store_id=shop.id))
            links = [OrderLink(channel_store_id=shop.id, channel_order_id=f"TT-{i}", ecommerce_store_id=eco.id,
                               ecommerce_order_id=f"E-{i}" if status == "created" else None, status=status,
                               message="variant SKU-9 is unknown" if status == "held" else None,
                               created_at=now - timedelta(days=i % 12))
                     for i, status in enumerate(["created"] * 8 + ["held", "cancelled", "pending"])]
            s.add_all(links)
            s.flush()
            s.add_all([TrackingPushRecord(order_link_id=o.id, tracking_number=f"RM{o.id:09d}GB",  # type: ignore[arg-type]
                                          carrier="Royal Mail", status="pushed" if o.id % 3 else "pending")
                       for o in links if o.status == "created"])
            run = SyncRun(flow="orders", org_id=shop.org_id, store_id=eco.id, channel_store_id=shop.id,
                          status="partial", counts={"created": 8, "held": 1}, started_at=now, finished_at=now)
            s.add(run)
            s.flush()
            s.add(ItemError(run_id=run.id, item="TT-8", message="variant SKU-9 is unknown"))  # type: ignore[arg-type]
            s.flush()
            rule_id, order_id = rule.id, links[8].id
        journal.record("listing.rejected", "Material is required", org_id=shop.org_id,
                       store_id=shop.id, flow="products", item="p3", level="error")
        with SandboxServer(app) as web:
            yield Site(web.url, shop.id, eco.id, rule_id, order_id)  # type: ignore[arg-type]


def _sign_in(browser, site: Site, viewport: dict):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport=viewport)
    page.set_default_timeout(10000)
    page.goto(f"{site.url}/login")
    return page


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_admin_page_passes_the_accessibility_check(browser, site, a11y, shots, viewport):  # type: ignore[no-untyped-def]
    page = _sign_in(browser, site, viewport)
    shots(page, "login")
    page.fill("input[name=email]", "ann@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/")
    for name, path in site.pages().items():
        page.goto(site.url + path)
        assert page.locator("main h1").count() == 1, f"{name}: no heading"
        shots(page, name)
        if viewport is PHONE:  # nothing wider than the screen: tables fold into cards
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= PHONE["width"], f"{name} is {wide}px wide on a {PHONE['width']}px phone"
    page.close()


def test_the_keyboard_reaches_the_content_and_the_category_search_with_the_focus_visible(browser, site):  # type: ignore[no-untyped-def]
    page = _sign_in(browser, site, PHONE)
    assert page.evaluate("document.activeElement.name") == "email"  # autofocus
    page.keyboard.type("ann@acme.test")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/")
    page.goto(f"{site.url}/dashboard")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.locator(".skip").bounding_box()["x"] >= 0, "the skip link stays off screen when focused"
    page.keyboard.press("Enter")  # the skip link moves the focus to the content
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the first control of the content
    assert page.evaluate("document.getElementById('main').contains(document.activeElement)")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none"), f"no visible focus on {page.evaluate('document.activeElement.outerHTML')}"
    # the category search's results are reached and chosen by keyboard
    page.goto(f"{site.url}/products?shop={site.shop_id}")
    page.focus("#rule-form .catsearch")
    page.keyboard.type("shirt")
    page.wait_for_selector("#rule-form .catresults li[data-id='101'] button")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('li').dataset.id") == "101"
    page.keyboard.press("Enter")
    assert page.input_value("#rule-form input[name=category_id]") == "101"
    assert page.evaluate("document.activeElement.classList.contains('catsearch')")
    page.close()

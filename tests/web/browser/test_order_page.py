"""The order page in a real browser: the admin app served on loopback over orders as the orders
flow keeps them. Find an order by its store number, open it, read both sides, retry a held
order from its page; every page is screenshotted (artifacts/screenshots/)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select

from bridge import db
from bridge.sandboxing import SandboxServer
from bridge.tables import Job, OrderLink
from tests.web.conftest import PASSWORD
from tests.web.order_data import Shop, seed

pytestmark = [pytest.mark.browser]


@pytest.fixture()
def served(app) -> Iterator[tuple[str, Shop]]:  # type: ignore[no-untyped-def]
    data = seed()
    with SandboxServer(app) as server:
        yield server.url, data


def test_find_an_order_read_both_sides_and_retry_a_held_one(browser, served, shots):  # type: ignore[no-untyped-def]
    base, data = served
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10000)
    page.goto(f"{base}/login")
    page.fill("input[name=email]", "ann@acme.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

    # --- the list names the store order; search it by its number
    page.goto(f"{base}/orders")
    assert "gid://" not in page.inner_text("main")
    shots(page, "orders")
    page.fill("input[name=q]", "#1022")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=%231022**")
    assert page.locator("#orders tbody tr[data-order]").count() == 1
    shots(page, "orders-search")

    # --- the order: both sides
    page.click("#orders tr[data-order='TT-1001'] .ecommerce-order a")
    page.wait_for_url(f"{base}/orders/{data.created}")
    main = page.inner_text("main")
    assert "gid://" not in main
    assert page.inner_text("#order-sides .store-order") == "#1022"
    assert page.get_attribute("#order-sides .store-order a", "href") == "https://acme.example/admin/orders/5551022"
    assert page.inner_text("#order-sides .channel-order").startswith("TT-1001")
    cells = page.locator("#lines tr[data-sku='SKU-A'] td").all_inner_texts()
    assert cells == ["SKU-A", "Tee SKU-A", "2", "10.00", "", "2", "10.00"]
    assert page.locator("#totals tr[data-total='total'] td").all_inner_texts() == ["33.50", "33.50"]
    assert "RM123456789GB" in page.inner_text("#packages tr.push")
    assert "waiting for the store to fulfil" in page.inner_text("#packages tr.waiting")
    assert "Return/refund RET-7" in page.inner_text("#refunds")
    assert page.locator("#journal tbody tr").count() == 2
    assert page.locator("#retry").count() == 0
    shots(page, "order-created")

    # --- a held order: why, and a retry from its page
    page.goto(f"{base}/orders/{data.held}")
    assert "match no product linked to this shop" in page.inner_text("#order-sides")
    shots(page, "order-held")
    page.click("#retry")
    page.wait_for_selector(".flash")
    assert page.url == f"{base}/orders/{data.held}"
    assert "TikTok order TT-1002 queued again" in page.inner_text(".flash")
    assert page.inner_text("#order-sides .badge") == "pending"
    shots(page, "order-retried")
    with db.session() as s:
        assert s.get(OrderLink, data.held).status == "pending"  # type: ignore[union-attr]
        assert s.exec(select(Job).where(Job.flow == "orders")).one().payload["items"] == ["TT-1002"]
    page.close()

"""The order page (both sides' numbers, lines, totals, packages, returns, journal, retry), the
orders list (store order numbers, search, sorting, paging that keeps the filters, a fixed number
of queries), the home page's health of an eCommerce store, and run counts in words."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlmodel import select

from bridge import db, journal, stores
from bridge.sync.orders import manual
from bridge.tables import Job, ListingLink, OrderLink, Store, SyncRun, utcnow
from bridge.web import naming
from tests.web.conftest import make_user
from tests.web.order_data import GID, Shop, seed


@pytest.fixture()
def orders(pm) -> Iterator[Shop]:  # type: ignore[no-untyped-def]
    yield seed()


def test_the_order_page_shows_both_sides(orders, signed_in):
    ann = signed_in("ann@acme.test")
    r = ann.get(f"/orders/{orders.created}")
    assert r.status_code == 200
    page = r.text
    assert "gid://" not in re.sub(r"<[^>]+>", "", page)  # shown text; links may carry the id
    assert "Order #1022 · TikTok TT-1001" in page
    assert 'href="https://acme.example/admin/orders/5551022"' in page and "Acme Store" in page
    lines = page.split('id="lines"')[1].split("</table>")[0]
    product = f'<a href="/products/{orders.shop.id}/product/gid://shopify/Product/3">Tee SKU-A</a>'
    assert f'<tr data-sku="SKU-A"><td>SKU-A</td><td>{product}</td>\n  <td>2</td><td>10.00</td>' in lines
    assert "<td>1</td>\n  <td>1</td><td>10.00</td>" in lines  # SKU-B: one unit cancelled on TikTok
    totals = page.split('id="totals"')[1].split("</table>")[0]
    assert '<tr data-total="shipping"><th scope="row">Shipping</th><td>3.50</td><td>3.50</td></tr>' in totals
    assert '<tr data-total="subtotal"><th scope="row">Subtotal</th><td>30.00</td><td>30.00</td></tr>' in totals
    packages = page.split('id="packages"')[1].split("</table>")[0]
    assert "PKG-1" in packages and "RM123456789GB" in packages
    assert "PKG-2" in packages and "waiting for the store to fulfil the order" in packages
    refunds = page.split('id="refunds"')[1].split("</table>")[0]
    assert "Return/refund RET-7" in refunds and "1 × SKU-A" in refunds and "restocked" in refunds
    log = page.split('id="journal"')[1].split("</table>")[0]
    assert "-&gt; eCommerce order #1022 (#1022)" in log and "TikTok return RET-7 -&gt; store order #1022" in log
    assert "another order" not in log
    assert 'id="retry-form"' not in page  # created: nothing to retry


def test_a_held_order_is_retried_from_its_page(orders, signed_in):
    ann = signed_in("ann@acme.test")
    page = ann.get(f"/orders/{orders.held}").text
    assert 'id="retry-form"' in page and "match no product linked to this shop" in page
    assert "waiting for the store order to be created" in page and "SKU-9" in page
    assert ann.post(f"/orders/{orders.held}/retry", data={"back": "order"}).status_code == 403  # no CSRF token
    r = ann.form(f"/orders/{orders.held}/retry", {"back": "order"})
    assert r.status_code == 303 and r.headers["location"] == f"/orders/{orders.held}"
    with db.session() as s:
        assert s.get(OrderLink, orders.held).status == "pending"  # type: ignore[union-attr]
        job = s.exec(select(Job).where(Job.flow == "orders")).one()
    assert job.payload["items"] == ["TT-1002"] and job.next_run_at <= utcnow() + timedelta(seconds=1)
    assert "TikTok order TT-1002 queued again" in ann.get(f"/orders/{orders.held}").text
    with pytest.raises(ValueError, match="is not an order of store"):
        manual.retry(orders.held, orders.eco)  # the core checks the order is the shop's


def test_an_order_of_another_organization_or_no_order_is_not_found(orders, signed_in):
    stores.create_org("Other")
    make_user("bob@other.test", ["Other"])
    bob = signed_in("bob@other.test")
    assert bob.get(f"/orders/{orders.created}").status_code == 404
    assert bob.form(f"/orders/{orders.held}/retry").status_code == 404
    ann = signed_in("ann@acme.test")
    assert ann.get("/orders/999999").status_code == 404
    assert ann.get("/orders/nope").status_code == 404


def test_the_orders_list_names_store_orders_and_searches_them(orders, signed_in):
    ann = signed_in("ann@acme.test")
    page = ann.get("/orders").text
    assert "gid://" not in re.sub(r"<[^>]+>", "", page)  # shown text; links may carry the id
    assert f'<a href="/orders/{orders.created}">#1022</a>' in page and "Acme Store" in page
    assert "Return/refund RET-7: 1 × SKU-A 10.00 GBP" in page  # the store's variant by its SKU
    for q in ("#1022", "1022", "TT-1001", "sku-b"):
        found = ann.get("/orders", params={"q": q}).text
        assert "TT-1001" in found and "TT-1002" not in found, q
    found = ann.get("/orders", params={"q": "SKU-9"}).text
    assert "TT-1002" in found and "TT-1001" not in found


def _many(shop: Store, n: int) -> None:
    now = utcnow()
    with db.get_engine().begin() as conn:
        conn.execute(OrderLink.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_store_id": shop.id, "channel_order_id": f"TT-{5000 + i}", "ecommerce_store_id": None,
             "ecommerce_order_id": f"E{i}", "ecommerce_order_number": f"#{2000 + i}", "status": "created",
             "skus": " SKU-A ", "attempts": 1, "data": {}, "created_at": now, "updated_at": now}
            for i in range(n)])


def test_sorting_and_paging_keep_the_filters(orders, signed_in):
    _many(orders.shop, 120)
    ann = signed_in("ann@acme.test")
    page = ann.get("/orders", params={"q": "SKU-A", "sort": "store"}).text
    rows = [ln.split('data-order="')[1].split('"')[0] for ln in page.splitlines() if 'data-order="' in ln]
    assert rows[:3] == ["TT-1001", "TT-5000", "TT-5001"] and len(rows) == 50  # #1022 < #2000 < #2001
    assert 'href="?q=SKU-A&amp;sort=store&amp;page=2"' in page  # the pager keeps search and sort
    assert 'href="?q=SKU-A&amp;sort=-store"' in page  # the sorted column reverses, back to page 1
    last = ann.get("/orders", params={"q": "SKU-A", "sort": "-store", "page": "3"}).text
    rows = [ln.split('data-order="')[1].split('"')[0] for ln in last.splitlines() if 'data-order="' in ln]
    assert len(rows) == 21 and rows[0] == "TT-5019" and rows[-2:] == ["TT-5000", "TT-1001"]
    assert "page 3 of 3" in last
    assert ann.get("/orders", params={"sort": "nonsense"}).status_code == 200  # unknown sort: newest first
    with db.session() as s:
        s.add(OrderLink(channel_store_id=orders.shop.id, channel_order_id="TT-0999",  # type: ignore[arg-type]
                        ecommerce_order_id="E-999", ecommerce_order_number="#999", skus=" SKU-A "))
    page = ann.get("/orders", params={"q": "SKU-A", "sort": "store"}).text
    rows = [ln.split('data-order="')[1].split('"')[0] for ln in page.splitlines() if 'data-order="' in ln]
    assert rows[:2] == ["TT-0999", "TT-1001"]  # #999 before #1022: numbers, not strings


def test_the_orders_list_costs_the_same_queries_for_5_or_50_rows(orders, signed_in):
    ann = signed_in("ann@acme.test")

    def statements(params: dict[str, str]) -> int:
        seen: list[str] = []
        engine = db.get_engine()
        listen = lambda *a: seen.append(a[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listen)
        try:
            assert ann.get("/orders", params=params).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listen)
        return len(seen)

    few = statements({})
    _many(orders.shop, 60)
    assert statements({}) == few


def test_home_counts_runs_on_the_store_they_read_from(orders, signed_in):
    with db.session() as s:
        s.add(SyncRun(flow="products", org_id=orders.shop.org_id, store_id=orders.eco.id,
                      channel_store_id=orders.shop.id, status="ok", counts={"created": 19, "plan.create": 19},
                      finished_at=utcnow()))
    ann = signed_in("ann@acme.test")
    home = ann.get("/").text
    eco_row = home.split(f'data-store="{orders.eco.id}"')[1].split("</tr>")[0]
    assert "not run yet" not in eco_row and "products: 19 of 19 products created" in eco_row
    shop_row = home.split(f'data-store="{orders.shop.id}"')[1].split("</tr>")[0]
    assert "products: 19 of 19 products created" in shop_row and f'href="/orders?shop={orders.shop.id}"' in shop_row
    assert "19 of 19 products created" in ann.get("/activity").text


def test_activity_names_items_as_the_merchant_knows_them(orders, signed_in):
    pid = "gid://shopify/Product/1018"
    with db.session() as s:
        s.add(ListingLink(channel_store_id=orders.shop.id, source_product_id=pid, title="Blue T-shirt",  # type: ignore[arg-type]
                          status="failed"))
    journal.record("listing.rejected", f"{pid}: Material is required", org_id=orders.shop.org_id,
                   store_id=orders.shop.id, flow="products", item=pid, level="error")
    page = signed_in("ann@acme.test").get("/activity").text
    assert "gid://" not in re.sub(r"<[^>]+>", "", page)  # shown text; links may carry the id
    assert "TikTok return RET-7 -&gt; store order #1022: 10.00 GBP" in page
    assert f'<a href="/products/{orders.shop.id}/product/{pid}">Blue T-shirt</a>' in page
    assert f'<a href="/orders/{orders.created}">TikTok order TT-1001 · #1022</a>' in page
    assert "product 1018: Material is required" in page
    assert "TT-9999" in page  # an item bridge keeps no link for: as it is


def test_the_products_list_shows_no_bare_platform_id(orders, signed_in):
    with db.session() as s:
        s.add(ListingLink(channel_store_id=orders.shop.id, source_product_id="gid://shopify/Product/1018",  # type: ignore[arg-type]
                          title="Blue T-shirt", status="live"))
    page = signed_in("ann@acme.test").get(f"/products?shop={orders.shop.id}").text
    assert "Blue T-shirt" in page and "product 1018" in page
    assert "gid://" not in re.sub(r"<[^>]+>", "", page)


@pytest.mark.parametrize(("flow", "counts", "words"), [
    ("products", {"created": 19, "plan.create": 19}, "19 of 19 products created"),
    ("orders", {"failed": 1, "created": 1, "held": 1}, "1 of 3 orders created, 1 held, 1 failed"),
    ("orders", {"created": 1}, "1 of 1 order created"),
    ("tracking", {}, "nothing to do"),
    ("newflow", {"odd_thing": 2}, "2 of 2 items odd thing"),
])
def test_run_counts_say_what_they_count(flow, counts, words):
    assert naming.run_counts(flow, counts) == words


def test_platform_ids_are_shown_as_names():
    assert naming.plain(f"store order {GID} refunded", {GID: "#1022"}) == "store order #1022 refunded"
    assert naming.plain("variant gid://shopify/ProductVariant/44 and more") == "variant product variant 44 and more"
    assert naming.plain(None) == "" and naming.order_name(None, GID) == "order 5551022"
    assert naming.order_name("#7", GID) == "#7"

"""The product page, its actions, the products list (store vs TikTok columns, sorting, search
by SKU, paging that keeps filters, no per-row queries) and the bulk editor, over the fake pair
after a real products sync."""

from __future__ import annotations

import re

from sqlalchemy import event
from sqlmodel import select

from bridge import db
from bridge.sync import run_flow
from bridge.tables import Job, ListingLink, ProductMapping, SkuLink
from bridge.web import queries
from tests.web.conftest import IMG


def _items(job_payload: dict) -> list[str]:
    return job_payload.get("items") or []


def test_the_product_page_shows_store_and_tiktok_side_by_side(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    remote = listed.remote("p1")
    with listed.channel_sb.lock:  # a sale on TikTok: its stock is lower than what bridge sent
        listed.channel_sb.products_[remote]["skus"][0]["quantity"] = 1
    page = ann.get(f"/products/{listed.sid}/product/p1")
    assert page.status_code == 200
    html = page.text
    assert '<h1 id="product-title">Fake product 1</h1>' in html
    assert f'<strong id="remote-id">{remote}</strong>' in html and "badge live" in html
    row = re.search(r'<tr data-sku="SKU-1-1">(.*?)</tr>', html, re.S)
    assert row, html
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    qty = listed.shop_sb.quantity("SKU-1-1")
    assert cells[2:6] == ["10.50", str(qty), "10.50", str(qty)]
    assert cells[6].startswith("1 ") and "differs" in cells[6]
    assert all(f'src="{IMG.format(n)}"' in html for n in range(3))
    assert "Category <strong>101</strong>" in html and "rule product_type=Shirts" in html
    assert "Cotton" in html  # the rule's attribute value
    assert "products.created" in html  # its journal
    assert 'id="no-change"' in html  # the plan: nothing to send
    assert ann.get(f"/products/{listed.sid}/product/nope").status_code == 404
    bob = signed_in("bob@other.test")
    assert bob.get(f"/products/{listed.sid}/product/p1").status_code == 404


def test_overrides_from_the_product_page_are_planned_and_kept(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    url = f"/products/{listed.sid}/product/p1"
    r = ann.form(url, {"action": "overrides", "title": "Hand-picked shirt", "description": "",
                       "price": "+10% round .99", "all_images": [IMG.format(n) for n in range(3)],
                       "image": [IMG.format(0), IMG.format(2)], "pos_0": "2", "pos_2": "1"})
    assert r.status_code == 303 and r.headers["location"] == url
    with db.session() as s:
        m = s.exec(select(ProductMapping)).one()
        job = s.exec(select(Job)).one()
    assert (m.title, m.price, m.images) == ("Hand-picked shirt",
                                           {"markup_percent": "10", "markup_fixed": "0", "rounding": ".99"},
                                           [IMG.format(2), IMG.format(0)])
    assert _items(job.payload) == ["p1"]
    html = ann.get(url).text
    assert "Overrides saved" in html
    assert "SKU-1-1: 11.99 (per-product price +10%, round to .99)" in html
    assert "Overrides used: title, price, images" in html
    assert 'value="+10% round .99"' in html
    # a form without the images to choose from (the store could not be read) leaves the choice alone
    ann.form(url, {"action": "overrides", "title": "Hand-picked shirt", "price": "+10% round .99"})
    with db.session() as s:
        assert s.exec(select(ProductMapping)).one().images == [IMG.format(2), IMG.format(0)]
    # a variant's own price, over the product's rule
    ann.form(url, {"action": "overrides", "title": "Hand-picked shirt", "price": "+10% round .99",
                   "vid": ["p1v1"], "vprice": ["8.00"]})
    with db.session() as s:
        assert s.exec(select(ProductMapping)).one().price["skus"] == {"p1v1": "8.00"}
    assert "SKU-1-1: 8.00 (per-variant price 8.00)" in ann.get(url).text
    bad = ann.form(url, {"action": "overrides", "title": "x", "price": "cheap"})
    assert bad.status_code == 400 and "price &#39;cheap&#39; is not understood" in bad.text


def test_product_actions_call_the_core_functions(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    url = f"/products/{listed.sid}/product/p2"
    remote = listed.remote("p2")

    def link() -> ListingLink:
        with db.session() as s:
            return s.exec(select(ListingLink).where(ListingLink.source_product_id == "p2")).one()

    with listed.channel_sb.lock:  # TikTok froze it: the page asks and records TikTok's status
        listed.channel_sb.products_[remote]["status"] = "frozen"
    assert "TikTok says: frozen." in ann.form(url, {"action": "check"}, follow_redirects=True).text
    assert link().status == "frozen"
    with listed.channel_sb.lock:
        listed.channel_sb.products_[remote]["status"] = "live"
    ann.form(url, {"action": "check"})
    assert ann.form(url, {"action": "exclude"}).status_code == 303
    with db.session() as s:
        assert s.exec(select(ProductMapping)).one().excluded
    assert "Include" in ann.get(url).text
    ann.form(url, {"action": "include"})
    with db.session() as s:
        assert not s.exec(select(ProductMapping)).one().excluded
    ann.form(url, {"action": "unlink"})
    assert (link().status, link().remote_product_id) == ("unlinked", None)
    with db.session() as s:
        assert s.exec(select(SkuLink).where(SkuLink.source_product_id == "p2")).first() is None
    r = ann.form(url, {"action": "relink", "remote_product_id": remote}, follow_redirects=True)
    assert f"Linked 2 SKU(s) to TikTok product {remote}" in r.text
    assert link().remote_product_id == remote
    missing = ann.form(url, {"action": "relink", "remote_product_id": ""})
    assert missing.status_code == 400 and "enter the TikTok product id" in missing.text
    ann.form(url, {"action": "unlink"})
    ann.form(url, {"action": "relist"})
    assert (link().status, link().remote_product_id) == ("pending", None)
    with db.session() as s:  # a held product is retried: sent again as if never sent
        row = s.exec(select(ListingLink).where(ListingLink.source_product_id == "p2")).one()
        row.status, row.content_hash = "held", "x"
        s.add(row)
    assert "Queued: the next sync sends it again" in ann.form(url, {"action": "retry"}, follow_redirects=True).text
    assert (link().status, link().content_hash) == ("pending", None)
    assert ann.form(url, {"action": "dance"}).status_code == 400
    assert ann.post(url, data={"action": "exclude"}).status_code == 403  # no CSRF token


def _list(ann, sid: int, query: str = "") -> list[str]:  # type: ignore[no-untyped-def]
    html = ann.get(f"/products?shop={sid}{query}").text
    return re.findall(r'<tr data-product="([^"]+)">', html)


def test_products_list_columns_sorting_search_and_paging(listed, signed_in, monkeypatch):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    sid = listed.sid
    html = ann.get(f"/products?shop={sid}").text
    row = re.search(r'<tr data-product="p1">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert f'src="{IMG.format(0)}"' in row
    assert '<td class="store-price">10.50</td>' in row and '<td class="tiktok-price">10.50</td>' in row
    qty = listed.shop_sb.quantity("SKU-1-1")
    assert f'<td class="store-stock">{qty}</td>' in row and f'<td class="tiktok-stock">{qty}</td>' in row
    with listed.channel_sb.lock:  # a sale on TikTok: the list shows TikTok's stock, and what was sent
        listed.channel_sb.products_[listed.remote("p1")]["skus"][0]["quantity"] = 1
    html = ann.get(f"/products?shop={sid}").text
    row = re.search(r'<tr data-product="p1">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert f'<td class="tiktok-stock">1 <small class="muted">(sent {qty})</small></td>' in row
    two = re.search(r'<tr data-product="p2">(.*?)</tr>', html, re.S).group(1)  # type: ignore[union-attr]
    assert '<td class="tiktok-price">11.50</td>' in two  # both SKUs at 11.50
    # prices 10.50 .. 15.50 by product number, 6 -> 15.50
    assert _list(ann, sid, "&sort=-price")[0] == "p6"
    assert _list(ann, sid, "&sort=price")[0] == "p1"
    assert _list(ann, sid, "&sort=-title") == ["p6", "p5", "p4", "p3", "p2", "p1"]
    assert _list(ann, sid, "&q=SKU-4-") == ["p4"] == _list(ann, sid, "&q=sku-4")  # the start of a seller SKU
    assert _list(ann, sid, "&sort=nonsense") == _list(ann, sid)
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    page = ann.get(f"/products?shop={sid}&sort=-title&q=Fake").text
    assert re.findall(r'<tr data-product="([^"]+)">', page) == ["p6", "p5"]
    nxt = re.search(r'<a href="\?([^"]+)">next', page).group(1)  # type: ignore[union-attr]
    assert "sort=-title" in nxt and "q=Fake" in nxt and "page=2" in nxt
    assert _list(ann, sid, "&" + nxt.replace("&amp;", "&")) == ["p4", "p3"]


def test_products_list_queries_do_not_grow_with_the_rows(listed, signed_in, monkeypatch):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    counted: list[str] = []

    def count(conn, cursor, statement, *a) -> None:  # type: ignore[no-untyped-def]
        counted.append(statement)

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", count)
    try:
        ann.get(f"/products?shop={listed.sid}&q=Fake+product+1")
        one = len(counted)
        counted.clear()
        ann.get(f"/products?shop={listed.sid}&sort=-price")
        six = len(counted)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert six == one, (one, six)


def test_bulk_editor_previews_the_plan_then_applies(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    sid = listed.sid
    listed.channel_sb.stats.reset()
    preview = ann.form(f"/products/{sid}/edit", {"ids": ["p1", "p3"], "field": "price", "value": "9.99",
                                                 "step": "preview"})
    assert preview.status_code == 200
    assert "SKU-1-1: 9.99 <small>(was 10.50)</small>" in preview.text and "SKU-3-1: 9.99" in preview.text
    assert 'data-product="p2"' not in preview.text
    with db.session() as s:
        assert s.exec(select(ProductMapping)).first() is None  # a preview saves nothing
    assert listed.channel_sb.stats.snapshot()["writes"] == 0
    r = ann.form(f"/products/{sid}/edit", {"ids": ["p1", "p3"], "field": "price", "value": "9.99", "step": "apply"},
                 follow_redirects=True)
    assert "price set on 2 product(s)" in r.text
    with db.session() as s:
        assert {m.source_product_id: m.price for m in s.exec(select(ProductMapping))} == {
            "p1": {"fixed": "9.99"}, "p3": {"fixed": "9.99"}}
    org_id = listed.shop.org_id
    run_flow("products", org_id)
    with db.session() as s:
        sent = {r.seller_sku: r.last_price for r in s.exec(select(SkuLink))}
    assert (sent["SKU-1-1"], sent["SKU-3-1"], sent["SKU-2-1"]) == ("9.99", "9.99", "11.50")
    again = ann.form(f"/products/{sid}/edit", {"ids": ["p1"], "field": "title", "value": "New name",
                                               "step": "preview"})
    assert "New name" in again.text
    assert ann.form(f"/products/{sid}/edit", {"field": "title", "value": "x"}).status_code == 400
    bad = ann.form(f"/products/{sid}/edit", {"ids": ["p1"], "field": "colour", "value": "x"})
    assert bad.status_code == 400 and "choose a field to set" in bad.text


def test_bulk_editor_sets_one_attribute_and_keeps_the_others(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    sid = listed.sid
    from bridge import overrides

    overrides.save(sid, ["p1"], {"attributes": {"Colour": ["Sand"]}})
    form = {"ids": ["p1", "p3"], "field": "attribute", "value": "material=Linen"}
    preview = ann.form(f"/products/{sid}/edit", {**form, "step": "preview"})
    assert preview.status_code == 200
    rows = re.findall(r'<tr data-product="(p\d)">.*?badge \w+">(\w+)<', preview.text, re.S)
    assert rows == [("p1", "update"), ("p3", "update")]
    with db.session() as s:
        assert s.exec(select(ProductMapping)).one().attributes == {"Colour": ["Sand"]}  # nothing saved yet
    ann.form(f"/products/{sid}/edit", {**form, "step": "apply"})
    with db.session() as s:
        got = {m.source_product_id: m.attributes for m in s.exec(select(ProductMapping))}
    assert got == {"p1": {"Colour": ["Sand"], "material": ["Linen"]}, "p3": {"material": ["Linen"]}}
    assert "attributes changed" in preview.text  # Linen over the rule's Cotton
    assert run_flow("products", listed.shop.org_id)[0].counts["updated"] == 2
    bad = ann.form(f"/products/{sid}/edit", {**form, "value": "Linen", "step": "preview"})
    assert bad.status_code == 400 and "Name=Value" in bad.text


def test_exclude_then_reactivate_takes_the_listing_off_and_back_on(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    url = f"/products/{listed.sid}/product/p4"
    remote = listed.remote("p4")
    ann.form(url, {"action": "exclude"})
    run_flow("products", listed.shop.org_id)
    assert listed.channel_sb.products_[remote]["status"] == "deactivated"
    page = ann.get(url).text
    assert "badge deactivated" in page and "Re-activate" in page
    ann.form(url, {"action": "reactivate"})
    assert "activate" in ann.get(url).text  # the next sync's plan: back on sale
    run_flow("products", listed.shop.org_id)
    assert listed.channel_sb.products_[remote]["status"] == "live"
    with db.session() as s:
        assert s.exec(select(ListingLink).where(ListingLink.source_product_id == "p4")).one().status == "live"


def test_the_product_page_without_the_store_product(listed, signed_in):  # type: ignore[no-untyped-def]
    ann = signed_in("ann@acme.test")
    listed.shop_sb.fail_next(1, 400)  # the store refuses the read
    html = ann.get(f"/products/{listed.sid}/product/p1").text
    assert re.search(r'role="alert">.* could not be read: injected failure', html)
    assert '<tr data-sku="SKU-1-1">' in html  # the linked SKUs as bridge knows them
    assert "Unknown while the store product cannot be read" in html
    with listed.shop_sb.lock:  # deleted in the store: the page still shows what bridge knows
        del listed.shop_sb.products_["p1"]
    html = ann.get(f"/products/{listed.sid}/product/p1").text
    assert '<tr data-sku="SKU-1-1">' in html and "could not be read" not in html
    assert 'id="not-in-store"' in html

"""The pages against the fake pair connected through their sandboxes: products and mapping
(category search, suggestion, required attributes), bulk actions, orders and retry, settings
with validation and the live preview, activity filters, /healthz and /metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bridge import db, journal
from bridge.tables import (
    CarrierMapping,
    CategoryRule,
    Job,
    ListingLink,
    OrderLink,
    ProductMapping,
    RefundRecord,
    Store,
    SyncRun,
    TrackingPushRecord,
)
from tests.web.conftest import fake_pair


class Pair:
    def __init__(self, eco: Store, shop: Store) -> None:
        self.eco, self.shop = eco, shop


@pytest.fixture()
def pair(pm) -> Iterator[Pair]:  # type: ignore[no-untyped-def]
    with fake_pair(pm) as (eco, shop):
        with db.session() as s:
            s.add(ListingLink(channel_store_id=shop.id, source_product_id="p1", title="Blue T-shirt",
                              status="failed", reasons=["Material is required"]))
            s.add(ListingLink(channel_store_id=shop.id, source_product_id="p2", title="Red Mug",
                              status="live", remote_product_id="tt-2"))
            s.add(Job(key=f"products:{shop.org_id}:{shop.id}", flow="products", org_id=shop.org_id,
                      channel_store_id=shop.id))
            link = OrderLink(channel_store_id=shop.id, channel_order_id="TT-1001", ecommerce_store_id=eco.id,
                             ecommerce_order_id="E-55", status="created", channel_status="awaiting_shipment")
            held = OrderLink(channel_store_id=shop.id, channel_order_id="TT-1002", status="held",
                             message="variant SKU-9 is unknown")
            s.add_all([link, held])
            s.flush()
            s.add(TrackingPushRecord(order_link_id=link.id, tracking_number="RM123456789GB",  # type: ignore[arg-type]
                                     carrier="Royal Mail", status="pushed"))
            s.add(SyncRun(flow="products", org_id=shop.org_id, store_id=eco.id, channel_store_id=shop.id,
                          status="partial", counts={"created": 1, "failed": 1}))
        journal.record("listing.rejected", "Material is required", org_id=shop.org_id,
                       store_id=shop.id, flow="products", item="p1", level="error")
        yield Pair(eco, shop)


def test_products_page_and_mapping_one_by_one(pair, signed_in):
    ann = signed_in("ann@acme.test")
    sid = pair.shop.id
    page = ann.get(f"/products?shop={sid}").text
    assert "Blue T-shirt" in page and "Material is required" in page and "tt-2" in page
    assert "Red Mug" not in ann.get(f"/products?shop={sid}&status=failed").text
    assert "Blue T-shirt" not in ann.get(f"/products?shop={sid}&q=mug").text
    found = ann.get(f"/products/{sid}/categories?q=shirt&title=Blue+T-shirt").json()
    assert [c["id"] for c in found["categories"]] == ["101"]
    item = ann.get(f"/products/{sid}/item/p1?q=shirt").text
    assert "T-shirts" in item and 'id="suggestion"' in item
    form = ann.get(f"/products/{sid}/item/p1?category_id=101").text
    assert "Material *" in form and "Cotton" in form
    missing = ann.form(f"/products/{sid}/item/p1", {"action": "save", "category_id": "101"})
    assert missing.status_code == 400 and "&#39;Material&#39; is required for this category" in missing.text
    ok = ann.form(f"/products/{sid}/item/p1", {"action": "save", "category_id": "101", "attr_a1": "v1"})
    assert ok.status_code == 303
    with db.session() as s:
        m = s.exec(select(ProductMapping)).one()
        job = s.exec(select(Job)).one()
    assert (m.category_id, m.attributes) == ("101", {"a1": ["v1"]})
    assert job.payload["items"] == ["p1"]


def test_rules_and_bulk_actions(pair, signed_in):
    ann = signed_in("ann@acme.test")
    sid = pair.shop.id
    assert ann.form(f"/products/{sid}/rules", {"facet": "product_type", "value": "Mugs",
                                                "category_id": "200", "category_name": "Mugs"}).status_code == 303
    with db.session() as s:
        rule = s.exec(select(CategoryRule)).one()
    assert (rule.facet, rule.value, rule.category_id) == ("product_type", "Mugs", "200")
    assert "This category asks for no attribute" in ann.get(f"/products/{sid}/rules/{rule.id}").text
    r = ann.form(f"/products/{sid}/bulk", {"ids": ["p1", "p2"], "action": "category", "category_id": "200"})
    assert r.status_code == 303
    ann.form(f"/products/{sid}/bulk", {"ids": ["p1"], "action": "retry"})
    with db.session() as s:
        assert {m.source_product_id: m.category_id for m in s.exec(select(ProductMapping))} == {"p1": "200", "p2": "200"}
        assert s.exec(select(ListingLink).where(ListingLink.source_product_id == "p1")).one().status == "pending"
        assert s.exec(select(ListingLink).where(ListingLink.source_product_id == "p2")).one().status == "live"
    assert ann.form(f"/products/{sid}/bulk", {"action": "retry"}).status_code == 400
    assert ann.form(f"/products/{sid}/rules/{rule.id}", {"action": "delete"}).status_code == 303
    with db.session() as s:
        assert s.exec(select(CategoryRule)).first() is None


def test_orders_with_tracking_and_retry(pair, signed_in):
    ann = signed_in("ann@acme.test")
    with db.session() as s:
        s.add(RefundRecord(channel_store_id=pair.shop.id, kind="return", remote_id="RET-7",  # type: ignore[arg-type]
                           channel_order_id="TT-1001", key="tiktok-return-RET-7", status="applied",
                           channel_status="RETURN_OR_REFUND_REQUEST_COMPLETE", amount="12.50", currency="GBP",
                           lines={"V-1": 1}, restocked=True, result_id="R-900"))
        s.add(RefundRecord(channel_store_id=pair.shop.id, kind="cancel", remote_id="CAN-8",  # type: ignore[arg-type]
                           channel_order_id="TT-1001", key="tiktok-cancel-CAN-8", status="held",
                           channel_status="CANCELLATION_REQUEST_COMPLETE", amount="3.00", currency="GBP",
                           message="order E-55: V-2 has 0 unit(s) left to refund"))
    page = ann.get("/orders").text
    assert "Return/refund RET-7: 1 × V-1 12.50 GBP" in page and "RETURN_OR_REFUND_REQUEST_COMPLETE" in page
    assert "restocked" in page and "R-900" in page
    assert "Cancelled on TikTok CAN-8" in page and "V-2 has 0 unit(s) left to refund" in page
    assert "TT-1001" in page and "E-55" in page and "RM123456789GB" in page
    assert "variant SKU-9 is unknown" in page
    with db.session() as s:
        held = s.exec(select(OrderLink).where(OrderLink.channel_order_id == "TT-1002")).one()
    assert ann.form(f"/orders/{held.id}/retry").status_code == 303
    with db.session() as s:
        assert s.get(OrderLink, held.id).status == "pending"  # type: ignore[union-attr]
    assert "TT-1001" not in ann.get("/orders?q=1002").text


def test_settings_save_validate_preview_and_carriers(pair, signed_in):
    ann = signed_in("ann@acme.test")
    sid = pair.shop.id
    page = ann.get(f"/stores/{sid}/settings").text
    assert "Price rules" in page and "Royal Mail" in page  # providers come from the shop
    ok = ann.form(f"/stores/{sid}/settings", {
        "pricing.markup_percent": "10", "pricing.rounding": ".99", "inventory.buffer_units": "2",
        "templates.title": "{{ product.title }} | Acme", "flows.orders.enabled": "on",
        "flows.orders.interval": "120", "refunds.restock": "always", "products.take_over_content": "on"})
    assert ok.status_code == 303
    with db.session() as s:
        opts = s.get(Store, sid).options  # type: ignore[union-attr]
    assert opts["pricing"]["markup_percent"] == "10" and opts["pricing"]["rounding"] == ".99"
    assert opts["inventory"]["buffer_units"] == 2
    assert opts["flows"]["orders"] == {"enabled": True, "interval": 120}
    assert opts["refunds"] == {"restock": "always"}
    assert opts["flows"]["products"] == {"enabled": False}
    assert opts["products"] == {"take_over_content": True, "recreate_deleted": False, "preflight": False}
    assert "Take over content" in ann.get(f"/stores/{sid}/settings").text
    bad = ann.form(f"/stores/{sid}/settings", {"pricing.markup_percent": "lots"})
    assert bad.status_code == 400 and "markup_percent" in bad.text
    prev = ann.form(f"/stores/{sid}/settings/preview", {"templates.title": "{{ product.title|upper }}!"})
    assert prev.status_code == 200 and prev.json()["title"].endswith("!") and prev.json()["title"].isupper()
    broken = ann.form(f"/stores/{sid}/settings/preview", {"templates.title": "{{ product.title"})
    assert broken.status_code == 400 and "template" in broken.json()["error"]
    assert ann.form(f"/stores/{sid}/settings", {"action": "carrier", "carrier": "RM Tracked",
                                                "provider_id": "P-RM"}).status_code == 303
    with db.session() as s:
        cm = s.exec(select(CarrierMapping)).one()
    assert (cm.carrier, cm.provider_id, cm.provider_name) == ("RM Tracked", "P-RM", "Royal Mail")


def test_home_apps_activity_checklist_disconnect(pair, signed_in):
    ann = signed_in("ann@acme.test")
    home = ann.get("/").text
    assert "Acme" in home and "partial" in home and "Connect TikTok Shop store" in home
    act = ann.get("/activity?level=error").text
    assert "Material is required" in act and "1 of 2 products created, 1 failed" in act
    assert "Material is required" not in ann.get("/activity?kind=store.").text
    assert "API reachable" in ann.get(f"/stores/{pair.eco.id}/prerequisites").text
    sid = pair.shop.id
    assert "Disconnect" in ann.get("/apps").text
    wrong = ann.form(f"/stores/{sid}/disconnect", {"confirm": "nope"})
    assert wrong.status_code == 400
    done = ann.form(f"/stores/{sid}/disconnect", {"confirm": pair.shop.name}, follow_redirects=True)
    assert "disconnected" in done.text
    with db.session() as s:
        row = s.get(Store, sid)
        assert row.status == "disconnected" and row.credentials_enc is None  # type: ignore[union-attr]
        assert s.exec(select(ListingLink)).first() is not None  # links kept


def test_healthz_and_metrics(app, pm):
    with TestClient(app) as c:
        h = c.get("/healthz")
        assert h.status_code == 200 and h.json()["status"] == "ok"
        c.post("/webhooks/fakechannel", content=b"{}", headers={"X-Fake-Signature": "bad"})
        m = c.get("/metrics")
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    assert "# TYPE bridge_webhooks_total counter" in m.text
    assert 'bridge_webhooks_total{outcome="rejected",platform="fakechannel",topic=""}' in m.text


@pytest.mark.parametrize("template", ["{{ 'A' * 30000000 }}",
                                      "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}"])
def test_a_template_over_the_limits_is_refused_when_saved_and_previewed(pair, signed_in, template):
    ann = signed_in("ann@acme.test")
    sid = pair.shop.id
    r = ann.form(f"/stores/{sid}/settings", {"templates.description": template})
    assert r.status_code == 400 and "template" in r.text
    with db.session() as s:
        assert not (s.get(Store, sid).options or {}).get("templates", {}).get("description")  # type: ignore[union-attr]
    prev = ann.form(f"/stores/{sid}/settings/preview", {"templates.description": template})
    assert prev.status_code == 400 and len(prev.content) < 10_000

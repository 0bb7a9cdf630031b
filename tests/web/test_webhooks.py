"""Webhook receivers: good, bad and repeated deliveries for each receiver; the signature is
checked before the body is parsed; the work is queued as scheduler triggers."""

from __future__ import annotations

import json

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bridge import db, metrics
from bridge.tables import Event, Job, Store, WebhookSeen
from tests.fakes.common import sign as fake_sign
from tests.web import oauth_fake
from tests.web.conftest import make_store


def _jobs(org_id: int, channel_id: int) -> None:
    with db.session() as s:
        for flow in ("products", "listings", "inventory", "orders", "tracking"):
            s.add(Job(key=f"{flow}:{org_id}:{channel_id}", flow=flow, org_id=org_id,
                      channel_store_id=channel_id, interval_s=3600))


def _job(flow: str) -> Job:
    with db.session() as s:
        return s.exec(select(Job).where(Job.flow == flow)).one()


@pytest.fixture()
def setup(pm):  # type: ignore[no-untyped-def]
    from bridge import stores

    org = stores.create_org("Acme")
    eco = make_store(org.id, "fakeshop", "ecommerce", "fakeshop-1", "Fake Store")  # type: ignore[arg-type]
    shop = make_store(org.id, "fakechannel", "channel", "shop-1", "Fake Shop")  # type: ignore[arg-type]
    oshop = make_store(org.id, "oauthchannel", "channel", "shop-gb-1", "GB Shop")  # type: ignore[arg-type]
    _jobs(org.id, shop.id)  # type: ignore[arg-type]
    return org, eco, shop, oshop


#: (platform, url kind, signer, header, body maker)
RECEIVERS = [
    ("fakeshop", "store", fake_sign, "X-Fake-Signature",
     lambda did, kind, ids: {"delivery_id": did, "kind": kind, "ids": ids}),
    ("fakechannel", "app", fake_sign, "X-Fake-Signature",
     lambda did, kind, ids: {"delivery_id": did, "kind": kind, "ids": ids}),
    ("oauthchannel", "app", oauth_fake.sign, "X-Sig",
     lambda did, kind, ids: {"id": did, "shop": "shop-gb-1", "kind": kind, "ids": ids}),
]


def _url(platform: str, how: str, setup) -> str:  # type: ignore[no-untyped-def]
    _org, eco, shop, oshop = setup
    store = {"fakeshop": eco, "fakechannel": shop, "oauthchannel": oshop}[platform]
    return f"/webhooks/{platform}/{store.id}" if how == "store" else f"/webhooks/{platform}"


@pytest.mark.parametrize("platform,how,signer,header,body", RECEIVERS, ids=[r[0] for r in RECEIVERS])
def test_good_bad_and_repeated_deliveries(app, setup, platform, how, signer, header, body):
    url = _url(platform, how, setup)
    kind = "product" if platform == "fakeshop" else "order"
    raw = json.dumps(body("d-1", kind, ["42", "43"])).encode()
    with TestClient(app) as c:
        bad = c.post(url, content=raw, headers={header: "forged"})
        assert bad.status_code == 401
        with db.session() as s:
            assert s.exec(select(WebhookSeen)).first() is None
            assert s.exec(select(Event).where(Event.kind == "webhook.rejected")).one()
        good = c.post(url, content=raw, headers={header: signer(raw)})
        assert good.status_code == 200 and good.json()["duplicate"] is False
        again = c.post(url, content=raw, headers={header: signer(raw)})
        assert again.status_code == 200 and again.json()["duplicate"] is True
    with db.session() as s:
        assert len(s.exec(select(WebhookSeen)).all()) == 1
    assert metrics.value("bridge_webhooks_total", platform=platform, outcome="duplicate") >= 1
    if platform == "fakeshop":
        assert _job("products").payload["items"] == ["42", "43"]
    elif platform == "fakechannel":
        assert _job("orders").payload["items"] == ["42", "43"]


def test_signature_is_checked_before_the_body_is_parsed(app, setup):
    with TestClient(app) as c:
        r = c.post("/webhooks/fakechannel", content=b"{not json", headers={"X-Fake-Signature": "x"})
    assert r.status_code == 401


def test_repeat_changes_nothing_queued_again(app, setup):
    raw = json.dumps({"delivery_id": "d-9", "kind": "inventory", "ids": ["7"]}).encode()
    _org, eco, _shop, _o = setup
    with TestClient(app) as c:
        assert c.post(f"/webhooks/fakeshop/{eco.id}", content=raw,
                      headers={"X-Fake-Signature": fake_sign(raw)}).status_code == 200
        with db.session() as s:  # the job ran meanwhile
            job = s.exec(select(Job).where(Job.flow == "inventory")).one()
            job.payload = {}
            s.add(job)
        assert c.post(f"/webhooks/fakeshop/{eco.id}", content=raw,
                      headers={"X-Fake-Signature": fake_sign(raw)}).json()["duplicate"]
    assert _job("inventory").payload == {}


def test_unknown_store_and_platform(app, setup):
    raw = b'{"delivery_id": "x", "kind": "product"}'
    with TestClient(app) as c:
        assert c.post("/webhooks/fakeshop/999", content=raw,
                      headers={"X-Fake-Signature": fake_sign(raw)}).status_code == 404
        assert c.post("/webhooks/nosuch", content=raw).status_code == 404
        assert c.post("/webhooks/fakeshop/abc", content=raw).status_code == 404


def test_uninstalled_marks_the_store_needs_reconnect(app, setup):
    raw = json.dumps({"id": "u-1", "shop": "shop-gb-1", "kind": "uninstalled"}).encode()
    with TestClient(app) as c:
        assert c.post("/webhooks/oauthchannel", content=raw,
                      headers={"X-Sig": oauth_fake.sign(raw)}).status_code == 200
    with db.session() as s:
        row = s.exec(select(Store).where(Store.remote_id == "shop-gb-1")).one()
    assert row.status == "needs_reconnect" and "connect it again" in (row.status_message or "")


def test_channel_listing_events_trigger_the_linked_source_products(app, setup):
    from bridge.tables import ListingLink

    _org, _eco, shop, _o = setup
    with db.session() as s:
        s.add(ListingLink(channel_store_id=shop.id, source_product_id="src-1", remote_product_id="tt-1"))
    raw = json.dumps({"delivery_id": "l-1", "kind": "listing_status", "ids": ["tt-1"]}).encode()
    with TestClient(app) as c:
        assert c.post("/webhooks/fakechannel", content=raw,
                      headers={"X-Fake-Signature": fake_sign(raw)}).status_code == 200
    assert _job("listings").payload["items"] == ["src-1"]


def test_channel_refund_events_trigger_the_refunds_flow_for_their_orders(app, setup):
    org, _eco, shop, _o = setup
    with db.session() as s:
        s.add(Job(key=f"refunds:{org.id}:{shop.id}", flow="refunds", org_id=org.id,
                  channel_store_id=shop.id, interval_s=3600))
    raw = json.dumps({"delivery_id": "r-1", "kind": "refund", "ids": ["T-77"]}).encode()
    with TestClient(app) as c:
        assert c.post("/webhooks/fakechannel", content=raw,
                      headers={"X-Fake-Signature": fake_sign(raw)}).status_code == 200
    assert _job("refunds").payload["items"] == ["T-77"]
    assert "items" not in (_job("orders").payload or {})


def test_store_refund_events_trigger_the_refunds_flow_of_the_shop_holding_the_order(app, setup):
    from bridge.tables import OrderLink

    org, eco, shop, _o = setup
    with db.session() as s:
        s.add(Job(key=f"refunds:{org.id}:{shop.id}", flow="refunds", org_id=org.id,
                  channel_store_id=shop.id, interval_s=3600))
        s.add(OrderLink(channel_store_id=shop.id, channel_order_id="T-88", ecommerce_store_id=eco.id,
                        ecommerce_order_id="E-5", status="created"))
    raw = json.dumps({"delivery_id": "r-2", "kind": "refund", "ids": ["E-5", "E-unknown"]}).encode()
    with TestClient(app) as c:
        assert c.post(f"/webhooks/fakeshop/{eco.id}", content=raw,
                      headers={"X-Fake-Signature": fake_sign(raw)}).status_code == 200
    assert _job("refunds").payload["items"] == ["T-88"]

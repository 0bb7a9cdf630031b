"""A delivery is for the store its signed content names: one signed for store A and posted to
store B's address is refused (nothing queued, B untouched)."""

from __future__ import annotations

import json

from sqlmodel import select
from starlette.testclient import TestClient

from bridge import db, stores
from bridge.tables import Event, Store
from tests.web import oauth_fake
from tests.web.conftest import make_store


def test_a_delivery_signed_for_one_store_is_refused_at_anothers_address(app, pm):
    org = stores.create_org("Acme")
    other = stores.create_org("Other")
    make_store(org.id, "oauthchannel", "channel", "shop-a", "Shop A")  # type: ignore[arg-type]
    b = make_store(other.id, "oauthchannel", "channel", "shop-b", "Shop B")  # type: ignore[arg-type]
    raw = json.dumps({"id": "u-1", "shop": "shop-a", "kind": "uninstalled"}).encode()
    with TestClient(app) as c:
        r = c.post(f"/webhooks/oauthchannel/{b.id}", content=raw, headers={"X-Sig": oauth_fake.sign(raw)})
        assert r.status_code == 401
        mine = json.dumps({"id": "u-2", "shop": "shop-b", "kind": "ping"}).encode()
        assert c.post(f"/webhooks/oauthchannel/{b.id}", content=mine,
                      headers={"X-Sig": oauth_fake.sign(mine)}).status_code == 200
    with db.session() as s:
        assert s.get(Store, b.id).status == "active"
        rejected = s.exec(select(Event).where(Event.kind == "webhook.rejected")).one()
    assert "names another store" in rejected.message


def test_forged_deliveries_write_a_bounded_number_of_journal_rows(app, pm):
    from bridge import webhooks

    org = stores.create_org("Acme")
    a = make_store(org.id, "oauthchannel", "channel", "shop-a", "Shop A")  # type: ignore[arg-type]
    raw = b'{"id": "x", "shop": "shop-a", "kind": "ping"}'
    with TestClient(app) as c:
        for _ in range(60):
            assert c.post(f"/webhooks/oauthchannel/{a.id}", content=raw,
                          headers={"X-Sig": "forged"}).status_code == 401
    with db.session() as s:
        rows = s.exec(select(Event).where(Event.kind == "webhook.rejected")).all()
    assert 1 <= len(rows) <= webhooks.REJECTED_JOURNAL_PER_MINUTE


def test_tiktok_and_shopify_deliveries_for_store_a_are_refused_at_store_bs_address(monkeypatch):
    import base64
    import hashlib
    import hmac

    from bridge import webhooks
    from bridge.models import WebhookRequest
    from bridge.plugins import PluginManager, set_manager

    secret = "binding-test-secret"
    for k, v in {"BRIDGE_TIKTOKSHOP_APP_KEY": "key", "BRIDGE_TIKTOKSHOP_APP_SECRET": secret,
                 "BRIDGE_SHOPIFY_CLIENT_SECRET": secret}.items():
        monkeypatch.setenv(k, v)
    pm = PluginManager(load_entrypoints=True)
    set_manager(pm)
    org, other = stores.create_org("Acme"), stores.create_org("Other")
    make_store(org.id, "tiktokshop", "channel", "7001", "Shop A")  # type: ignore[arg-type]
    tb = make_store(other.id, "tiktokshop", "channel", "7002", "Shop B")  # type: ignore[arg-type]
    make_store(org.id, "shopify", "ecommerce", "a.myshopify.com", "Store A")  # type: ignore[arg-type]
    sb = make_store(other.id, "shopify", "ecommerce", "b.myshopify.com", "Store B")  # type: ignore[arg-type]

    tiktok = json.dumps({"type": 6, "shop_id": "7001", "tts_notification_id": "n1", "data": {}}).encode()
    signed = hmac.new(secret.encode(), b"key" + tiktok, hashlib.sha256).hexdigest()
    out = webhooks.receive("tiktokshop", WebhookRequest(headers={"Authorization": signed}, body=tiktok),
                           store_id=tb.id, pm=pm)
    assert out.status == 401

    shop = b'{"id": 1, "myshopify_domain": "a.myshopify.com", "updated_at": "2099-01-01T00:00:00Z"}'
    sig = base64.b64encode(hmac.new(secret.encode(), shop, hashlib.sha256).digest()).decode()
    for domain in ("a.myshopify.com", "b.myshopify.com"):  # as sent, and with the unsigned header forged
        out = webhooks.receive("shopify", WebhookRequest(headers={
            "X-Shopify-Hmac-Sha256": sig, "X-Shopify-Topic": "app/uninstalled",
            "X-Shopify-Shop-Domain": domain}, body=shop), store_id=sb.id, pm=pm)
        assert out.status == 401, domain
    with db.session() as s:
        assert s.get(Store, tb.id).status == "active" and s.get(Store, sb.id).status == "active"

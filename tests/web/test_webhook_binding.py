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

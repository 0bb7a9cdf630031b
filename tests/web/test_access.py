"""A user of one organization cannot read or change another's store, mapping, order or
setting by guessing ids; an operator sees all. Every form needs the session's CSRF token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from bridge import db, journal, stores
from bridge.tables import (
    CarrierMapping,
    CategoryRule,
    ListingLink,
    OAuthState,
    OrderLink,
    ProductMapping,
    Store,
    utcnow,
)
from tests.web.conftest import make_store, make_user


class World:
    """Two organizations, each with a shop, a listing, an order, a rule and a carrier mapping."""

    def __init__(self) -> None:
        self.ids: dict[str, dict[str, int]] = {}
        for name in ("Alpha", "Beta"):
            org = stores.create_org(name)
            eco = make_store(org.id, "fakeshop", "ecommerce", f"eco-{name}", f"{name} Store")
            shop = make_store(org.id, "fakechannel", "channel", f"shop-{name}", f"{name} Shop")
            with db.session() as s:
                s.add(ListingLink(channel_store_id=shop.id, source_product_id=f"p-{name}",
                                  title=f"{name} Mug", status="failed", reasons=["image too small"]))
                order = OrderLink(channel_store_id=shop.id, channel_order_id=f"o-{name}",
                                  ecommerce_store_id=eco.id, status="held", message="out of stock")
                rule = CategoryRule(channel_store_id=shop.id, facet="all", value="*", category_id="200")
                carrier = CarrierMapping(org_id=org.id, carrier=f"{name} Post", provider_id="P-RM")
                s.add_all([order, rule, carrier])
                s.flush()
                self.ids[name] = {"org": org.id, "eco": eco.id, "shop": shop.id, "order": order.id,
                                  "rule": rule.id, "carrier": carrier.id}
            journal.record("test.event", f"{name} secret event", org_id=org.id, store_id=shop.id)
        make_user("alice@alpha.test", ["Alpha"])
        make_user("bob@beta.test", ["Beta"])
        make_user("root@ops.test", operator=True)


@pytest.fixture()
def world(pm) -> World:  # type: ignore[no-untyped-def]
    return World()


def _store(sid: int) -> Store:
    with db.session() as s:
        row = s.get(Store, sid)
        assert row is not None
        return row


def test_pages_show_only_the_users_organizations(world, signed_in):
    alice = signed_in("alice@alpha.test")
    for url in ("/", "/apps", "/orders", "/activity", "/products"):
        page = alice.get(url)
        assert page.status_code == 200, url
        assert "Beta" not in page.text and "o-Beta" not in page.text, url
    assert "Alpha Shop" in alice.get("/").text
    assert "o-Alpha" in alice.get("/orders").text
    assert "Alpha secret event" in alice.get("/activity").text
    root = signed_in("root@ops.test")
    home = root.get("/").text
    assert "Alpha Shop" in home and "Beta Shop" in home
    assert "o-Beta" in root.get("/orders").text


def test_guessed_ids_of_another_organization_are_not_found(world, signed_in):
    alice = signed_in("alice@alpha.test")
    b = world.ids["Beta"]
    reads = [f"/stores/{b['shop']}/settings", f"/stores/{b['shop']}/disconnect",
             f"/stores/{b['shop']}/prerequisites", f"/stores/{b['eco']}/prerequisites",
             f"/products?shop={b['shop']}", f"/products/{b['shop']}/categories?q=mug",
             f"/products/{b['shop']}/rules/{b['rule']}", f"/products/{b['shop']}/item/p-Beta",
             f"/orders?shop={b['shop']}", f"/activity?store={b['shop']}"]
    for url in reads:
        r = alice.get(url)
        assert r.status_code == 404, url
        assert "Beta" not in r.text, url
    # a's own shop with b's rule id / product id is not a way in either
    a = world.ids["Alpha"]
    assert alice.get(f"/products/{a['shop']}/rules/{b['rule']}").status_code == 404
    assert alice.get(f"/products/{a['shop']}/item/p-Beta").status_code == 404


def test_changes_to_another_organization_are_refused_and_nothing_changes(world, signed_in):
    alice = signed_in("alice@alpha.test")
    a, b = world.ids["Alpha"], world.ids["Beta"]
    writes = [
        (f"/stores/{b['shop']}/disconnect", {"confirm": "Beta Shop"}),
        (f"/stores/{b['shop']}/settings", {"pricing.markup_percent": "50"}),
        (f"/stores/{a['shop']}/settings", {"action": "carrier_delete", "carrier_id": str(b["carrier"])}),
        (f"/products/{b['shop']}/rules", {"facet": "all", "category_id": "101"}),
        (f"/products/{b['shop']}/rules/{b['rule']}", {"action": "delete"}),
        (f"/products/{b['shop']}/bulk", {"ids": "p-Beta", "action": "exclude"}),
        (f"/products/{b['shop']}/item/p-Beta", {"action": "save", "category_id": "200"}),
        (f"/orders/{b['order']}/retry", {}),
    ]
    for url, data in writes:
        assert alice.form(url, data).status_code == 404, url
    shop = _store(b["shop"])
    assert shop.status == "active" and not shop.options
    with db.session() as s:
        assert s.get(CarrierMapping, b["carrier"]) is not None
        assert s.get(CategoryRule, b["rule"]) is not None
        assert len(s.exec(select(CategoryRule).where(CategoryRule.channel_store_id == b["shop"])).all()) == 1
        assert s.exec(select(ProductMapping)).first() is None
        assert s.get(OrderLink, b["order"]).status == "held"  # type: ignore[union-attr]


def test_operator_may_change_any_organization(world, signed_in):
    root = signed_in("root@ops.test")
    b = world.ids["Beta"]
    r = root.form(f"/stores/{b['shop']}/disconnect", {"confirm": "Beta Shop"})
    assert r.status_code == 303
    assert _store(b["shop"]).status == "disconnected"


def test_connect_outcome_of_another_user_is_not_found(world, signed_in):
    with db.session() as s:
        s.add(OAuthState(state="tok-alice", platform="oauthchannel", user_id=1,
                         data={"kind": "outcome", "results": [], "pending": None, "names": []},
                         expires_at=utcnow() + timedelta(hours=1)))
    bob = signed_in("bob@beta.test")
    assert bob.get("/connect/done/tok-alice").status_code == 404
    assert bob.form("/connect/done/tok-alice", {"index": "0", "org_id": "2"}).status_code == 404
    alice = signed_in("alice@alpha.test")
    assert alice.get("/connect/done/tok-alice").status_code == 200


def test_every_form_needs_the_sessions_csrf_token(world, signed_in):
    alice = signed_in("alice@alpha.test")
    bob = signed_in("bob@beta.test")
    a = world.ids["Alpha"]
    posts = [
        (f"/stores/{a['shop']}/disconnect", {"confirm": "Alpha Shop"}),
        (f"/stores/{a['shop']}/settings", {"pricing.markup_percent": "50"}),
        (f"/products/{a['shop']}/rules", {"facet": "all", "category_id": "101"}),
        (f"/products/{a['shop']}/bulk", {"ids": "p-Alpha", "action": "exclude"}),
        (f"/orders/{a['order']}/retry", {}),
        ("/waitlist", {"region": "US", "email": "a@b.co"}),
        ("/connect/oauthchannel/start", {"region": "GB"}),
        ("/logout", {}),
    ]
    for url, data in posts:
        assert alice.post(url, data=data).status_code == 403, url  # no token
        assert alice.post(url, data={**data, "csrf_token": bob.csrf}).status_code == 403, url
    assert _store(a["shop"]).status == "active" and not _store(a["shop"]).options
    with db.session() as s:
        assert s.exec(select(ProductMapping)).first() is None
        assert len(s.exec(select(CategoryRule)).all()) == 2
    # and with the token the same forms work
    assert alice.form(f"/products/{a['shop']}/bulk", {"ids": "p-Alpha", "action": "exclude"}).status_code == 303
    with db.session() as s:
        assert s.exec(select(ProductMapping)).one().excluded

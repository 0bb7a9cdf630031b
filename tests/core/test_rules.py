"""The organization/store rules, through the same code the CLI and the admin pages use."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bridge import db, stores
from bridge.errors import Misconfigured, RulesViolation
from bridge.models import StoreInfo
from bridge.tables import OrderLink, SkuLink, Store, WaitlistEntry
from bridge.waitlist import join


def info(remote_id: str, currency: str = "GBP", region: str | None = None, name: str | None = None) -> StoreInfo:
    return StoreInfo(remote_id=remote_id, name=name or f"store {remote_id}", currency=currency,
                     region=region, credentials={"token": f"tok-{remote_id}"})


def test_one_ecommerce_store_per_org(fake_pm):
    org = stores.create_org("Acme")
    stores.save_store(org, "fakeshop", info("s1", name="First shop"), fake_pm)
    with pytest.raises(RulesViolation) as err:
        stores.save_store(org, "fakeshop", info("s2"), fake_pm)
    msg = str(err.value)
    assert "First shop" in msg and "disconnect" in msg and "another organization" in msg


def test_any_number_of_channel_stores(fake_pm):
    org = stores.create_org("Acme")
    stores.save_store(org, "fakeshop", info("s1"), fake_pm)
    for i in range(3):
        stores.save_store(org, "fakechannel", info(f"c{i}", region="GB"), fake_pm)
    assert len(stores.list_stores(org.id)) == 4


def test_remote_store_in_one_org_at_a_time(fake_pm):
    a, b = stores.create_org("A"), stores.create_org("B")
    stores.save_store(a, "fakechannel", info("c1", region="GB"), fake_pm)
    with pytest.raises(RulesViolation, match="already connected to organization 'A'"):
        stores.save_store(b, "fakechannel", info("c1", region="GB"), fake_pm)


@pytest.mark.parametrize("first", ["ecommerce", "channel"])
def test_currency_must_match_whichever_comes_first(fake_pm, first):
    org = stores.create_org("Acme")
    eco, ch = info("s1", "EUR"), info("c1", "GBP", region="GB")
    if first == "ecommerce":
        stores.save_store(org, "fakeshop", eco, fake_pm)
        with pytest.raises(RulesViolation) as err:
            stores.save_store(org, "fakechannel", ch, fake_pm)
    else:
        stores.save_store(org, "fakechannel", ch, fake_pm)
        with pytest.raises(RulesViolation) as err:
            stores.save_store(org, "fakeshop", eco, fake_pm)
    msg = str(err.value)
    assert "GBP" in msg and "EUR" in msg and "enable GBP" in msg


def test_us_region_offers_the_waitlist(fake_pm):
    org = stores.create_org("Acme")
    with pytest.raises(RulesViolation, match="not yet supported.*waitlist join --region US"):
        stores.save_store(org, "fakechannel", info("c1", "USD", region="US"), fake_pm)
    with pytest.raises(RulesViolation, match="not supported"):
        stores.save_store(org, "fakechannel", info("c2", "JPY", region="JP"), fake_pm)
    for region in ["GB", "SG", "VN", "TH", "MY", "ID", "PH", "CN", "HK", "UK"]:
        o = stores.create_org(f"org-{region}")
        stores.save_store(o, "fakechannel", info(f"c-{region}", region=region), fake_pm)


def test_waitlist_records_once():
    assert join("US", "Merchant@Example.com") is True
    assert join("us", "merchant@example.com") is False
    with db.session() as s:
        assert len(s.exec(select(WaitlistEntry)).all()) == 1
    with pytest.raises(Misconfigured, match="already supported"):
        join("GB", "a@b.co")
    with pytest.raises(Misconfigured, match="not an email"):
        join("US", "nope")


def test_disconnect_keeps_links_and_reconnect_resumes(fake_pm):
    org = stores.create_org("Acme")
    eco = stores.save_store(org, "fakeshop", info("s1"), fake_pm)
    ch = stores.save_store(org, "fakechannel", info("c1", region="GB"), fake_pm)
    with db.session() as s:
        s.add(SkuLink(channel_store_id=ch.id, source_product_id="p1", source_variant_id="v1",
                      seller_sku="SKU1", remote_product_id="TP1", remote_sku_id="TS1"))
        s.add(OrderLink(channel_store_id=ch.id, channel_order_id="T1", ecommerce_store_id=eco.id,
                        ecommerce_order_id="o1", status="created"))
    stores.disconnect(ch.id)
    with db.session() as s:
        row = s.get(Store, ch.id)
        assert row.status == "disconnected" and row.credentials_enc is None
        assert s.exec(select(SkuLink)).one().remote_sku_id == "TS1"
    again = stores.save_store(org, "fakechannel", info("c1", region="GB"), fake_pm)
    assert again.id == ch.id and again.status == "active"
    with db.session() as s:
        assert len(s.exec(select(OrderLink)).all()) == 1


def test_disconnected_store_cannot_move_without_purge(fake_pm):
    a, b = stores.create_org("A"), stores.create_org("B")
    ch = stores.save_store(a, "fakechannel", info("c1", region="GB"), fake_pm)
    stores.disconnect(ch.id)
    with pytest.raises(RulesViolation, match="--purge"):
        stores.save_store(b, "fakechannel", info("c1", region="GB"), fake_pm)
    stores.disconnect(ch.id, purge=True)
    moved = stores.save_store(b, "fakechannel", info("c1", region="GB"), fake_pm)
    assert moved.org_id == b.id


def test_purge_deletes_links_and_history(fake_pm):
    org = stores.create_org("Acme")
    ch = stores.save_store(org, "fakechannel", info("c1", region="GB"), fake_pm)
    with db.session() as s:
        s.add(SkuLink(channel_store_id=ch.id, source_product_id="p1", source_variant_id="v1", seller_sku="S"))
    stores.disconnect(ch.id, purge=True)
    with db.session() as s:
        assert s.exec(select(SkuLink)).all() == []
        assert s.get(Store, ch.id) is None

"""The organization/store rules, through the same code the CLI and the admin pages use."""

from __future__ import annotations

import pytest
from sqlmodel import select

from bridge import db, hookimpl, stores
from bridge.errors import Misconfigured, RulesViolation
from bridge.models import Market, Markets, PlatformInfo, StoreInfo
from bridge.tables import OrderLink, RefundRecord, SkuLink, Store, WaitlistEntry
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
    with pytest.raises(RulesViolation, match="already connected to another organization") as err:
        stores.save_store(b, "fakechannel", info("c1", region="GB"), fake_pm)
    assert "'A'" not in str(err.value)  # the other organization is not named


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


def _channel(name: str, markets: Markets | None) -> object:
    """A channel plugin module that declares ``markets`` (and nothing else)."""

    class Plugin:
        @hookimpl
        def describe_platform(self) -> PlatformInfo:
            return PlatformInfo(name=name, kind="channel", display_name=name.title(), markets=markets)

        @hookimpl
        def connect(self) -> StoreInfo:
            raise AssertionError("not called")

    return Plugin()


TIKTOK_LIKE = Markets(
    served=[Market(code=c, name=c) for c in ["GB", "SG", "VN", "TH", "MY", "ID", "PH"]],
    waitlist=[Market(code="US", name="United States")],
    cross_border_from=[Market(code="CN", name="China mainland"), Market(code="HK", name="Hong Kong SAR")],
    aliases={"UK": "GB"},
)


@pytest.fixture()
def market_pm(fake_pm):
    fake_pm.register(_channel("tiktoklike", TIKTOK_LIKE), name="tiktoklike", distribution="tests", version="0")
    fake_pm.register(_channel("westchannel", Markets(served=[Market(code="US", name="United States"),
                                                             Market(code="DE", name="Germany")])),
                     name="westchannel", distribution="tests", version="0")
    fake_pm.register(_channel("anywhere", None), name="anywhere", distribution="tests", version="0")
    return fake_pm


def test_channel_markets_are_the_plugins_declaration(market_pm):
    org = stores.create_org("Acme")
    with pytest.raises(RulesViolation, match=r"Tiktoklike United States \(US\) is not yet supported.*"
                                             r"waitlist join --platform tiktoklike --region US"):
        stores.save_store(org, "tiktoklike", info("c1", "USD", region="US"), market_pm)
    with pytest.raises(RulesViolation, match="market DE is not supported: Tiktoklike stores sell in") as err:
        stores.save_store(org, "tiktoklike", info("c2", "EUR", region="DE"), market_pm)
    assert "waitlist" not in str(err.value)
    for region in ["GB", "SG", "VN", "TH", "MY", "ID", "PH", "UK"]:
        o = stores.create_org(f"org-{region}")
        row = stores.save_store(o, "tiktoklike", info(f"c-{region}", region=region), market_pm)
        assert row.region == ("GB" if region == "UK" else region)


def test_cross_border_sellers_from_the_declared_bases_only(market_pm):
    for base in ["CN", "HK"]:
        o = stores.create_org(f"org-{base}")
        shop = info(f"cb-{base}", "SGD", region="SG")
        shop.seller_region = base
        row = stores.save_store(o, "tiktoklike", shop, market_pm)
        assert row.details["seller_region"] == base
    shop = info("cb-kr", "SGD", region="SG")
    shop.seller_region = "KR"
    with pytest.raises(RulesViolation, match="based in KR: bridge takes cross-border sellers based in "
                                             r"China mainland \(CN\), Hong Kong SAR \(HK\)"):
        stores.save_store(stores.create_org("org-KR"), "tiktoklike", shop, market_pm)
    shop = info("cb-us", "USD", region="US")  # a cross-border seller into the US: still the waitlist
    shop.seller_region = "CN"
    with pytest.raises(RulesViolation, match="not yet supported"):
        stores.save_store(stores.create_org("org-CN-US"), "tiktoklike", shop, market_pm)
    gb = info("cb-gb", region="GB")
    gb.seller_region = "FR"
    with pytest.raises(RulesViolation, match="cross-border"):
        stores.save_store(stores.create_org("org-FR"), "tiktoklike", gb, market_pm)


def test_a_third_party_channel_is_not_sent_to_another_platforms_waitlist(market_pm):
    row = stores.save_store(stores.create_org("A"), "westchannel", info("w1", "USD", region="US"), market_pm)
    assert row.region == "US"
    stores.save_store(stores.create_org("B"), "westchannel", info("w2", "EUR", region="DE"), market_pm)
    with pytest.raises(RulesViolation) as err:
        stores.save_store(stores.create_org("C"), "westchannel", info("w3", "JPY", region="JP"), market_pm)
    assert "Westchannel stores sell in United States (US), Germany (DE)" in str(err.value)
    assert "waitlist" not in str(err.value) and "TikTok" not in str(err.value)
    shop = info("w4", "USD", region="US")
    shop.seller_region = "CN"
    with pytest.raises(RulesViolation, match="bridge takes no cross-border sellers for Westchannel"):
        stores.save_store(stores.create_org("D"), "westchannel", shop, market_pm)
    # a channel that declares no markets is not checked at all
    for region in ["US", "DE", "JP", None]:
        stores.save_store(stores.create_org(f"any-{region}"), "anywhere", info(f"a-{region}", region=region),
                          market_pm)


def test_waitlists_are_per_platform(market_pm):
    assert join("US", "Merchant@Example.com", pm=market_pm) is True  # the only channel with a US waitlist
    assert join("us", "merchant@example.com", platform="tiktoklike", pm=market_pm) is False
    with db.session() as s:
        [entry] = s.exec(select(WaitlistEntry)).all()
    assert (entry.platform, entry.region, entry.email) == ("tiktoklike", "US", "merchant@example.com")
    with pytest.raises(Misconfigured, match="Westchannel serves US already: connect a store with "
                                            "`bridge connect westchannel`"):
        join("US", "a@b.co", platform="westchannel", pm=market_pm)
    with pytest.raises(Misconfigured, match="no waitlist for region 'JP'"):
        join("JP", "a@b.co", pm=market_pm)


def test_waitlist_records_once(market_pm):
    assert join("US", "Merchant@Example.com", pm=market_pm) is True
    assert join("us", "merchant@example.com", pm=market_pm) is False
    with db.session() as s:
        assert len(s.exec(select(WaitlistEntry)).all()) == 1
    with pytest.raises(Misconfigured, match="serves GB already"):
        join("GB", "a@b.co", platform="tiktoklike", pm=market_pm)
    with pytest.raises(Misconfigured, match="not an email"):
        join("US", "nope", pm=market_pm)


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


def test_purge_deletes_refund_records(fake_pm):
    org = stores.create_org("Acme")
    ch = stores.save_store(org, "fakechannel", info("c1", region="GB"), fake_pm)
    with db.session() as s:
        s.add(RefundRecord(channel_store_id=ch.id, kind="return", remote_id="r1", channel_order_id="o1",
                           key="bridge-return-r1"))
    stores.disconnect(ch.id, purge=True)
    with db.session() as s:
        assert s.exec(select(RefundRecord)).all() == []
        assert s.get(Store, ch.id) is None

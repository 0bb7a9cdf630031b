"""Connecting: authorization link, code exchange, given tokens, refresh, prerequisites."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bridge.errors import Misconfigured, NeedsReconnect
from bridge_tiktokshop import connector


def test_authorize_page_redirects_with_code_and_exchange_gives_one_store_per_shop(sandbox, server) -> None:
    app = sandbox.app_context(server.url)
    url = connector.authorization_url(app=app, state="st4te", redirect_uri="http://127.0.0.1:9/cb")
    assert url.startswith(server.url + "/open/authorize?") and "service_id=" in url
    answer = httpx.get(url + "&seller=1")
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["st4te"]
    stores = connector.exchange_code(app=app, params={"code": back["code"][0], "state": "st4te"},
                                     redirect_uri="http://127.0.0.1:9/cb")
    assert {(s.region, s.currency) for s in stores} == {("SG", "SGD"), ("MY", "MYR")}
    for s in stores:
        assert s.settings["shop_cipher"].startswith("GCP_") and s.settings["base_url"] == server.url
        assert s.settings["seller_type"] == "CROSS_BORDER"
        assert s.seller_region == "CN"  # the token's seller_base_region: a cross-border seller from CN
        assert s.credentials["access_token"] and s.credentials["refresh_token"]
        assert s.auth_expires_at is not None and s.auth_expires_at.timestamp() > time.time() + 300 * 86400
    with pytest.raises(NeedsReconnect):  # a code is single-use
        connector.exchange_code(app=app, params={"code": back["code"][0]}, redirect_uri="x")


def test_real_host_link_has_no_redirect_uri() -> None:
    from bridge.connection import AppContext

    url = connector.authorization_url(app=AppContext(platform="tiktokshop", settings={"service_id": "77"}),
                                      state="s", redirect_uri="https://me/cb")
    assert url == "https://services.tiktokshop.com/open/authorize?service_id=77&state=s"


def test_denied_authorization(sandbox, server) -> None:
    with pytest.raises(NeedsReconnect):
        connector.exchange_code(app=sandbox.app_context(server.url), params={"code": "null", "error": "auth_denied"},
                                redirect_uri="x")


def test_connect_with_given_tokens(conn) -> None:
    info = connector.connect(connection=conn)
    assert (info.region, info.currency, info.name) == ("GB", "GBP", "Bridge Demo UK")
    assert info.seller_region == "GB"  # a local seller is based in its shop's market
    assert info.settings["shop_cipher"].startswith("ROW_")


def test_connect_needs_shop_id_when_several(sandbox, server) -> None:
    c = sandbox.connection(server.url, 1)
    c.settings.pop("shop_id")
    c.settings.pop("shop_cipher")
    with pytest.raises(Misconfigured, match="several shops"):
        connector.connect(connection=c)


def test_token_refreshed_ahead_of_expiry(sandbox, server) -> None:
    saved = []
    c = sandbox.connection(server.url, access_token_expires_at=int(time.time()) + 30)
    c.on_credentials = saved.append
    old = c.credentials["access_token"]
    connector.connect(connection=c)
    assert saved and saved[-1]["access_token"] != old
    assert saved[-1]["access_token_expires_at"] > time.time() + 86400


def test_expired_token_is_refreshed_then_reconnect_when_refresh_fails(sandbox, server) -> None:
    c = sandbox.connection(server.url)
    tokens = sandbox.world.issue_tokens(sandbox.world.shops[sandbox.shops()[0]["id"]].seller)
    c.credentials.update(access_token=tokens["access_token"], refresh_token=tokens["refresh_token"])
    sandbox.expire_tokens()
    assert connector.connect(connection=c).remote_id  # refreshed on 105002
    sandbox.expire_tokens()
    c.credentials["refresh_token"] = "ROW_revoked"
    with pytest.raises(NeedsReconnect):
        connector.connect(connection=c)
    sandbox._tokens = sandbox.world.issue_tokens(tokens["open_id"])


def test_prerequisites_checklist(sandbox, conn) -> None:
    items = {p.key: p for p in connector.check_prerequisites(connection=conn)}
    assert items["warehouse.sales"].ok and items["warehouse.return"].ok and items["shipping.seller"].ok
    assert items["tiktok.shop_tax"].ok
    shop = sandbox.shops()[0]["id"]
    sandbox.fail_prerequisite(shop, "SHOP_TAX", "Tax information is missing")
    try:
        items = {p.key: p for p in connector.check_prerequisites(connection=conn)}
        tax = items["tiktok.shop_tax"]
        assert not tax.ok and tax.blocking and "Tax information" in tax.detail and "Seller Center" in tax.fix
    finally:
        sandbox.world.shops[shop].failed_checks.clear()


def test_markets_are_declared_by_the_plugin() -> None:
    from bridge.errors import RulesViolation
    from bridge.models import StoreInfo
    from bridge.rules import check_market

    info = connector.describe_platform()
    markets = info.market_rules()
    assert [m.code for m in markets.served] == ["GB", "SG", "VN", "TH", "MY", "ID", "PH"]
    assert [m.code for m in markets.waitlist] == ["US"]
    assert [m.code for m in markets.cross_border_from] == ["CN", "HK"]
    assert [c for c, _n, _w in markets.seller_regions()] == ["GB", "SG", "VN", "TH", "MY", "ID", "PH",
                                                             "CN", "HK", "US"]
    check_market(info, StoreInfo(remote_id="1", name="uk", currency="GBP", region="UK"))
    check_market(info, StoreInfo(remote_id="2", name="cb", currency="MYR", region="MY", seller_region="HK"))
    with pytest.raises(RulesViolation, match="join the waitlist with `bridge waitlist join --platform tiktokshop"):
        check_market(info, StoreInfo(remote_id="3", name="us", currency="USD", region="US"))
    with pytest.raises(RulesViolation, match="TikTok Shop market DE is not supported"):
        check_market(info, StoreInfo(remote_id="4", name="de", currency="EUR", region="DE"))


def test_added_shops_connect_as_shops_of_their_own() -> None:
    """``add_shop``: a local seller with one shop, for benchmarks of many store pairs (a sandbox
    of its own: the session's keeps its seeded shops)."""
    from bridge.sandboxing import SandboxServer
    from bridge_tiktokshop.sandbox import TikTokSandbox

    sandbox = TikTokSandbox({"rate_limit": 0})
    first, second = sandbox.add_shop("GB"), sandbox.add_shop("GB")
    with SandboxServer(sandbox.app) as server:
        infos = [connector.connect(connection=sandbox.connection(server.url, i)) for i in (first, second)]
    assert len({i.remote_id for i in infos}) == 2
    assert {(i.region, i.currency, i.seller_region) for i in infos} == {("GB", "GBP", "GB")}

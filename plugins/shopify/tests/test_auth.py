"""Connecting: OAuth install against the sandbox, token refresh, client credentials, tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from bridge.errors import Misconfigured, NeedsReconnect, Rejected
from bridge_shopify import auth, catalog, connecting


def test_query_hmac_matches_shopifys_documented_vector() -> None:
    params = {"code": "0907a61c0c8d55e99db179b68161bc00", "shop": "some-shop.myshopify.com",
              "state": "0.6784241404160823", "timestamp": "1337178173",
              "hmac": "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf"}
    assert auth.verify_query_hmac(params, "hush")
    assert not auth.verify_query_hmac({**params, "shop": "evil.myshopify.com"}, "hush")


@pytest.mark.parametrize("shop", ["evil.com", "shop.myshopify.com.evil.com", "a b.myshopify.com", ""])
def test_shop_domains_other_than_myshopify_are_refused(shop: str) -> None:
    with pytest.raises(Misconfigured):
        auth.normalize_shop(shop)


def _install(served) -> dict[str, str]:
    """Click through the sandbox's authorize page; return the callback's query parameters."""
    url = connecting.authorization_url(served.app(), "state-123", "https://bridge.example/cb",
                                       {"shop": "bridge-sandbox.myshopify.com"})
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert url.startswith(served.url + "/admin/oauth/authorize?")
    assert query["scope"] == auth.DEFAULT_SCOPES and query["state"] == "state-123"
    assert query["grant_options[]"] == ""
    answer = httpx.get(url, follow_redirects=False)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith("https://bridge.example/cb?")
    return dict(parse_qsl(urlsplit(location).query))


def test_oauth_install_refresh_and_rotation(served) -> None:
    params = _install(served)
    [info] = connecting.exchange_code(served.app(), params)
    assert info.remote_id == "bridge-sandbox.myshopify.com" and info.currency == "GBP"
    assert info.settings["base_url"] == served.url
    creds = info.credentials
    assert creds["refresh_token"] and creds["grant"] == "oauth"
    assert datetime.fromisoformat(creds["expires_at"]) > datetime.now(UTC)
    with pytest.raises(NeedsReconnect):  # a code works once
        connecting.exchange_code(served.app(), params)

    saved: list[dict] = []
    conn = served.connection(credentials=creds)
    conn.on_credentials = saved.append
    served.sandbox.auth.expire_all()
    assert catalog.get_products(conn, [next(iter(served.sandbox.state.products))])
    assert saved and saved[-1]["refresh_token"] != creds["refresh_token"]
    assert saved[-1]["access_token"] != creds["access_token"]
    # the old refresh token is retired once its replacement's access token was used
    stale = served.connection(credentials={**creds, "access_token": "expired"})
    served.sandbox.auth.expire_all()
    with pytest.raises(NeedsReconnect):
        connecting.connect(stale)


def test_callback_with_a_bad_signature_or_shop_is_refused(served) -> None:
    params = _install(served)
    with pytest.raises(Rejected):
        connecting.exchange_code(served.app(), {**params, "hmac": "0" * 64})
    with pytest.raises(Rejected):
        connecting.exchange_code(served.app(), {**params, "shop": "evil.example.com"})


def test_client_credentials_grant(served) -> None:
    app = served.sandbox.app_settings()
    conn = served.connection(credentials={"client_secret": app["client_secret"]},
                             client_id=app["client_id"])
    info = connecting.connect(conn)
    assert info.credentials["access_token"] and info.credentials["grant"] == "client_credentials"
    assert "refresh_token" not in info.credentials
    served.sandbox.auth.expire_all()
    before = conn.credentials["access_token"]
    connecting.connect(conn)
    assert conn.credentials["access_token"] != before


def test_static_token_and_uninstall(served) -> None:
    assert connecting.connect(served.connection()).name == "Bridge Sandbox"
    with pytest.raises(NeedsReconnect):
        connecting.connect(served.connection(credentials={"access_token": "shpat_wrong"}))
    served.sandbox.uninstall()
    try:
        with pytest.raises(NeedsReconnect):
            connecting.connect(served.connection())
    finally:
        served.sandbox.auth.revoked = False


def test_describe_flags_secrets_and_defaults() -> None:
    info = connecting.describe()
    settings = {s.name: s for s in info.settings}
    assert settings["access_token"].secret and settings["client_secret"].secret
    assert settings["api_version"].default == "2025-01"  # the schema the documents are checked against
    assert "base_url" not in settings
    assert {a.name for a in info.app_settings} == {"client_id", "client_secret", "scopes"}


def test_sandboxes_with_their_own_shop_domain_are_distinct_stores(served_factory) -> None:
    """Option ``shop``: several sandboxes as several shops (benchmarks of many store pairs)."""
    a, b = served_factory(shop="bench-a.myshopify.com"), served_factory(shop="bench-b.myshopify.com")
    infos = [connecting.connect(s.connection()) for s in (a, b)]
    assert [i.remote_id for i in infos] == ["bench-a.myshopify.com", "bench-b.myshopify.com"]
    a.sandbox.reset()
    assert connecting.connect(a.connection()).remote_id == "bench-a.myshopify.com"

"""The connect flows: region choice and the waitlist, the OAuth round trip with a verified
single-use state, the organization choice, the currency check, the prerequisites checklist,
app callbacks and the given-credentials form."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select

from bridge import db, stores
from bridge.sandboxing import SandboxServer
from bridge.tables import OAuthState, Store, WaitlistEntry
from tests.web import oauth_fake
from tests.web.conftest import make_store, make_user


@pytest.fixture()
def acme(pm):  # type: ignore[no-untyped-def]
    org = stores.create_org("Acme")
    make_user("ann@acme.test", ["Acme"])
    return org


def _start(client, region: str = "GB"):  # type: ignore[no-untyped-def]
    r = client.form("/connect/oauthchannel/start", {"region": region})
    assert r.status_code == 303, r.text
    return r.headers["location"]


def _shops() -> list[Store]:
    with db.session() as s:
        return list(s.exec(select(Store).where(Store.platform == "oauthchannel").order_by(Store.id)))


def test_region_choice_offers_supported_regions_and_the_waitlist(acme, signed_in):
    ann = signed_in("ann@acme.test")
    page = ann.get("/connect/platform/oauthchannel").text
    assert 'value="GB"' in page and 'value="SG"' in page and 'value="US"' in page
    assert 'value="VN"' not in page  # the platform does not offer it
    r = ann.form("/connect/oauthchannel/start", {"region": "US"})
    assert r.status_code == 200 and "waitlist" in r.text
    assert "OAuth Channel United States is not supported yet" in r.text and "TikTok" not in r.text
    r = ann.form("/waitlist", {"region": "US", "email": "ann@acme.test"}, follow_redirects=True)
    assert "waitlist" in r.text
    with db.session() as s:
        entry = s.exec(select(WaitlistEntry)).one()
    assert (entry.platform, entry.region, entry.email, entry.org_id) == ("oauthchannel", "US", "ann@acme.test", acme.id)
    with db.session() as s:
        assert s.exec(select(OAuthState)).first() is None  # nobody was sent to authorize


def test_oauth_round_trip_connects_the_shop_with_checks(acme, signed_in):
    ann = signed_in("ann@acme.test")
    url = _start(ann)
    q = parse_qs(urlparse(url).query)
    assert url.startswith("https://auth.oauthchannel.invalid/authorize")
    assert q["redirect_uri"] == ["http://127.0.0.1:8765/oauth/oauthchannel/callback"]
    state = q["state"][0]
    r = ann.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/connect/done/{state}"
    done = ann.get(r.headers["location"]).text
    assert "'GB Shop' is connected" in done
    assert "Currency check" in done and "GBP" in done
    assert "Shipping template" in done and "Add a shipping template in Seller Center" in done
    (shop,) = _shops()
    assert shop.org_id == acme.id and shop.region == "GB" and shop.credentials_enc
    assert "tok-shop-gb-1" not in done
    # the state is single use
    again = ann.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}")
    assert again.status_code == 400 and "already used" in again.text


def test_forged_or_foreign_state_is_refused(acme, signed_in):
    make_user("eve@acme.test", ["Acme"])
    ann = signed_in("ann@acme.test")
    assert ann.get("/oauth/oauthchannel/callback?code=code-gb&state=made-up").status_code == 400
    state = parse_qs(urlparse(_start(ann)).query)["state"][0]
    eve = signed_in("eve@acme.test")
    r = eve.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}")
    assert r.status_code == 400 and "another user" in r.text
    assert _shops() == []


def test_bad_code_is_a_clear_error(acme, signed_in):
    ann = signed_in("ann@acme.test")
    state = parse_qs(urlparse(_start(ann)).query)["state"][0]
    r = ann.get(f"/oauth/oauthchannel/callback?code=nope&state={state}")
    assert r.status_code == 400 and "authorize again" in r.text


def test_several_organizations_choose_with_a_button_beside_each(acme, signed_in):
    other = stores.create_org("Other")
    from bridge.web.auth import add_membership

    add_membership("ann@acme.test", "Other")
    ann = signed_in("ann@acme.test")
    state = parse_qs(urlparse(_start(ann)).query)["state"][0]
    done = ann.get(f"/oauth/oauthchannel/callback?code=code-two&state={state}", follow_redirects=True)
    assert "Choose the organization" in done.text
    assert done.text.count("Connect to Acme") == 2 and done.text.count("Connect to Other") == 2
    assert _shops() == []
    ann.form(f"/connect/done/{state}", {"index": "1", "org_id": str(other.id)})
    ann.form(f"/connect/done/{state}", {"index": "0", "org_id": str(acme.id)})
    by_name = {s.name: s.org_id for s in _shops()}
    assert by_name == {"GB Shop Three": other.id, "GB Shop Two": acme.id}
    page = ann.get(f"/connect/done/{state}").text
    assert "Choose the organization" not in page and page.count("' is connected</h2>") == 2


def test_currency_mismatch_is_refused_naming_both(acme, signed_in):
    make_store(acme.id, "fakeshop", "ecommerce", "eco-1", "Acme Store", currency="GBP")
    ann = signed_in("ann@acme.test")
    state = parse_qs(urlparse(_start(ann)).query)["state"][0]
    done = ann.get(f"/oauth/oauthchannel/callback?code=code-eur&state={state}", follow_redirects=True)
    assert "was not connected" in done.text
    assert "EUR" in done.text and "GBP" in done.text
    assert _shops() == []


def test_app_callback_hands_over_keys_with_the_state(acme, signed_in, app):
    from starlette.testclient import TestClient

    ann = signed_in("ann@acme.test")
    state = parse_qs(urlparse(_start(ann)).query)["state"][0]
    body = json.dumps({"id": "shop-cb-1", "name": "Callback Shop", "token": "t-1"}).encode()
    with TestClient(app) as server:  # server to server: no session cookie
        bad = server.post(f"/callbacks/oauthchannel/keys?state={state}", content=body,
                          headers={"X-Sig": "forged"})
        assert bad.status_code == 401
        ok = server.post(f"/callbacks/oauthchannel/keys?state={state}", content=body,
                         headers={"X-Sig": oauth_fake.sign(body)})
        assert ok.status_code == 200 and ok.json() == {"ok": True}
    (shop,) = _shops()
    assert shop.name == "Callback Shop" and shop.org_id == acme.id
    assert "'Callback Shop' is connected" in ann.get(f"/connect/done/{state}").text
    gone = json.dumps({"id": "shop-cb-1"}).encode()
    with TestClient(app) as server:
        assert server.post("/callbacks/oauthchannel/uninstall", content=gone,
                           headers={"X-Sig": oauth_fake.sign(gone)}).status_code == 200
    assert _shops()[0].status == "needs_reconnect"


def test_credentials_form_connects_an_ecommerce_store(acme, signed_in, pm, monkeypatch):
    sb = pm.call("fakeshop", "sandbox", options={"seed": 1})
    ann = signed_in("ann@acme.test")
    page = ann.get("/connect/ecommerce").text
    assert "Fake Shop" in page and "OAuth Channel" not in page  # installed eCommerce platforms only
    form = ann.get("/connect/platform/fakeshop").text
    assert 'type="password"' in form and 'name="setting_token"' in form
    with SandboxServer(sb.app) as server:
        monkeypatch.setenv("BRIDGE_FAKESHOP_BASE_URL", server.url)
        bad = ann.form("/connect/fakeshop/credentials", {"setting_token": "wrong"})
        assert bad.status_code == 400 and "reconnect" in bad.text
        r = ann.form("/connect/fakeshop/credentials",
                     {"setting_token": sb.credentials()["token"]},
                     follow_redirects=True)
    assert "is connected" in r.text and "API reachable" in r.text
    assert sb.credentials()["token"] not in r.text
    with db.session() as s:
        assert s.exec(select(Store).where(Store.platform == "fakeshop")).one().org_id == acme.id

"""Callbacks bound to a flow the same user started: the state is checked before the plugin runs
(so before any request it would make), a stranger cannot spoil a user's state, and a store the
platform hands over unasked waits for the user to say which organization it goes to."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from bridge import db, stores
from bridge.tables import Store
from tests.web import oauth_fake
from tests.web.conftest import make_user


@pytest.fixture()
def acme(pm):  # type: ignore[no-untyped-def]
    org = stores.create_org("Acme")
    make_user("ann@acme.test", ["Acme"])
    oauth_fake.CALLS.clear()
    return org


def _shops() -> list[Store]:
    with db.session() as s:
        return list(s.exec(select(Store).where(Store.platform == "oauthchannel")))


def _keys(name: str = "Callback Shop") -> bytes:
    return json.dumps({"id": "shop-cb-9", "name": name, "token": "t-9"}).encode()


def test_an_unknown_state_is_refused_before_the_plugin_runs(acme, app):
    body = _keys()
    with TestClient(app) as server:
        r = server.post("/callbacks/oauthchannel/keys?state=made-up", content=body,
                        headers={"X-Sig": oauth_fake.sign(body)})
    assert r.status_code == 400 and "unknown" in r.text
    assert oauth_fake.CALLS == []  # the plugin (and any request it would make) never ran
    assert _shops() == []


def test_a_store_handed_over_unasked_waits_for_the_users_confirmation(acme, signed_in):
    ann = signed_in("ann@acme.test")
    body = _keys()
    r = ann.post("/callbacks/oauthchannel/keys", content=body,
                 headers={"X-Sig": oauth_fake.sign(body)}, follow_redirects=False)
    assert r.status_code == 303
    assert _shops() == []  # an attacker's install code must not land in ann's organization
    done = ann.get(r.headers["location"]).text
    assert "Choose the organization" in done and "Connect to Acme" in done
    token = r.headers["location"].rsplit("/", 1)[-1]
    ann.form(f"/connect/done/{token}", {"index": "0", "org_id": str(acme.id)})
    (shop,) = _shops()
    assert shop.org_id == acme.id and shop.name == "Callback Shop"


def test_a_stranger_using_a_users_state_does_not_spoil_it(acme, signed_in):
    make_user("eve@acme.test", ["Acme"])
    ann = signed_in("ann@acme.test")
    r = ann.form("/connect/oauthchannel/start", {"region": "GB"})
    state = parse_qs(urlparse(r.headers["location"]).query)["state"][0]
    eve = signed_in("eve@acme.test")
    assert eve.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}").status_code == 400
    ok = ann.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}", follow_redirects=False)
    assert ok.status_code == 303, ok.text
    assert [s.name for s in _shops()] == ["GB Shop"]


def test_a_connect_refusal_does_not_name_the_other_organization(acme, signed_in):
    stores.create_org("Globex Secret Corp")
    make_user("gus@globex.test", ["Globex Secret Corp"])
    gus = signed_in("gus@globex.test")
    state = parse_qs(urlparse(gus.form("/connect/oauthchannel/start", {"region": "GB"})
                              .headers["location"]).query)["state"][0]
    gus.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}")
    ann = signed_in("ann@acme.test")
    state = parse_qs(urlparse(ann.form("/connect/oauthchannel/start", {"region": "GB"})
                              .headers["location"]).query)["state"][0]
    done = ann.get(f"/oauth/oauthchannel/callback?code=code-gb&state={state}", follow_redirects=True)
    assert "was not connected" in done.text and "another organization" in done.text
    assert "Globex" not in done.text


def test_the_callback_address_shown_to_a_user_binds_the_store_to_them(acme, signed_in, app):
    import re

    ann = signed_in("ann@acme.test")
    page = ann.get("/connect/platform/oauthchannel").text
    state = re.search(r'id="callback-state">\?state=([^<]+)<', page).group(1)
    forged = state[:-4] + ("0000" if not state.endswith("0000") else "1111")
    body = _keys()
    with TestClient(app) as server:  # the platform, server to server
        assert server.post(f"/callbacks/oauthchannel/keys?state={forged}", content=body,
                           headers={"X-Sig": oauth_fake.sign(body)}).status_code == 400
        assert oauth_fake.CALLS == []
        r = server.post(f"/callbacks/oauthchannel/keys?state={state}", content=body,
                        headers={"X-Sig": oauth_fake.sign(body)})
    assert r.status_code == 200
    (shop,) = _shops()
    assert shop.org_id == acme.id


def test_forms_may_post_only_where_the_connect_flows_need(acme, signed_in, monkeypatch):
    ann = signed_in("ann@acme.test")
    home = ann.get("/").headers["content-security-policy"]
    assert "form-action 'self';" in home + ";" and "https:" not in home.split("form-action")[1].split(";")[0]
    monkeypatch.setenv("BRIDGE_OAUTHCHANNEL_BASE_URL", "http://127.0.0.1:9123")
    connect = ann.get("/connect/platform/oauthchannel").headers["content-security-policy"]
    action = connect.split("form-action")[1].split(";")[0]
    assert "'self'" in action and "https:" in action and "http://127.0.0.1:9123" in action
    assert "http:" not in action.split()  # never every plain-http origin

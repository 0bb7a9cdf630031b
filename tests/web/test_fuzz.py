"""Property-based fuzzing (Hypothesis) of what strangers and members can send: every webhook
receiver (the four real eCommerce plugins, TikTok Shop and the fakes), the app and OAuth
callbacks, and the admin forms. Bodies are random bytes, random JSON (objects, lists, odd
numbers, non-ASCII) and validly signed random JSON (so parsing is reached); ids are odd digits
(``²``, beyond the database's range); headers carry non-ASCII. Whatever comes, the answer is
never a 5xx. Bounded: a fixed number of examples per test (a few seconds each); every outbound
request is answered by a local mock, none leaves the machine."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import respx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from bridge import db, stores
from bridge.crypto import Vault
from bridge.plugins import PluginManager, set_manager
from bridge.tables import Store
from tests.fakes import fake_channel, fake_ecommerce
from tests.fakes.common import sign as fake_sign
from tests.web import oauth_fake
from tests.web.conftest import Client, csrf_of, login, make_store, make_user

EXAMPLES = 150
SECRET = "fuzz-app-secret-long-enough-for-hs256-keys!"
APP_ENV = {
    "BRIDGE_SHOPIFY_CLIENT_ID": "fuzz-shopify", "BRIDGE_SHOPIFY_CLIENT_SECRET": SECRET,
    "BRIDGE_TIKTOKSHOP_APP_KEY": "fuzzkey", "BRIDGE_TIKTOKSHOP_APP_SECRET": SECRET,
    "BRIDGE_BIGCOMMERCE_CLIENT_ID": "fuzz-bc", "BRIDGE_BIGCOMMERCE_CLIENT_SECRET": SECRET,
}
HUGE = "99999999999999999999"


class Tally:
    requests = 0
    server_errors: list[tuple[str, str, int]] = []


def _count(response: httpx.Response, what: str) -> httpx.Response:
    Tally.requests += 1
    if response.status_code >= 500:
        Tally.server_errors.append((response.request.method, what, response.status_code))
    return response


def _manager() -> PluginManager:
    """Every installed platform plugin (the real receivers) plus the fakes."""
    pm = PluginManager(load_entrypoints=True)
    for name, module in (("fakeshop", fake_ecommerce), ("fakechannel", fake_channel),
                         ("oauthchannel", oauth_fake)):
        pm.register(module, name=name, distribution="tests", version="0")
    return pm


@pytest.fixture()
def world(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
    """The app, an organization, a signed-in member and a store of every platform."""
    for k, v in APP_ENV.items():
        monkeypatch.setenv(k, v)
    pm = _manager()
    set_manager(pm)
    org = stores.create_org("Acme")
    make_user("ann@acme.test", ["Acme"])
    rows: dict[str, Store] = {}
    for platform, kind, remote in (("shopify", "ecommerce", "fuzz.myshopify.com"),
                                   ("woocommerce", "ecommerce", "shop.example.com"),
                                   ("bigcommerce", "ecommerce", "abc123"),
                                   ("magento2", "ecommerce", "m2.example.com/default"),
                                   ("tiktokshop", "channel", "7000001"),
                                   ("fakeshop", "ecommerce", "fakeshop-1"),
                                   ("fakechannel", "channel", "shop-1"),
                                   ("oauthchannel", "channel", "shop-gb-1")):
        row = make_store(org.id, platform, kind, remote, f"{platform} store")  # type: ignore[arg-type]
        with db.session() as s:
            fresh = s.get(Store, row.id)
            assert fresh is not None
            fresh.credentials_enc = Vault().encrypt({"webhook_secret": SECRET})
            fresh.settings = {"store_hash": "abc123"} if platform == "bigcommerce" else {}
            s.add(fresh)
        rows[platform] = row
    from bridge.web.app import create_app

    app = create_app()
    before = Tally.requests, len(Tally.server_errors)
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(return_value=httpx.Response(400, json={"error": "fuzz: no network"}))
        with TestClient(app, raise_server_exceptions=False) as anon, \
                Client(app, base_url="http://testserver", raise_server_exceptions=False) as member:
            assert login(member, "ann@acme.test").status_code == 303
            member.csrf = csrf_of(member.get("/").text)
            yield {"pm": pm, "stores": rows, "anon": anon, "member": member, "org": org}
    print(f"\nfuzz {request.node.name}: {Tally.requests - before[0]} requests, "
          f"{len(Tally.server_errors) - before[1]} answered 5xx")


# ------------------------------------------------------------------------------ strategies

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
odd_id = st.one_of(st.sampled_from(["²", "١٢", HUGE, "-1", "0", "1e3", "٣"]),
                   st.integers(min_value=0, max_value=2**70).map(str),
                   text.filter(bool)).map(lambda v: quote(v, safe=""))
scalar = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
                   st.floats(allow_nan=False), text, st.sampled_from(["²", "1e400", HUGE]))
json_value = st.recursive(scalar, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(
        ["id", "type", "shop_id", "data", "scope", "producer", "hash", "status", "order_id",
         "package_list", "order_id_list", "inventory", "sku", "product_id", "variant_id", "arg",
         "meta_data", "parent_id", "updated_at", "myshopify_domain", "kind", "ids", "shop",
         "delivery_id", "created_at", "new_status_id", "key", "orderId"]) | text, inner, max_size=6)),
    max_leaves=12)


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["bytes", "json", "object"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    value = draw(json_value) if kind == "json" else draw(st.dictionaries(
        st.sampled_from(["type", "shop_id", "data", "scope", "producer", "id", "status", "arg",
                         "myshopify_domain", "updated_at", "kind", "shop", "ids"]), json_value, max_size=6))
    return json.dumps(value, default=str).encode()


def header_value(value: str) -> bytes:
    return value.encode("utf-8")


def _signed_headers(platform: str, body: bytes, draw: st.DrawFn) -> dict[str, bytes]:
    """Headers that pass the platform's signature check for ``body`` (so parsing is reached)."""
    if platform == "shopify":
        sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return {"X-Shopify-Hmac-Sha256": sig.encode(), "X-Shopify-Topic": draw(st.sampled_from(
            ["products/update", "app/uninstalled", "inventory_levels/update", "orders/cancelled", "x/y"])).encode(),
                "X-Shopify-Shop-Domain": draw(st.sampled_from(["fuzz.myshopify.com", "é.myshopify.com"])).encode()}
    if platform == "tiktokshop":
        sig = hmac.new(SECRET.encode(), b"fuzzkey" + body, hashlib.sha256).hexdigest()
        return {"Authorization": sig.encode()}
    if platform == "woocommerce":
        sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        return {"X-WC-Webhook-Signature": sig.encode(), "X-WC-Webhook-Topic": draw(st.sampled_from(
            ["product.updated", "order.updated", "action.woocommerce_product_set_stock", "é"])).encode(),
                "X-WC-Webhook-Source": draw(st.sampled_from(
                    ["https://shop.example.com/", "http://[", "https://x:99999999", "é"])).encode()}
    if platform == "bigcommerce":
        stamp = draw(st.sampled_from([str(int(time.time())), "²", "0", HUGE]))
        signed = f"m1.{stamp}.".encode() + body
        sig = base64.b64encode(hmac.new(SECRET.encode(), signed, hashlib.sha256).digest()).decode()
        return {"webhook-id": b"m1", "webhook-timestamp": stamp.encode(),
                "webhook-signature": f"v1,{sig}".encode(), "X-Bridge-Secret": SECRET.encode()}
    if platform in ("fakeshop", "fakechannel"):
        return {"X-Fake-Signature": fake_sign(body).encode()}
    if platform == "oauthchannel":
        return {"X-Sig": oauth_fake.sign(body).encode()}
    return {}


SIGNATURE_HEADERS = ["X-Shopify-Hmac-Sha256", "Authorization", "X-WC-Webhook-Signature", "webhook-signature",
                     "webhook-timestamp", "X-WC-Webhook-Source", "X-Bridge-Secret", "X-Sig", "X-Fake-Signature",
                     "X-Shopify-Topic", "X-WC-Webhook-Topic", "Content-Type", "Cookie"]


# ------------------------------------------------------------------------------ properties

PLATFORMS = ["shopify", "woocommerce", "bigcommerce", "magento2", "tiktokshop", "fakeshop", "fakechannel",
             "oauthchannel", "nosuch"]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


@FUZZ
@given(data=st.data())
def test_webhook_receivers_never_answer_5xx(world, data) -> None:
    platform = data.draw(st.sampled_from(PLATFORMS))
    body = data.draw(bodies())
    if data.draw(st.booleans()):
        headers = _signed_headers(platform, body, data.draw)
    else:
        headers = {k: header_value(v) for k, v in data.draw(st.dictionaries(
            st.sampled_from(SIGNATURE_HEADERS), text, max_size=4)).items()}
    store = world["stores"].get(platform)
    where = data.draw(st.sampled_from(["store", "app", "odd"]))
    if where == "store" and store is not None:
        path = f"/webhooks/{platform}/{store.id}"
    elif where == "odd":
        path = f"/webhooks/{platform}/{data.draw(odd_id)}"
    else:
        path = f"/webhooks/{platform}"
    r = _count(world["anon"].post(path, content=body, headers=headers), path)
    assert r.status_code < 500, (path, body[:200], r.text[:200])


@FUZZ
@given(data=st.data())
def test_callbacks_never_answer_5xx(world, data) -> None:
    platform = data.draw(st.sampled_from(PLATFORMS))
    name = data.draw(st.sampled_from(["keys", "activate", "auth", "load", "uninstall", "remove_user", "é"]))
    query = data.draw(st.dictionaries(st.sampled_from(
        ["state", "site", "code", "context", "scope", "signed_payload_jwt", "hmac", "shop", "error",
         "_browser", "app_key"]), text | st.sampled_from(["cb-1-2-x", "http://127.0.0.1:9/x", "https://10.0.0.1"]),
        max_size=4))
    body = data.draw(bodies())
    client = world["member"] if data.draw(st.booleans()) else world["anon"]
    if data.draw(st.booleans()):
        path = f"/oauth/{platform}/callback"
        r = client.get(path, params=query)
    else:
        path = f"/callbacks/{platform}/{name}"
        method = data.draw(st.sampled_from(["GET", "POST"]))
        r = client.request(method, path, params=query, content=body if method == "POST" else None,
                           headers={"Content-Type": "application/x-www-form-urlencoded"}, follow_redirects=False)
    _count(r, path)
    assert r.status_code < 500, (path, query, body[:200], r.text[:200])


@FUZZ
@given(data=st.data())
def test_forms_never_answer_5xx(world, data) -> None:
    shop_id = world["stores"]["fakechannel"].id
    target = data.draw(st.one_of(st.just(str(shop_id)), odd_id))
    path = data.draw(st.sampled_from([
        f"/products/{target}/rules", f"/stores/{target}/settings", f"/stores/{target}/settings/preview",
        f"/products/{target}/bulk", f"/products/{target}/rules/{target}", f"/orders/{target}/retry",
        f"/stores/{target}/disconnect", "/connect/fakeshop/credentials", "/connect/oauthchannel/start",
        "/connect/woocommerce/start", "/waitlist", f"/connect/done/{target}", "/login", "/logout"]))
    fields = data.draw(st.dictionaries(st.sampled_from(
        ["facet", "value", "category_id", "category_name", "priority", "action", "index", "org_id",
         "region", "email", "password", "next", "setting_token", "setting_site_url", "setting_base_url",
         "templates.title", "templates.description", "pricing.markup_percent", "pricing.rounding",
         "inventory.buffer_units", "inventory.cap", "flows.orders.interval", "carrier", "provider_id",
         "carrier_id", "items", "product_ids"]),
        text | st.sampled_from(["²", HUGE, "-1", "{{ 'A' * 30000000 }}", "{% for i in range(99999) %}x{% endfor %}",
                                "{{ product.__class__ }}", "1e400", "all"]), max_size=6))
    client = world["member"]
    token = client.csrf if data.draw(st.integers(0, 9)) else data.draw(text)
    r = _count(client.post(path, data={"csrf_token": token, **fields}, follow_redirects=False), path)
    assert r.status_code < 500, (path, fields, r.text[:200])
    if path == "/logout" and r.status_code == 303:  # signed out: sign in again for the next example
        assert login(client, "ann@acme.test").status_code == 303
        client.csrf = csrf_of(client.get("/").text)

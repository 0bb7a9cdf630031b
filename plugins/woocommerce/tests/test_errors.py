"""Error paths and authentication modes with respx at the transport: the one error table, Basic
over https, the query-string fallback, plain permalinks, and no secret in any error."""

from __future__ import annotations

import base64

import httpx
import pytest
import respx

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, NeedsReconnect, RateLimited, Rejected, Transient
from bridge_woocommerce import catalog, orders, store

SITE = "https://shop.example.com"
KEY, SECRET = "ck_" + "a" * 40, "cs_" + "b" * 40
INDEX = {"name": "Example Shop", "home": SITE, "url": SITE, "timezone_string": "Europe/London",
         "namespaces": ["wc/v3", "wc/aftership/v1"]}
STATUS = {"environment": {"version": "9.4.2", "wp_version": "6.7.1", "home_url": SITE},
          "active_plugins": [{"plugin": "aftership-woocommerce-tracking/aftership-woocommerce-tracking.php",
                              "name": "AfterShip Tracking"}],
          "settings": {"currency": "GBP"}}


def _conn(**settings: object) -> Connection:
    return Connection(platform="woocommerce", settings={"site_url": SITE, "requests_per_second": 0, **settings},
                      credentials={"consumer_key": KEY, "consumer_secret": SECRET},
                      app=AppContext(platform="woocommerce"))


def _err(status: int, code: str, message: str = "x", **headers: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": {"status": status}},
                          headers=headers)


def _facts(mock: respx.MockRouter) -> None:
    mock.get(f"{SITE}/wp-json/wc/v3/settings/general/woocommerce_currency").respond(json={"value": "GBP"})
    mock.get(f"{SITE}/wp-json/wc/v3/settings/products").respond(json=[
        {"id": "woocommerce_weight_unit", "value": "g"}, {"id": "woocommerce_dimension_unit", "value": "mm"}])


def test_connect_uses_basic_over_https_and_reports_versions() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/").respond(json=INDEX)
        status = mock.get(f"{SITE}/wp-json/wc/v3/system_status").respond(json=STATUS)
        _facts(mock)
        info = store.connect(_conn())
    sent = status.calls[0].request
    assert sent.headers["authorization"] == "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
    assert "oauth_signature" not in str(sent.url) and SECRET not in str(sent.url)
    assert (info.remote_id, info.name, info.currency) == ("shop.example.com", "Example Shop", "GBP")
    assert info.details["woocommerce_version"] == "9.4.2" and info.details["wordpress_version"] == "6.7.1"
    assert info.details["tracking_plugins"] == ["aftership"] and not info.warnings
    assert info.settings["auth"] == "basic" and info.timezone == "Europe/London"


def test_stripped_authorization_header_falls_back_to_query_keys() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/").respond(json={**INDEX, "namespaces": ["wc/v3"]})
        route = mock.get(f"{SITE}/wp-json/wc/v3/system_status")
        route.side_effect = [_err(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
                             httpx.Response(200, json={**STATUS, "active_plugins": []})]
        _facts(mock)
        info = store.connect(_conn())
    second = route.calls[1].request
    assert second.url.params["consumer_key"] == KEY and "authorization" not in second.headers
    assert info.settings["auth"] == "query"
    assert info.warnings and "cannot go back to TikTok Shop" in info.warnings[0]


def test_plain_permalinks_are_detected_and_used() -> None:
    answers = {"/": INDEX, "/wc/v3/system_status": STATUS,
               "/wc/v3/settings/general/woocommerce_currency": {"value": "GBP"},
               "/wc/v3/settings/products": []}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/").respond(404, html="<h1>Not found</h1>")
        root = mock.get(f"{SITE}/").mock(
            side_effect=lambda req: httpx.Response(200, json=answers[req.url.params["rest_route"]]))
        c = _conn()
        info = store.connect(c)
    assert c.state["woocommerce:permalinks"] == "plain" and info.settings["permalinks"] == "plain"
    routes = [call.request.url.params["rest_route"] for call in root.calls]
    assert routes[:2] == ["/", "/wc/v3/system_status"]


@pytest.mark.parametrize(("response", "kind"), [
    (_err(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid."), NeedsReconnect),
    (_err(403, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."), NeedsReconnect),
    (httpx.Response(403, html="<html>ModSecurity</html>"), Misconfigured),
    (_err(404, "rest_no_route", "No route was found"), Misconfigured),
    (_err(400, "rest_invalid_param", "Invalid parameter(s): per_page"), Rejected),
    (_err(429, "too_many", "slow down", **{"Retry-After": "120"}), RateLimited),
    (_err(500, "internal_server_error"), Transient),
])
def test_error_table(response: httpx.Response, kind: type[Exception]) -> None:
    c = _conn(permalinks="pretty")
    c.state["woocommerce:facts"] = {"currency": "GBP", "weight": "kg", "dimension": "cm"}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/wc/v3/products").mock(return_value=response)
        with pytest.raises(kind) as err:
            list(catalog.list_products(c, None))
    assert SECRET not in str(err.value) and KEY not in str(err.value)
    assert SECRET not in (err.value.detail or "")
    if kind is RateLimited:
        assert err.value.retry_after == 120
    if kind is Rejected:
        assert err.value.code == "rest_invalid_param"


def test_json_after_php_notices_is_read() -> None:
    c = _conn(permalinks="pretty")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/wc/v3/orders/5").respond(
            200, text='<br />\n<b>Notice</b>: Undefined index<br />\n{"id": 5, "status": "cancelled"}')
        assert orders.cancel_order(c, "5", "buyer cancelled") is False


def test_shipped_order_cannot_be_cancelled() -> None:
    c = _conn(permalinks="pretty")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/wc/v3/orders/6").respond(json={"id": 6, "status": "completed"})
        with pytest.raises(Rejected) as err:
            orders.cancel_order(c, "6", "late")
    assert err.value.code == "order_not_cancellable"


def test_refused_order_keeps_the_platform_code(make_draft) -> None:
    c = _conn(permalinks="pretty")
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{SITE}/wp-json/wc/v3/orders").respond(json=[], headers={"X-WP-TotalPages": "0"})
        mock.post(f"{SITE}/wp-json/wc/v3/orders").mock(return_value=_err(
            400, "woocommerce_rest_invalid_product_id", "Invalid product ID."))
        with pytest.raises(Rejected) as err:
            orders.create_order(c, make_draft("TT-REFUSED", "999", "999", "GBP"))
    assert err.value.code == "woocommerce_rest_invalid_product_id" and err.value.item == "TT-REFUSED"

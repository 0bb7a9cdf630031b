"""Error paths with respx at the transport: each Shopify answer maps to one bridge error kind."""

from __future__ import annotations

import time

import httpx
import pytest
import respx

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, NeedsReconnect, RateLimited, Rejected, Transient
from bridge_shopify import errors, orders, throttle
from bridge_shopify.client import DEFAULT_API_VERSION, ShopifyClient
from bridge_shopify.errors import AccessDenied

BASE = "https://err-shop.myshopify.com"
GRAPHQL = f"{BASE}/admin/api/{DEFAULT_API_VERSION}/graphql.json"
TOKEN = f"{BASE}/admin/oauth/access_token"
COST = {"requestedQueryCost": 10, "actualQueryCost": 5,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990.0, "restoreRate": 100.0}}


def _conn(**creds) -> Connection:
    return Connection(platform="shopify", settings={"shop": "err-shop.myshopify.com"},
                      credentials={"access_token": "shpat_secret_value", **creds},
                      app=AppContext(platform="shopify",
                                     settings={"client_id": "cid", "client_secret": "csecret"}))


def _ok(data: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": {"cost": COST}})


def _shop(conn: Connection) -> dict:
    return ShopifyClient(conn).execute("Shop", "query Shop { shop { name } }")


@pytest.mark.parametrize(("status", "body", "kind"), [
    (401, {"errors": "[API] Invalid API key or access token"}, NeedsReconnect),
    (402, {"errors": "Unavailable Shop"}, Transient),
    (403, {"errors": "Forbidden"}, AccessDenied),
    (404, {"errors": "Not Found"}, Misconfigured),
    (423, {"errors": "Locked"}, Transient),
    (500, {"errors": "Internal Server Error"}, Transient),
    (400, {"errors": {"query": "Required parameter missing or invalid"}}, Rejected),
])
def test_http_statuses(status: int, body: dict, kind: type) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(return_value=httpx.Response(status, json=body))
        with pytest.raises(kind) as err:
            _shop(_conn())
    assert "shpat_secret_value" not in str(err.value)


def test_429_with_a_long_retry_after_goes_to_the_scheduler() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(return_value=httpx.Response(429, headers={"Retry-After": "120"},
                                                            json={"errors": "Throttled"}))
        with pytest.raises(RateLimited) as err:
            _shop(_conn())
    assert err.value.retry_after == 120


def test_5xx_is_retried_by_the_http_layer_then_transient() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post(GRAPHQL).mock(return_value=httpx.Response(
            503, headers={"Retry-After": "0"}, json={"errors": "Service Unavailable"}))
        with pytest.raises(Transient):
            _shop(_conn())
    assert route.call_count == 4  # the shared layer's retries, none of the plugin's own


def test_network_failure_is_transient() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(side_effect=httpx.ConnectError("refused"))
        with pytest.raises(Transient):
            _shop(_conn())


def test_graphql_error_codes() -> None:
    throttled = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                 "extensions": {"cost": {"requestedQueryCost": 500, "actualQueryCost": None,
                                         "throttleStatus": {"maximumAvailable": 2000.0,
                                                            "currentlyAvailable": 100.0,
                                                            "restoreRate": 100.0}}}}
    denied = {"errors": [{"message": "Access denied for orders field.",
                          "extensions": {"code": "ACCESS_DENIED", "requiredAccess": "read_orders"}}]}
    internal = {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    # THROTTLED maps to RateLimited with the wait throttleStatus tells (the client waits it out
    # and sends again: tests/test_throttle.py)
    err = errors.graphql_error(throttled["errors"], cost=throttled["extensions"]["cost"], retry_after=4.0)
    assert isinstance(err, RateLimited) and err.retry_after == pytest.approx(4.0) and err.throttled
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(side_effect=[httpx.Response(200, json=b) for b in (denied, internal)])
        with pytest.raises(AccessDenied) as denied_err:
            _shop(_conn())
        assert denied_err.value.required == "read_orders"
        with pytest.raises(Transient):
            _shop(_conn())


def test_user_errors_become_rejected_with_code_and_request_id() -> None:
    body = {"data": {"orderCancel": {"job": None, "orderCancelUserErrors": [
        {"field": ["orderId"], "message": "Cannot cancel a fulfilled order", "code": "INVALID"}]}},
        "extensions": {"cost": COST}}
    state = {"data": {"order": {"id": "gid://shopify/Order/1", "cancelledAt": None,
                                "displayFulfillmentStatus": "FULFILLED"}}, "extensions": {"cost": COST}}
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(side_effect=[httpx.Response(200, json=state),
                                             httpx.Response(200, json=body, headers={"X-Request-Id": "req-9"})])
        with pytest.raises(Rejected) as err:
            orders.cancel_order(_conn(), "gid://shopify/Order/1", "late")
    assert err.value.code == "INVALID" and "fulfilled" in err.value.message
    assert err.value.item == "gid://shopify/Order/1"


def test_401_refreshes_once_then_succeeds_and_saves_rotated_tokens() -> None:
    saved: list[dict] = []
    conn = _conn(refresh_token="rt-1", grant="oauth")
    conn.on_credentials = saved.append
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(side_effect=[httpx.Response(401, json={"errors": "expired"}),
                                             _ok({"shop": {"name": "S"}})])
        token = mock.post(TOKEN).mock(return_value=httpx.Response(200, json={
            "access_token": "at-2", "expires_in": 3600, "refresh_token": "rt-2",
            "refresh_token_expires_in": 2592000, "scope": "read_products"}))
        assert _shop(conn) == {"shop": {"name": "S"}}
    sent = token.calls[0].request
    assert b'"grant_type":"refresh_token"' in sent.content.replace(b" ", b"")
    assert saved[-1]["access_token"] == "at-2" and saved[-1]["refresh_token"] == "rt-2"


def test_refused_refresh_needs_reconnect() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.post(GRAPHQL).mock(return_value=httpx.Response(401, json={"errors": "expired"}))
        mock.post(TOKEN).mock(return_value=httpx.Response(400, json={"error": "invalid_grant"}))
        with pytest.raises(NeedsReconnect):
            _shop(_conn(refresh_token="rt-old"))


def test_cost_bucket_waits_just_enough_and_hands_long_waits_over() -> None:
    bucket = throttle.CostBucket()
    bucket.update("Products", {"requestedQueryCost": 500, "throttleStatus": {
        "maximumAvailable": 2000.0, "currentlyAvailable": 100.0, "restoreRate": 100.0}})
    assert bucket.wait_time("Products") == pytest.approx((500 + throttle.RESERVE - 100) / 100, abs=0.05)
    slow = throttle.CostBucket()
    slow.update("Big", {"requestedQueryCost": 900, "throttleStatus": {
        "maximumAvailable": 1000.0, "currentlyAvailable": 0.0, "restoreRate": 10.0}})
    started = time.monotonic()
    with pytest.raises(RateLimited) as err:
        slow.before("Big")
    assert err.value.retry_after > 30 and time.monotonic() - started < 1

"""Error paths with respx at the transport (real host by default), and quota pacing."""

from __future__ import annotations

import time

import httpx
import pytest
import respx

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, NeedsReconnect, RateLimited, Rejected, Transient
from bridge_bigcommerce import auth, catalog, orders
from bridge_bigcommerce.pacing import QuotaPacer

API = "https://api.bigcommerce.com/stores/abc123"
QUOTA = {"X-Rate-Limit-Requests-Quota": "150", "X-Rate-Limit-Requests-Left": "149",
         "X-Rate-Limit-Time-Reset-Ms": "29000", "X-Rate-Limit-Time-Window-Ms": "30000"}
_n = iter(range(10_000))


@pytest.fixture()
def real() -> Connection:
    """A connection to the real host (no base URL override)."""
    c = Connection(platform="bigcommerce", settings={"store_hash": "abc123"},
                   credentials={"access_token": "tok-secret-123"},
                   app=AppContext(platform="bigcommerce"), remote_id=f"respx-{next(_n)}")
    yield c
    c.close()


def test_401_needs_reconnect_and_the_token_is_not_leaked(real):
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{API}/v2/store").respond(401, json={"status": 401, "title": "Unauthorized",
                                                               "type": "x", "errors": {}})
        with pytest.raises(NeedsReconnect) as err:
            auth.connect_store(real)
    assert route.calls.last.request.headers["X-Auth-Token"] == "tok-secret-123"
    assert "tok-secret-123" not in str(err.value) + str(err.value.detail)


def test_403_is_misconfigured(real):
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v2/orders").respond(403, json=[{"status": 403, "message": "missing scope"}])
        with pytest.raises(Misconfigured, match="scope"):
            orders.find_id(real, "X")


def test_v3_422_is_rejected_with_code_message_and_request_id(real):
    body = {"status": 422, "title": "JSON data is missing or invalid", "type": "x",
            "errors": {"destination": "must be https"}}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v3/hooks").respond(200, json={"data": [], "meta": {"pagination": {
            "total": 0, "count": 0, "per_page": 250, "current_page": 1, "total_pages": 1}}})
        mock.post(f"{API}/v3/hooks").respond(422, json=body, headers={"X-Request-ID": "req-9"})
        from bridge_bigcommerce import webhooks

        with pytest.raises(Rejected) as err:
            webhooks.register(real, "https://bridge.example/hooks")
    assert err.value.code == "422" and err.value.request_id == "req-9"
    assert "destination: must be https" in err.value.message


def test_v2_error_array_is_rejected_with_its_message(real):
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v2/orders/5").respond(200, json={"id": 5, "status_id": 11})
        mock.put(f"{API}/v2/orders/5").respond(400, json=[{"status": 400,
                                                           "message": "The field 'zip' is invalid."}])
        with pytest.raises(Rejected, match="zip") as err:
            orders.cancel(real, "5", "x")
    assert err.value.code == "400"


def test_500_is_transient(real):
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v2/store").respond(200, json={"currency": "USD"})
        mock.get(f"{API}/v3/catalog/products").respond(500, json={"status": 500, "title": "boom"})
        with pytest.raises(Transient):
            catalog.read_products(real, ["1"])


def test_network_failure_is_transient(real, monkeypatch):
    monkeypatch.setattr("bridge.http.time.sleep", lambda s: None)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v2/store").mock(side_effect=httpx.ConnectError("down"))
        with pytest.raises(Transient):
            auth.connect_store(real)


def test_429_waits_as_told_then_succeeds(real, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("bridge.http.time.sleep", waits.append)
    store = {"name": "S", "currency": "USD", "timezone": {"name": "UTC"}}
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v2/store").mock(side_effect=[
            httpx.Response(429, json={"status": 429, "title": "Too many"},
                           headers={**QUOTA, "X-Rate-Limit-Requests-Left": "0",
                                    "X-Rate-Limit-Time-Reset-Ms": "1500"}),
            httpx.Response(200, json=store, headers=QUOTA)])
        info = auth.connect_store(real)
    assert info.currency == "USD" and info.remote_id == "abc123"
    assert waits == [1.5]


def test_429_with_a_long_reset_is_rate_limited(real, monkeypatch):
    monkeypatch.setattr("bridge.http.time.sleep", lambda s: None)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/v2/store").respond(429, json={"status": 429}, headers={
            "X-Rate-Limit-Time-Reset-Ms": "45000"})
        with pytest.raises(RateLimited) as err:
            auth.connect_store(real)
    assert err.value.retry_after == pytest.approx(45.0)


def test_token_exchange_refused_needs_reconnect():
    app = AppContext(platform="bigcommerce", settings={"client_id": "cid", "client_secret": "csecret"})
    with respx.mock(assert_all_called=True) as mock:
        route = mock.post("https://login.bigcommerce.com/oauth2/token").respond(
            400, json={"error": "invalid_grant"})
        with pytest.raises(NeedsReconnect):
            auth.exchange(app, {"code": "c1", "context": "stores/abc123", "scope": "x"},
                          "https://bridge.example/callbacks/bigcommerce/auth")
    sent = route.calls.last.request
    assert b'"grant_type":"authorization_code"' in sent.content.replace(b" ", b"")


def test_pacer_waits_for_the_window_before_the_quota_is_spent():
    clock = [100.0]
    slept: list[float] = []
    pacer = QuotaPacer(clock=lambda: clock[0], sleep=slept.append)
    response = httpx.Response(200, headers={**QUOTA, "X-Rate-Limit-Requests-Left": "3",
                                            "X-Rate-Limit-Time-Reset-Ms": "2000"})
    bucket = pacer.observe(response)
    assert bucket.rate == pytest.approx(5.0)
    # 3 left is within the reserve (5 % of 150 = 7): wait for the window to reset
    assert pacer.before_request() == pytest.approx(2.0)
    assert slept == [pytest.approx(2.0)]
    pacer.observe(httpx.Response(200, headers={**QUOTA, "X-Rate-Limit-Requests-Left": "100"}))
    slept.clear()
    assert pacer.before_request() == 0.0 and slept == []


def test_pacing_against_the_sandbox_never_hits_429(sandbox, make_conn):
    sandbox.gate.quota, sandbox.gate.window_ms = 12, 400
    try:
        conn = make_conn()
        sandbox.stats.reset()
        for _ in range(30):
            catalog.read_products(conn, ["100"])
        assert sandbox.stats.throttled == 0
        assert sandbox.stats.by_route["GET /v3/catalog/products"] == 30
    finally:
        sandbox.gate.quota, sandbox.gate.window_ms = 10_000, 30_000


def test_sandbox_429_is_waited_out_by_the_http_layer(sandbox, make_conn, server):
    sandbox.gate.quota, sandbox.gate.window_ms = 3, 3000  # wide enough for a loaded machine
    sandbox.gate.window_start, sandbox.gate.used = time.monotonic(), 0
    try:
        for _ in range(3):  # another app spends the store's quota
            spent = httpx.get(f"{server.url}/stores/{sandbox.store_hash}/v2/time",
                              headers={"X-Auth-Token": sandbox.token})
        assert spent.headers["X-Rate-Limit-Requests-Left"] == "0"
        # The spent window runs from now: however slow those requests were on a loaded machine,
        # bridge's first request comes inside it (it used to expire first, and nothing was 429).
        sandbox.gate.window_start = time.monotonic()
        info = auth.connect_store(make_conn())
        assert info.remote_id == sandbox.store_hash
        assert sandbox.stats.throttled >= 1
    finally:
        sandbox.gate.quota, sandbox.gate.window_ms = 10_000, 30_000

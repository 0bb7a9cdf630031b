"""Error paths: respx at the transport for TikTok's answers, and the sandbox's own checks."""

from __future__ import annotations

import time

import httpx
import pytest
import respx

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, NeedsReconnect, RateLimited, Rejected, Transient
from bridge.models import InventoryUpdate
from bridge_tiktokshop import connector, signing
from bridge_tiktokshop.client import TikTokClient

API = "https://open-api.tiktokglobalshop.com"
AUTH = "https://auth.tiktok-shops.com"
SECRET = "respx-app-secret-123"
TOKEN = "ROW_respx_access_token_abc"


def _conn() -> Connection:
    return Connection(platform="tiktokshop",
                      settings={"shop_id": "1", "shop_cipher": "ROW_c", "region": "GB", "rate_limit": 0},
                      credentials={"access_token": TOKEN, "refresh_token": "ROW_respx_refresh_xyz"},
                      app=AppContext(platform="tiktokshop", settings={"app_key": "k1", "app_secret": SECRET}))


def env(code: int = 0, data=None, message: str = "Success") -> dict:
    return {"code": code, "message": message, "request_id": "REQ123", "data": data}


def test_request_is_signed_with_token_header_and_cipher() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{API}/logistics/202309/warehouses").respond(json=env(0, {"warehouses": []}))
        TikTokClient(_conn()).call("GET", "/logistics/202309/warehouses")
    req = route.calls.last.request
    q = dict(httpx.URL(str(req.url)).params)
    assert req.headers["x-tts-access-token"] == TOKEN and "access_token" not in q
    assert q["shop_cipher"] == "ROW_c" and q["app_key"] == "k1" and abs(int(q["timestamp"]) - time.time()) < 5
    assert signing.verify(req.url.path, q, None, "", SECRET)


@pytest.mark.parametrize(("status", "body", "kind"), [
    (200, env(36009002, message="Too many requests"), RateLimited),
    (500, env(36009003, message="internal"), Transient),
    (200, env(36009007, message="timeout"), Transient),
    (200, env(106001, message="Invalid sign"), Misconfigured),
    (200, env(105005, message="no scope"), NeedsReconnect),
    (200, env(101000, message="token not for cipher"), NeedsReconnect),
    (200, env(36009004, message="Invalid timestamp"), Misconfigured),
])
def test_error_table(status, body, kind) -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/logistics/202309/warehouses").respond(status, json=body)
        with pytest.raises(kind) as err:
            TikTokClient(_conn()).call("GET", "/logistics/202309/warehouses")
    assert SECRET not in str(err.value) and TOKEN not in str(err.value)


def test_http_429_after_retries_is_rate_limited() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{API}/logistics/202309/warehouses").respond(
            429, json=env(36009002, message="Too many requests"), headers={"Retry-After": "0"})
        with pytest.raises(RateLimited):
            TikTokClient(_conn()).call("GET", "/logistics/202309/warehouses")
    assert route.call_count == 4  # the shared HTTP layer retried; the plugin did not


def test_rejected_keeps_code_message_request_id() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/product/202309/categories/9/attributes").respond(
            json=env(12052023, message="Category does not exist"))
        with pytest.raises(Rejected) as err:
            connector.category_attributes(connection=_conn(), category_id="9")
    assert (err.value.code, err.value.request_id) == ("12052023", "REQ123")
    assert "Category does not exist" in err.value.message


def test_expired_token_refreshes_once_and_saves() -> None:
    saved = []
    conn = _conn()
    conn.on_credentials = saved.append
    with respx.mock(assert_all_called=True) as mock:
        api = mock.get(f"{API}/logistics/202309/warehouses").mock(side_effect=[
            httpx.Response(200, json=env(105002, message="expired")),
            httpx.Response(200, json=env(0, {"warehouses": []}))])
        refresh = mock.get(f"{AUTH}/api/v2/token/refresh").respond(json=env(0, {
            "access_token": "ROW_new_access", "access_token_expire_in": int(time.time()) + 604800,
            "refresh_token": "ROW_new_refresh", "refresh_token_expire_in": int(time.time()) + 9e6}))
        TikTokClient(conn).call("GET", "/logistics/202309/warehouses")
    assert api.call_count == 2 and refresh.call_count == 1
    assert api.calls.last.request.headers["x-tts-access-token"] == "ROW_new_access"
    assert saved[-1]["refresh_token"] == "ROW_new_refresh"
    assert refresh.calls.last.request.url.params["grant_type"] == "refresh_token"


def test_refused_refresh_needs_reconnect() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/logistics/202309/warehouses").respond(json=env(105002, message="expired"))
        mock.get(f"{AUTH}/api/v2/token/refresh").respond(json=env(36004004, message="invalid refresh"))
        with pytest.raises(NeedsReconnect) as err:
            TikTokClient(_conn()).call("GET", "/logistics/202309/warehouses")
    assert "ROW_respx_refresh_xyz" not in str(err.value)


def test_code_zero_with_item_errors_fails_those_items() -> None:
    conn = _conn()
    conn.state["warehouses"] = {"at": time.time(), "items": [
        {"id": "W1", "type": "SALES_WAREHOUSE", "effect_status": "ENABLED", "is_default": True}]}
    with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{API}/product/202309/products/P1/inventory/update").respond(json=env(0, {"errors": [
            {"code": 12019024, "message": "Stock count is invalid", "detail": {"sku_id": "S2"}}]}))
        results = connector.update_inventory(connection=conn, updates=[
            InventoryUpdate(product_id="P1", sku_id="S1", quantity=1),
            InventoryUpdate(product_id="P1", sku_id="S2", quantity=2)])
    assert [(r.key, r.ok, r.code) for r in results] == [("S1", True, None), ("S2", False, "12019024")]


def test_network_failure_is_transient(monkeypatch) -> None:
    monkeypatch.setattr("bridge.http.time.sleep", lambda s: None)
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{API}/logistics/202309/warehouses").mock(side_effect=httpx.ConnectError("down"))
        with pytest.raises(Transient):
            TikTokClient(_conn()).call("GET", "/logistics/202309/warehouses")


# --------------------------------------------------------------------------- the sandbox's checks


def _raw(sandbox, server, path: str, *, cipher: str | None = "", token: str | None = None,
         secret: str | None = None, stamp: int | None = None) -> dict:
    shop = sandbox.shops()[0]
    q = {"app_key": sandbox.app_key, "timestamp": str(stamp or int(time.time()))}
    if cipher is not None:
        q["shop_cipher"] = cipher or shop["cipher"]
    q["sign"] = signing.sign(path, q, None, "", secret or sandbox.app_secret)
    headers = {"x-tts-access-token": token or sandbox.credentials()["access_token"]}
    response = httpx.get(server.url + path, params=q, headers=headers)
    return {"status": response.status_code, **response.json()}


def test_sandbox_checks_like_tiktok(sandbox, server) -> None:
    path = "/logistics/202309/warehouses"
    assert _raw(sandbox, server, path)["code"] == 0
    assert _raw(sandbox, server, path, secret="wrong")["code"] == 106001
    assert _raw(sandbox, server, path, cipher=None)["code"] == 106013
    assert _raw(sandbox, server, path, cipher=sandbox.shops()[1]["cipher"])["code"] == 101000
    assert _raw(sandbox, server, path, token="ROW_nope")["code"] == 36009004
    assert "timestamp" in _raw(sandbox, server, path, stamp=int(time.time()) - 600)["message"]
    assert "shop_cipher" in _raw(sandbox, server, "/authorization/202309/shops")["message"]
    assert _raw(sandbox, server, "/nope/202309/x")["code"] == 36009009


def test_sandbox_rate_limit_and_injected_faults(sandbox, server) -> None:
    path = "/logistics/202309/warehouses"
    sandbox.set_rate_limit(3)
    answers = [_raw(sandbox, server, path) for _ in range(5)]
    assert [a["code"] for a in answers].count(36009002) >= 1
    assert any(a["status"] == 429 for a in answers)
    sandbox.set_rate_limit(0)
    sandbox.fail_next(1, 503)
    assert _raw(sandbox, server, path)["status"] == 503
    sandbox.fail_next(1, 105002)
    assert _raw(sandbox, server, path)["code"] == 105002
    sandbox.set_latency(150)
    started = time.perf_counter()
    _raw(sandbox, server, path)
    assert time.perf_counter() - started >= 0.15


def test_paced_under_the_sandbox_limit_without_a_single_429(sandbox, conn) -> None:
    """Four threads calling one API flat out: the client paces them so that TikTok's sliding
    one-second window (50 per API per shop) never answers 429."""
    from concurrent.futures import ThreadPoolExecutor

    from bridge_tiktokshop.client import TikTokClient

    sandbox.set_rate_limit(50)
    before = sandbox.stats.snapshot()["throttled"]
    client = TikTokClient(conn)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: client.call("GET", "/logistics/202309/warehouses"), range(110)))
    assert sandbox.stats.snapshot()["throttled"] == before
    assert time.monotonic() - started >= 2.0  # 110 calls at under 50/s: paced, not burst

"""The shared HTTP layer: retries honouring Retry-After, errors, loopback rule, redaction."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
import respx

from bridge import http
from bridge.errors import Misconfigured, RateLimited, Transient


@pytest.fixture()
def router():
    with respx.mock(assert_all_called=True) as r:
        yield r


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(http.time, "sleep", lambda s: slept.append(s))
    return slept


def client(**kw):  # type: ignore[no-untyped-def]
    return http.make_client("https://api.example.com", platform="test", **kw)


def test_429_is_retried_after_the_wait_it_asks(router, no_sleep):
    route = router.get("https://api.example.com/x").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"ok": 1})])
    assert client().get("/x").json() == {"ok": 1}
    assert route.call_count == 2 and 2.0 in no_sleep


def test_long_retry_after_goes_to_the_scheduler(router):
    router.get("https://api.example.com/x").mock(return_value=httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as err:
        client().get("/x")
    assert err.value.retry_after == 120


def test_5xx_after_retries_is_returned_and_network_errors_are_transient(router):
    route = router.get("https://api.example.com/x").mock(return_value=httpx.Response(503))
    assert client(max_retries=2).get("/x").status_code == 503
    assert route.call_count == 3
    router.get("https://api.example.com/y").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(Transient, match="cannot reach api.example.com"):
        client(max_retries=1).get("/y")


def test_4xx_is_returned_to_the_plugin_without_retry(router):
    route = router.get("https://api.example.com/x").mock(return_value=httpx.Response(404))
    assert client().get("/x").status_code == 404 and route.call_count == 1


def test_user_agent_names_bridge(router):
    route = router.get("https://api.example.com/x").mock(return_value=httpx.Response(200))
    client().get("/x")
    assert route.calls[0].request.headers["User-Agent"].startswith("bridge/")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80",
                                 "https://shop.example.com"])
def test_allowed_base_urls(url):
    assert http.check_base_url(url + "/") == url


@pytest.mark.parametrize("url", ["http://shop.example.com", "http://10.0.0.1", "ftp://x", "shop.com"])
def test_refused_base_urls(url):
    with pytest.raises(Misconfigured):
        http.check_base_url(url)


def test_secrets_never_reach_the_logs(router, caplog):
    router.get("https://api.example.com/x").mock(return_value=httpx.Response(200))
    caplog.set_level(logging.DEBUG, logger="bridge.http")
    c = client(secrets=["tok_SUPERSECRET"])
    c.get("/x", params={"access_token": "tok_SUPERSECRET", "sign": "abcdef123", "page": "2"})
    text = caplog.text
    assert "/x" in text and "page=2" in text
    assert "SUPERSECRET" not in text and "abcdef123" not in text


def test_rate_limiter_spaces_requests(monkeypatch):
    monkeypatch.undo()  # real sleep
    limit = http.RateLimit(rate=20, burst=1)
    started = time.monotonic()
    for _ in range(5):
        http.throttle("store-x", "k", limit)
    assert time.monotonic() - started >= 0.18

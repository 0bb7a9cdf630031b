"""The shared HTTP layer: retries honouring Retry-After, errors, loopback rule, redaction."""

from __future__ import annotations

import logging
import time

import httpx
import pytest
import respx

from bridge import http, pacing
from bridge.errors import (
    Misconfigured,
    NeedsReconnect,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)


@pytest.fixture()
def router():
    with respx.mock(assert_all_called=True) as r:
        yield r


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(http.time, "sleep", lambda s: slept.append(s))
    monkeypatch.setattr(pacing.time, "sleep", lambda s: slept.append(s))
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
    pacer = pacing.BucketPacer({"default": http.RateLimit(rate=20, burst=1)})
    started = time.monotonic()
    for _ in range(5):
        pacer.before("k")
    assert time.monotonic() - started >= 0.18


# --------------------------------------------------------------------------- never twice

def test_a_post_whose_answer_is_lost_is_never_sent_again(router):
    route = router.post("https://api.example.com/orders").mock(side_effect=httpx.ReadError("reset"))
    with pytest.raises(OutcomeUnknown, match="looks it up"):
        client().post("/orders", json={})
    assert route.call_count == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_post_answered_5xx_is_unknown_not_retried(router, status):
    route = router.post("https://api.example.com/orders").mock(return_value=httpx.Response(status))
    with pytest.raises(OutcomeUnknown) as err:
        client().post("/orders", json={})
    assert route.call_count == 1 and err.value.status == status
    assert isinstance(err.value, Transient)  # the scheduler's handling still applies


def test_a_timeout_on_a_post_is_unknown(router):
    route = router.post("https://api.example.com/orders").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(OutcomeUnknown):
        client().post("/orders", json={})
    assert route.call_count == 1


def test_a_post_not_sent_at_all_or_refused_429_is_retried(router, no_sleep):
    route = router.post("https://api.example.com/orders").mock(side_effect=[
        httpx.ConnectError("refused"), httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(201, json={"id": 7})])
    assert client().post("/orders", json={}).json() == {"id": 7}
    assert route.call_count == 3


def test_an_idempotent_post_is_retried(router):
    route = router.post("https://api.example.com/search").mock(side_effect=[
        httpx.ReadError("reset"), httpx.Response(500), httpx.Response(200, json={"hits": []})])
    c = client()
    assert c.post("/search", idempotent=True).json() == {"hits": []}
    assert route.call_count == 3 and c.retries == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_reads_are_retried_on_5xx(router, status):
    route = router.get("https://api.example.com/x").mock(side_effect=[
        httpx.Response(status), httpx.Response(200, json={"ok": 1})])
    assert client().get("/x").json() == {"ok": 1} and route.call_count == 2


def test_backoff_grows_with_jitter_and_the_time_budget_bounds_it(router, no_sleep):
    router.get("https://api.example.com/x").mock(side_effect=httpx.ReadTimeout("slow"))
    policy = http.RetryPolicy(attempts=10, base=1.0, cap=8.0, budget=10.0)
    with pytest.raises(Transient):
        client(retry=policy).get("/x")
    assert sum(no_sleep) <= 10.0
    assert 1 < len(no_sleep) < 9, "the time budget, not the count, must have stopped it"
    assert 0.5 <= no_sleep[0] <= 1.0 and 1.0 <= no_sleep[1] <= 2.0


def test_a_2xx_write_body_that_cannot_be_read_is_unknown(router):
    router.post("https://api.example.com/orders").mock(return_value=httpx.Response(201, content=b'{"id": 4'))
    response = client().post("/orders", json={})
    with pytest.raises(OutcomeUnknown):
        http.read_json(response, platform="test", write=True)
    with pytest.raises(Transient):
        http.read_json(response, platform="test", write=False)


# --------------------------------------------------------------------------- the error table

def _answer(status, **headers):  # type: ignore[no-untyped-def]
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "https://x/y"))


def test_default_table():
    table = http.ErrorTable("Example")
    assert table.error(_answer(200)) is None
    unauthorized = table.error(_answer(401))
    assert isinstance(unauthorized, NeedsReconnect) and unauthorized.definitive is False
    limited = table.error(_answer(429, **{"Retry-After": "7"}))
    assert isinstance(limited, RateLimited) and limited.retry_after == 7
    assert isinstance(table.error(_answer(503)), Transient)
    refused = table.error(_answer(422), message="bad sku", code="invalid", item="p1")
    assert isinstance(refused, Rejected) and refused.code == "invalid" and refused.item == "p1"
    assert "Example: bad sku" in str(refused)


def test_a_plugin_overrides_only_where_its_platform_differs():
    table = http.ErrorTable("Example", {403: lambda a: Misconfigured(f"scope missing: {a.message}"),
                                        "4xx": lambda a: None})
    assert isinstance(table.error(_answer(403), message="orders"), Misconfigured)
    assert isinstance(table.error(_answer(404)), Rejected)  # None from an override: the default


def test_pacers_are_shared_by_the_clients_of_a_store():
    from bridge.connection import AppContext, Connection

    def conn():  # type: ignore[no-untyped-def]
        return Connection("example", {}, {}, AppContext("example"), store_id=4242)

    limits = {"default": http.RateLimit(rate=5, burst=2)}
    a = conn().http_client("https://api.example.com", rate_limits=limits)
    b = conn().http_client("https://api.example.com", rate_limits=limits)
    assert a is not b and a.pacer is b.pacer
    assert conn().pacer("quota", dict) is conn().pacer("quota", dict)

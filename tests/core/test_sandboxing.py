"""The sandbox kit: faults (before and after processing), latency, statistics, webhook delivery to
subscribed addresses only, reset and the control API, on a small sandbox served over a socket."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridge.models import Order, Tracking
from bridge.sandboxing import Fault, SandboxKit, SandboxServer, Subscription
from bridge.sandboxing.auth import hmac_sha256_b64


class TinyShop:
    """An eCommerce sandbox of a made-up platform: a counter that POST /items increments."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.items: dict[str, int] = {}
        self.writes = 0
        self.subs: list[Subscription] = []
        self.kit = SandboxKit(self, platform="tiny", kind="ecommerce")
        self.stats = self.kit.stats
        self.webhooks = self.kit.deliverer(
            lambda: list(self.subs),
            lambda sub, topic, body: {"X-Tiny-Topic": topic, "X-Tiny-Hmac": hmac_sha256_b64("s3cret", body)})

        async def items(request: Request) -> Response:
            self.stats.record(request.method, "/items")
            if request.method == "POST":
                with self.lock:
                    self.writes += 1
                return JSONResponse({"id": self.writes, "pad": "x" * 200}, 201)
            return JSONResponse({"items": self.items})

        self.app = self.kit.wrap(Starlette(routes=[Route("/items", items, methods=["GET", "POST"])]))

    def base_url_setting(self, url: str) -> dict[str, Any]:
        return {"base_url": url}

    def credentials(self) -> dict[str, Any]:
        return {"token": "t"}

    def app_settings(self) -> dict[str, Any]:
        return {}

    def seed_catalog(self, products: int, variants: int = 1, *, seed: int = 0) -> list[str]:
        for n in range(products):
            self.items[f"SKU-{n}"] = 5
        return [str(n) for n in range(products)]

    def set_quantity(self, sku: str, quantity: int) -> None:
        if sku not in self.items:
            raise KeyError(sku)
        self.items[sku] = quantity
        self.webhooks.emit("stock", {"sku": sku, "quantity": quantity})

    def quantity(self, sku: str) -> int:
        return self.items[sku]

    def fulfill_order(self, order_id: str, tracking: Tracking) -> str:
        return f"F-{order_id}-{tracking.number}-{tracking.carrier}"

    def cancel_order(self, order_id: str) -> None:
        raise KeyError(f"order {order_id}")

    def orders(self) -> list[Order]:
        return []

    def subscriptions(self) -> list[Subscription]:
        return list(self.subs)

    def reset(self) -> None:
        self.items.clear()
        self.subs.clear()


@pytest.fixture(scope="module")
def served() -> Any:
    shop = TinyShop()
    with SandboxServer(shop.app) as server:
        yield shop, server.url


@pytest.fixture()
def shop(served: Any) -> Any:
    shop, url = served
    shop.kit.reset()
    shop.writes = 0
    with httpx.Client(base_url=url, timeout=5) as client:
        yield shop, client


def test_status_fault_for_chosen_route_and_count_with_retry_after(shop: Any) -> None:
    sb, c = shop
    sb.kit.inject(Fault(status=429, retry_after=3, method="POST", path="/it*", count=2))
    assert c.get("/items").status_code == 200  # another method: untouched
    first, second, third = (c.post("/items") for _ in range(3))
    assert (first.status_code, first.headers["retry-after"]) == (429, "3")
    assert second.status_code == 429 and third.status_code == 201
    assert sb.writes == 1  # faulted before processing: nothing written
    assert sb.kit.snapshot()["faulted"] == 2 and not sb.kit.faults


def test_lost_answer_is_processed_then_reset(shop: Any) -> None:
    sb, c = shop
    sb.kit.inject(Fault(reset=True, after=True, method="POST", path="/items"))
    with pytest.raises(httpx.TransportError):
        c.post("/items")
    assert sb.writes == 1  # the write happened; its answer was lost
    assert c.post("/items").json()["id"] == 2


def test_reset_before_processing_writes_nothing(shop: Any) -> None:
    sb, c = shop
    sb.kit.inject(Fault(reset=True))
    with pytest.raises(httpx.TransportError):
        c.post("/items")
    assert sb.writes == 0


def test_processed_then_502_and_body_cut_short(shop: Any) -> None:
    sb, c = shop
    sb.kit.inject(Fault(status=502, after=True))
    assert c.post("/items").status_code == 502 and sb.writes == 1
    sb.kit.inject(Fault(truncate=True))
    with pytest.raises(httpx.TransportError):
        c.post("/items")
    assert sb.writes == 2


def test_delay_and_latency(shop: Any) -> None:
    sb, c = shop
    sb.kit.inject(Fault(delay_ms=300, after=True))
    with pytest.raises(httpx.ReadTimeout):
        c.post("/items", timeout=0.1)
    time.sleep(0.3)
    assert sb.writes == 1  # a client timeout after the write took effect
    sb.kit.set_latency(120)
    started = time.monotonic()
    c.get("/items")
    assert time.monotonic() - started >= 0.12


def test_fault_validation() -> None:
    with pytest.raises(ValueError, match="one of"):
        Fault(status=500, reset=True)
    with pytest.raises(ValueError, match="needs"):
        Fault()
    with pytest.raises(ValueError, match="unknown fault field"):
        Fault.from_dict({"status": 500, "colour": "red"})
    parsed = Fault.from_dict({"status": "429", "retry_after": "2", "count": "3", "after": "true"})
    assert (parsed.status, parsed.retry_after, parsed.count, parsed.after) == (429, 2.0, 3, True)
    with pytest.raises(ValueError, match="bad fault"):
        Fault.from_dict({"status": "teapot"})


def test_control_api_and_webhooks_only_to_subscribed_addresses(shop: Any) -> None:
    sb, c = shop
    received: list[tuple[dict[str, str], bytes]] = []

    async def hook(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response("ok")

    with SandboxServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as receiver:
        assert c.get("/_sandbox").json()["kind"] == "ecommerce"
        assert c.post("/_sandbox/seed", json={"products": 2}).json() == {"ids": ["0", "1"]}
        assert c.post("/_sandbox/stock", json={"sku": "SKU-1", "quantity": 9}).json()["quantity"] == 9
        sb.webhooks.flush()
        assert received == []  # nobody subscribed: nothing sent anywhere
        sb.subs.append(Subscription(id="1", topic="stock", address=receiver.url + "/hook"))
        sb.subs.append(Subscription(id="2", topic="other", address=receiver.url + "/hook"))
        c.post("/_sandbox/stock", json={"sku": "SKU-0", "quantity": 4})
        sb.webhooks.flush()
    assert len(received) == 1
    headers, body = received[0]
    assert headers["x-tiny-topic"] == "stock" and headers["x-tiny-hmac"] == hmac_sha256_b64("s3cret", body)
    assert [s["id"] for s in c.get("/_sandbox/subscriptions").json()] == ["1", "2"]
    assert c.get("/_sandbox/deliveries").json()[0]["status"] == 200
    assert c.get("/_sandbox/stock/SKU-404").status_code == 404
    place = c.post("/_sandbox/orders", json={"lines": [{"sku": "SKU-0", "quantity": 1}]})
    assert place.status_code == 404 and "channel" in place.json()["error"]
    fulfil = c.post("/_sandbox/orders/7/fulfil", json={"number": "RM1", "carrier": "Royal Mail"}).json()
    assert fulfil["fulfillment_id"] == "F-7-RM1-Royal Mail"
    gid = c.post("/_sandbox/orders/gid%3A%2F%2Ftiny%2FOrder%2F8/fulfil", json={"number": "X", "carrier": "DPD"})
    assert gid.json()["order_id"] == "gid://tiny/Order/8"  # ids with slashes (GraphQL gids) reach the sandbox
    assert c.post("/_sandbox/faults", json={"status": 503, "path": "/items", "count": 2}).status_code == 200
    assert c.post("/_sandbox/faults", json={"status": 99}).status_code == 400
    assert c.get("/_sandbox/stats").json()["faults"][0]["count"] == 2
    assert c.get("/items").status_code == 503
    assert c.delete("/_sandbox/faults").json() == {"cleared": 1}
    assert c.get("/items").status_code == 200
    stats = c.get("/_sandbox/stats").json()
    assert stats["by_route"] == {"GET /items": 1} and stats["faulted"] == 1  # control calls not counted
    assert c.post("/_sandbox/reset").json() == {"reset": True}
    assert sb.items == {} and c.get("/_sandbox/stats").json()["total"] == 0


def test_auth_helpers() -> None:
    from bridge.sandboxing.auth import basic, bearer, header, same

    assert same("abc", "abc") and not same("abd", "abc") and not same(None, "abc")
    assert header({"X-Auth-Token": "t"}, "x-auth-token") == "t"
    assert bearer({"Authorization": "Bearer tok"}) == "tok" and bearer({"Authorization": "Basic x"}) is None
    assert basic({"authorization": "Basic Y2s6Y3M="}) == ("ck", "cs")
    assert basic({"authorization": "Basic %%%"}) is None


def test_fault_for_requests_whose_body_names_an_operation(shop: Any) -> None:
    sb, c = shop
    sb.kit.inject(Fault(reset=True, after=True, method="POST", path="/items", body="orderCreate"))
    assert c.post("/items", content=b'{"query": "mutation { productUpdate }"}').status_code == 201
    with pytest.raises(httpx.TransportError):
        c.post("/items", content=b'{"query": "mutation { orderCreate }"}')
    assert sb.writes == 2 and not sb.kit.faults  # processed, answer lost


def test_a_refusal_of_the_sandbox_reaches_the_control_client(shop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sb, c = shop

    class ApiError(Exception):
        pass

    def refuse(order_id: str) -> None:
        raise ApiError(f"order {order_id} has shipped: it cannot be cancelled")

    monkeypatch.setattr(sb, "cancel_order", refuse)
    answer = c.post("/_sandbox/orders/9/cancel")
    assert answer.status_code == 409 and answer.json() == {
        "error": "ApiError: order 9 has shipped: it cannot be cancelled"}


def test_webhook_deliveries_lost_or_duplicated_on_demand(shop: Any) -> None:
    sb, c = shop
    received: list[bytes] = []

    async def hook(request: Request) -> Response:
        received.append(await request.body())
        return Response("ok")

    with SandboxServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as receiver:
        sb.seed_catalog(1)
        sb.subs[:] = [Subscription(id="1", topic="stock", address=receiver.url + "/hook")]
        assert c.post("/_sandbox/webhook-faults", json={"kind": "drop"}).json()[0]["kind"] == "drop"
        assert c.post("/_sandbox/webhook-faults", json={"kind": "duplicate", "topic": "stock"}).status_code == 200
        assert c.post("/_sandbox/webhook-faults", json={"kind": "lose"}).status_code == 400
        for qty in (1, 2, 3):
            sb.set_quantity("SKU-0", qty)
        sb.webhooks.flush()
    assert [json.loads(r)["quantity"] for r in received] == [2, 2, 3]  # 1 lost, 2 twice, 3 once
    assert c.get("/_sandbox/deliveries").json()[0]["error"] == "dropped (injected)"


def test_chaos_plan_runs_behind_the_middleware() -> None:
    from bridge.sandboxing.chaos import ChaosPlan, chaotic

    async def ok(request: Request) -> Response:
        return JSONResponse({"ok": True})

    plan = ChaosPlan(0.5, seed=3)
    plan.add(Fault(status=418, body="teapot"))
    app = chaotic(Starlette(routes=[Route("/", ok, methods=["POST"])]), plan)
    with SandboxServer(app) as server, httpx.Client(base_url=server.url, timeout=2) as c:
        assert c.post("/", content=b"a teapot").status_code == 418  # queued, aimed by body
        outcomes = []
        for _ in range(20):
            try:
                outcomes.append(c.post("/", content=b"x").status_code)
            except httpx.TransportError:
                outcomes.append(0)
    assert 200 in outcomes and any(o != 200 for o in outcomes) and sum(plan.drawn.values()) > 0


def test_sandbox_ctl_asks_the_sandbox_what_it_is_once_per_command(shop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from bridge.cli.sandbox_ctl import sandbox_ctl

    _sb, c = shop
    asked: list[str] = []
    real = httpx.request

    def counted(method: str, url: str, **kw: Any) -> httpx.Response:
        asked.append(f"{method} {url}")
        return real(method, url, **kw)

    monkeypatch.setattr(httpx, "request", counted)
    res = CliRunner().invoke(sandbox_ctl, ["tiny", "--url", str(c.base_url), "info"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["platform"] == "tiny"
    assert len(asked) == 1, asked

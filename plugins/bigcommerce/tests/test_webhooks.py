"""Webhooks: idempotent subscription, real deliveries from the sandbox, authentication."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.errors import WebhookRejected
from bridge.models import Tracking, WebhookRequest
from bridge.sandboxing import SandboxServer
from bridge_bigcommerce import orders, webhooks


class Receiver:
    """A loopback endpoint recording the deliveries it receives."""

    def __init__(self) -> None:
        self.received: list[WebhookRequest] = []

        async def hook(request: Request) -> Response:
            self.received.append(WebhookRequest(headers=dict(request.headers), body=await request.body()))
            return Response(status_code=200)

        self.server = SandboxServer(Starlette(routes=[Route("/hooks", hook, methods=["POST"])]))

    @property
    def url(self) -> str:
        return self.server.url + "/hooks"

    def wait(self, count: int, timeout: float = 5.0) -> list[WebhookRequest]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    with r.server:
        yield r


def test_register_is_idempotent_and_keeps_the_secret(sandbox, conn):
    saved: list[dict] = []
    conn.on_credentials = saved.append
    ids = webhooks.register(conn, "https://bridge.example/webhooks/bigcommerce/1")
    assert len(ids) == len(webhooks.SCOPES) == len(sandbox.state.hooks)
    secret = conn.credentials[webhooks.SECRET_KEY]
    assert saved and saved[-1][webhooks.SECRET_KEY] == secret
    assert all(h["headers"] == {"X-Bridge-Secret": secret} for h in sandbox.state.hooks.values())
    hook = next(iter(sandbox.state.hooks.values()))
    hook["is_active"] = False  # BigCommerce deactivates a hook after 48 h of failures
    again = webhooks.register(conn, "https://bridge.example/webhooks/bigcommerce/1")
    assert again == ids
    assert sandbox.stats.by_route["POST /v3/hooks"] == len(webhooks.SCOPES)
    assert sandbox.stats.by_route["PUT /v3/hooks/{hook_id:int}"] == 1
    assert hook["is_active"] is True


def test_deliveries_are_authenticated_and_parsed(sandbox, conn, app, receiver, make_draft):
    receiver.received.clear()
    webhooks.register(conn, receiver.url)
    sandbox.set_quantity("SBX-7-00001-1", 3)
    (delivery,) = receiver.wait(1)
    parsed = webhooks.receive(app, conn, delivery)
    assert parsed.store_remote_id == sandbox.store_hash
    assert [(e.kind, e.remote_ids) for e in parsed.events] == [("inventory", ["1000"])]
    assert parsed.delivery_id

    created = orders.create(conn, make_draft("W-1"))
    sandbox.fulfill_order(created.remote_id, Tracking(number="T1", carrier="DHL"))
    sandbox.deliverer.flush()
    kinds = {(e.kind, tuple(e.remote_ids)) for d in receiver.wait(4)[1:]
             for e in webhooks.receive(app, conn, d).events}
    assert ("order", (created.remote_id,)) in kinds
    assert ("inventory", ("1001",)) in kinds
    assert ("fulfillment", (created.remote_id,)) in kinds
    other = orders.create(conn, make_draft("W-2"))
    sandbox.deliverer.flush()
    seen = len(receiver.received)
    orders.cancel(conn, other.remote_id, "x")
    sandbox.deliverer.flush()
    events = [e for d in receiver.wait(seen + 3)[seen:] for e in webhooks.receive(app, conn, d).events]
    assert ("order_cancelled", [other.remote_id]) in [(e.kind, e.remote_ids) for e in events]


def test_forged_deliveries_are_refused(sandbox, conn, app, receiver):
    receiver.received.clear()
    webhooks.register(conn, receiver.url)
    sandbox.set_quantity("SBX-7-00001-1", 4)
    (good,) = receiver.wait(1)
    webhooks.receive(app, conn, good)
    tampered = WebhookRequest(headers=good.headers, body=good.body.replace(b"1000", b"1001"))
    with pytest.raises(WebhookRejected, match="signature"):
        webhooks.receive(app, conn, tampered)
    no_secret = {k: v for k, v in good.headers.items() if k.lower() != "x-bridge-secret"}
    with pytest.raises(WebhookRejected, match="secret header"):
        webhooks.receive(app, conn, WebhookRequest(headers=no_secret, body=good.body))
    unsigned = {k: v for k, v in good.headers.items() if not k.lower().startswith("webhook-")}
    assert webhooks.receive(app, conn, WebhookRequest(headers=unsigned, body=good.body)).events
    with pytest.raises(WebhookRejected, match="unsigned"):
        webhooks.receive(app, None, WebhookRequest(headers=unsigned, body=good.body))
    app_wide = webhooks.receive(app, None, good)
    assert app_wide.store_remote_id == sandbox.store_hash
    old = dict(good.headers, **{"webhook-timestamp": str(int(time.time()) - 3600)})
    with pytest.raises(WebhookRejected):
        webhooks.receive(app, None, WebhookRequest(headers=old, body=good.body))


def test_event_kinds_by_scope():
    ev = webhooks._event
    assert ev("store/product/updated", {"type": "product", "id": 7}).kind == "product"
    assert ev("store/sku/updated", {"type": "sku", "id": 9, "sku": {"product_id": 7, "variant_id": 9}}
              ).remote_ids == ["7"]
    product_stock = ev("store/product/inventory/order/updated", {"id": 7, "inventory": {"product_id": 7}})
    assert (product_stock.kind, product_stock.remote_ids) == ("inventory", ["7"])
    assert ev("store/channel/1/inventory/product/stock_changed", {"variant_id": 3, "product_id": 7,
                                                                  "location_id": 1}).remote_ids == ["3"]
    assert ev("store/app/uninstalled", {}).kind == "uninstalled"
    assert ev("store/order/statusUpdated", {"id": 5, "status": {"new_status_id": 11}}).kind == "order"


def test_odd_deliveries_are_refused_or_parsed_never_crash():
    import base64
    import hashlib
    import hmac
    import json

    from bridge.connection import AppContext

    app = AppContext(platform="bigcommerce", settings={"client_secret": "cs"})

    def signed(body: bytes, stamp: str) -> WebhookRequest:
        sig = base64.b64encode(hmac.new(b"cs", f"m1.{stamp}.".encode() + body, hashlib.sha256).digest())
        return WebhookRequest(headers={"webhook-id": "m1", "webhook-timestamp": stamp,
                                       "webhook-signature": "v1," + sig.decode()}, body=body)

    with pytest.raises(WebhookRejected):
        webhooks.receive(app, None, signed(b"{}", "\u00b2"))
    with pytest.raises(WebhookRejected):
        webhooks.receive(app, None, WebhookRequest(headers={"webhook-id": "m", "webhook-timestamp": "1",
                                                            "webhook-signature": "v1,\u00e9"}, body=b"{}"))
    now = str(int(time.time()))
    for data in ({"inventory": [1]}, {"sku": "x", "status": 3}, {"status": [1], "id": [1]}, {"id": {"a": 1}}):
        for scope in ("store/sku/inventory/updated", "store/sku/updated", "store/order/updated",
                      "store/product/updated"):
            body = json.dumps({"scope": scope, "producer": "stores/abc", "data": data}).encode()
            assert webhooks.receive(app, None, signed(body, now)).store_remote_id == "abc"


def test_a_refund_submitted_against_an_order_names_the_order() -> None:
    from bridge_bigcommerce.webhooks import _event

    ev = _event("store/order/refund/created", {"type": "order", "id": 250, "refund": {"refund_id": 3}})
    assert (ev.kind, ev.remote_ids) == ("refund", ["250"])

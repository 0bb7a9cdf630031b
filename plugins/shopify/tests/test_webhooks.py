"""Webhooks: idempotent subscription, signed deliveries from the sandbox, verification."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.errors import WebhookRejected
from bridge.models import WebhookRequest
from bridge.sandboxing import SandboxServer
from bridge_shopify import catalog, webhooks


class Receiver:
    """A loopback endpoint that keeps what it is sent."""

    def __init__(self) -> None:
        self.requests: list[WebhookRequest] = []
        self.arrived = threading.Event()

        async def hook(request: Request) -> Response:
            self.requests.append(WebhookRequest(headers=dict(request.headers), body=await request.body()))
            self.arrived.set()
            return Response("ok")

        self.app = Starlette(routes=[Route("/hooks/shopify", hook, methods=["POST"])])


@pytest.fixture(scope="module")
def receiver() -> Iterator[tuple[Receiver, str]]:
    r = Receiver()
    with SandboxServer(r.app) as server:
        yield r, server.url + "/hooks/shopify"


def _next(receiver: Receiver, topic: str) -> WebhookRequest:
    assert receiver.arrived.wait(5), "no delivery arrived"
    for _ in range(50):
        found = [r for r in receiver.requests if r.header("X-Shopify-Topic") == topic]
        if found:
            receiver.requests.remove(found[0])
            return found[0]
        receiver.arrived.clear()
        receiver.arrived.wait(0.1)
    raise AssertionError(f"no {topic} delivery")


def test_subscriptions_are_idempotent(served, conn, receiver) -> None:
    _, url = receiver
    first = webhooks.register(conn, url)
    assert len(first) == len(webhooks.TOPICS)
    assert webhooks.register(conn, url) == first
    assert len(served.sandbox.webhooks.subscriptions(url)) == len(webhooks.TOPICS)


def test_signed_inventory_delivery_is_verified_and_parsed(served, conn, receiver) -> None:
    r, url = receiver
    webhooks.register(conn, url)
    state = served.sandbox.state
    vid = list(state.variants)[4]
    served.sandbox.set_quantity(state.variants[vid]["sku"], 9)
    request = _next(r, "inventory_levels/update")
    delivery = webhooks.receive(served.app(), conn, request)
    assert delivery.delivery_id == "sha256:" + hashlib.sha256(request.body).hexdigest()  # signed content
    assert delivery.store_remote_id == "bridge-sandbox.myshopify.com"
    [event] = delivery.events
    assert event.kind == "inventory" and event.remote_ids == [state.variants[vid]["item"]]
    [level] = catalog.read_inventory(conn, event.remote_ids)
    assert level.variant_id == vid and level.quantity == 9
    tampered = WebhookRequest(headers=request.headers, body=request.body.replace(b'"inventory_item_id":', b'"inventory_item_id":1'))
    with pytest.raises(WebhookRejected):
        webhooks.receive(served.app(), conn, tampered)


def test_uninstall_delivery_marks_the_store(served, conn, receiver) -> None:
    r, url = receiver
    webhooks.register(conn, url)
    served.sandbox.uninstall()
    served.sandbox.auth.revoked = False
    request = _next(r, "app/uninstalled")
    delivery = webhooks.receive(served.app(), None, request)
    assert [e.kind for e in delivery.events] == ["uninstalled"]
    assert delivery.store_remote_id == "bridge-sandbox.myshopify.com"


def test_missing_or_wrong_secret_is_refused(served) -> None:
    body = b'{"id": 1}'
    good = webhooks.sign(body, served.sandbox.auth.client_secret)
    request = WebhookRequest(headers={"X-Shopify-Hmac-Sha256": good, "X-Shopify-Topic": "products/update"},
                             body=body)
    assert webhooks.receive(served.app(), None, request).events[0].remote_ids == ["gid://shopify/Product/1"]
    with pytest.raises(WebhookRejected):
        webhooks.receive(served.app(client_secret="another"), None, request)
    with pytest.raises(WebhookRejected):
        webhooks.receive(served.app(), None, WebhookRequest(headers={}, body=body))


def _signed(served, body: bytes, topic: str = "products/update", shop: str = "a.myshopify.com",
            webhook_id: str = "w-1", secret: str | None = None) -> WebhookRequest:
    sig = webhooks.sign(body, secret or served.sandbox.auth.client_secret)
    return WebhookRequest(headers={"X-Shopify-Hmac-Sha256": sig, "X-Shopify-Topic": topic,
                                   "X-Shopify-Shop-Domain": shop, "X-Shopify-Webhook-Id": webhook_id},
                          body=body)


def test_a_replayed_body_under_a_new_webhook_id_is_the_same_delivery(served) -> None:
    body = b'{"id": 7, "updated_at": "2099-01-01T00:00:00Z"}'
    first = webhooks.receive(served.app(), None, _signed(served, body, webhook_id="w-1"))
    again = webhooks.receive(served.app(), None, _signed(served, body, webhook_id="w-2-new"))
    assert first.delivery_id == again.delivery_id  # keyed on the signed content, not the header


def test_an_old_signed_body_is_refused_as_a_replay(served) -> None:
    from datetime import UTC, datetime, timedelta

    stale = (datetime.now(UTC) - webhooks.REPLAY_WINDOW - timedelta(minutes=5)).isoformat()
    body = json.dumps({"id": 7, "updated_at": stale}).encode()
    with pytest.raises(WebhookRejected, match="old"):
        webhooks.receive(served.app(), None, _signed(served, body))


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'"text"', b""])
def test_a_signed_body_that_is_not_a_json_object_is_refused(served, body: bytes) -> None:
    with pytest.raises(WebhookRejected):
        webhooks.receive(served.app(), None, _signed(served, body))


def test_an_uninstall_naming_another_shop_is_refused(served) -> None:
    body = b'{"id": 1, "myshopify_domain": "a.myshopify.com", "domain": "a.example.com"}'
    with pytest.raises(WebhookRejected, match="another shop"):
        webhooks.receive(served.app(), None, _signed(served, body, "app/uninstalled", shop="b.myshopify.com"))
    ok = webhooks.receive(served.app(), None, _signed(served, body, "app/uninstalled", shop="a.myshopify.com"))
    assert ok.store_remote_id == "a.myshopify.com"


def test_a_store_with_its_own_secret_refuses_the_app_secret(served, conn) -> None:
    conn.credentials["client_secret"] = "the-store-own-secret"
    body = b'{"id": 7}'
    try:
        with pytest.raises(WebhookRejected):
            webhooks.receive(served.app(), conn, _signed(served, body))
        assert webhooks.receive(served.app(), conn, _signed(served, body, secret="the-store-own-secret"))
    finally:
        conn.credentials.pop("client_secret")


def test_a_non_ascii_signature_header_is_refused(served) -> None:
    request = WebhookRequest(headers={"X-Shopify-Hmac-Sha256": "é" * 44}, body=b"{}")
    with pytest.raises(WebhookRejected):
        webhooks.receive(served.app(), None, request)


def test_refund_and_order_edit_deliveries_name_their_order(served, conn, receiver) -> None:
    from bridge.models import Address, Money, OrderDraft, OrderLine
    from bridge_shopify import orders

    r, url = receiver
    webhooks.register(conn, url)
    state = served.sandbox.state
    vid = list(state.variants)[2]
    served.sandbox.set_quantity(state.variants[vid]["sku"], 10)
    order = orders.create_order(conn, OrderDraft(
        source="TikTok Shop", source_order_id="576700000000001", currency="GBP",
        lines=[OrderLine(remote_id="L1", variant_id=vid, quantity=2, unit_price=Money(amount="5", currency="GBP"))],
        shipping_address=Address(name="A B", line1="1 St", city="X", postal_code="N1", country_code="GB"),
        shipping=Money(amount="1", currency="GBP"), total=Money(amount="11", currency="GBP"))).remote_id
    served.sandbox.cancel_line(order, state.variants[vid]["sku"], 1)
    edited = webhooks.receive(served.app(), conn, _next(r, "orders/edited"))
    assert [(e.kind, e.remote_ids) for e in edited.events] == [("refund", [order])]

"""Webhook subscriptions, signed deliveries from the sandbox, verification and parsing."""

from __future__ import annotations

import json
import time

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.errors import Misconfigured, Rejected, WebhookRejected
from bridge.models import WebhookRequest
from bridge.sandboxing import SandboxServer
from bridge_tiktokshop import connector, signing
from bridge_tiktokshop.client import TikTokClient


def test_register_deliver_verify_parse(sandbox, server, conn) -> None:
    received: list[WebhookRequest] = []

    async def hook(request: Request) -> Response:
        received.append(WebhookRequest(headers=dict(request.headers), body=await request.body()))
        return Response(status_code=200)

    with SandboxServer(Starlette(routes=[Route("/hooks/tts", hook, methods=["POST"])])) as receiver:
        url = receiver.url + "/hooks/tts"
        ids = connector.register_webhooks(connection=conn, url=url)
        puts = sandbox.stats.snapshot()["by_route"]["PUT /event/202309/webhooks"]
        assert connector.register_webhooks(connection=conn, url=url) == ids
        assert sandbox.stats.snapshot()["by_route"]["PUT /event/202309/webhooks"] == puts
        shop = sandbox.shops()[0]["id"]
        oid = sandbox.create_order(shop, [(sandbox.products(shop)[0]["skus"][0]["seller_sku"], 1)])
        sandbox.cancel_order(oid)
        sandbox.deliverer.drain()
        deadline = time.time() + 5
        while len(received) < 3 and time.time() < deadline:
            time.sleep(0.02)
    app = sandbox.app_context(server.url)
    deliveries = [connector.receive_webhook(app=app, connection=None, request=r) for r in received]
    kinds = [(e.kind, e.remote_ids) for d in deliveries for e in d.events]
    assert ("order", [oid]) in kinds and ("order_cancelled", [oid]) in kinds
    assert all(d.store_remote_id == shop and d.delivery_id for d in deliveries)
    tampered = received[0].model_copy(update={"body": received[0].body.replace(b"}", b" }", 1)})
    with pytest.raises(WebhookRejected):
        connector.receive_webhook(app=app, connection=None, request=tampered)
    for shop_hooks in sandbox.world.shops.values():
        shop_hooks.webhooks.clear()


@pytest.mark.parametrize("url", ["http://bridge.example.com/webhooks/tiktokshop/1",
                                 "https://203.0.113.7/webhooks/tiktokshop/1",
                                 "https://bridge.example.com:8443/webhooks/tiktokshop/1",
                                 "https://bridge.example.com/" + "x" * 250])
def test_an_address_tiktok_refuses_is_refused_by_the_sandbox_and_never_sent(sandbox, conn, url) -> None:
    """TikTok delivers only to https, a domain name, no port, at most 255 characters (9.1)."""
    put = {"address": url, "event_type": "ORDER_STATUS_CHANGE"}
    with pytest.raises(Rejected, match="Invalid address"):
        TikTokClient(conn).call("PUT", "/event/202309/webhooks", body=put)
    puts = sandbox.stats.snapshot()["by_route"].get("PUT /event/202309/webhooks", 0)
    with pytest.raises(Misconfigured, match="set BRIDGE_PUBLIC_URL to an https address"):
        connector.register_webhooks(connection=conn, url=url)
    assert sandbox.stats.snapshot()["by_route"].get("PUT /event/202309/webhooks", 0) == puts
    assert connector.list_webhooks(connection=conn) == []
    good = "https://bridge.example.com/webhooks/tiktokshop/1"
    connector.register_webhooks(connection=conn, url=good)
    try:
        assert {s.address for s in connector.list_webhooks(connection=conn)} == {good}
    finally:
        connector.delete_webhooks(connection=conn, ids=[s.id for s in connector.list_webhooks(connection=conn)])


def _signed(app, payload: dict) -> WebhookRequest:
    body = json.dumps(payload).encode()
    sig = signing.webhook_signature(app.settings["app_key"], app.settings["app_secret"], body)
    return WebhookRequest(headers={"Authorization": sig}, body=body)


def test_product_status_and_deauthorization(sandbox, server) -> None:
    app = sandbox.app_context(server.url)
    product = connector.receive_webhook(app=app, connection=None, request=_signed(app, {
        "type": 5, "tts_notification_id": "1", "shop_id": "7", "timestamp": 1,
        "data": {"product_id": 1729592969712207008, "status": "PRODUCT_AUDIT_FAILURE"}}))
    assert product.events[0].kind == "listing_status"
    assert product.events[0].remote_ids == ["1729592969712207008"]
    gone = connector.receive_webhook(app=app, connection=None, request=_signed(app, {
        "type": 6, "tts_notification_id": "2", "shop_id": "7", "timestamp": 1, "data": {"message": "bye"}}))
    assert gone.events[0].kind == "deauthorized" and gone.store_remote_id == "7"


def test_odd_deliveries_are_refused_or_parsed_never_crash() -> None:
    from bridge.connection import AppContext
    from bridge_tiktokshop import webhooks

    app = AppContext(platform="tiktokshop", settings={"app_key": "k", "app_secret": "s"})
    with pytest.raises(WebhookRejected):
        webhooks.receive(app, WebhookRequest(headers={"Authorization": "é" * 64}, body=b"{}"))
    bodies = [b"[1]", b'{"type": [1]}', b'{"type": "\xc2\xb2"}', b'{"type": 1e400}', b"\xff"]
    for body in bodies:
        signed = WebhookRequest(headers={"Authorization": signing.webhook_signature("k", "s", body)}, body=body)
        with pytest.raises(WebhookRejected):
            webhooks.receive(app, signed)
    for data in ([1, 2], "x", {"package_list": [1, {"order_id_list": "x"}]}, {"package_list": {"a": 1}}):
        body = json.dumps({"type": 4, "shop_id": "1", "data": data}).encode()
        signed = WebhookRequest(headers={"Authorization": signing.webhook_signature("k", "s", body)}, body=body)
        assert webhooks.receive(app, signed).store_remote_id == "1"

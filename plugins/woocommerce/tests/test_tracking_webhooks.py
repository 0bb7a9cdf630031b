"""Tracking plugins (AfterShip current and legacy formats, Shipment Tracking, both, neither),
webhooks (registration, signed delivery, ping) and the key-generation flow, against the sandbox."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.connection import AppContext
from bridge.errors import Misconfigured, WebhookRejected
from bridge.models import Tracking, WebhookRequest
from bridge.sandboxing import SandboxServer
from bridge_woocommerce import connector, orders, store, webhooks
from bridge_woocommerce.sandbox import WooSandbox
from bridge_woocommerce.sandbox import orders as sandbox_orders


def _order(sandbox: WooSandbox, conn, make_draft, source: str) -> str:
    vid, v = next(iter(sandbox.site.variations.items()))
    return orders.create_order(conn, make_draft(source, str(v["parent_id"]), str(vid), "GBP")).remote_id


def _numbers(conn, oid: str) -> list[tuple[str, str]]:
    return [(t.number, t.carrier) for f in orders.list_fulfillments(conn, [oid]) for t in f.tracking]


def test_shipment_tracking_is_read_from_its_endpoints_without_touching_the_order(sandbox, conn, make_draft) -> None:
    sandbox.set_tracking("shipment-tracking")
    oid = _order(sandbox, conn, make_draft, "TT-ST-1")
    before = sandbox.order(oid)["date_modified_gmt"]
    time.sleep(1.05)
    sandbox.fulfill_order(oid, Tracking(number="RM123456785GB", carrier="Royal Mail"))
    assert sandbox.order(oid)["date_modified_gmt"] == before  # the extension does not bump it
    sandbox.stats.reset()
    assert _numbers(conn, oid) == [("RM123456785GB", "Royal Mail")]
    assert any("shipment-trackings" in k for k in sandbox.stats.by_route)
    links = [t.url for f in orders.list_fulfillments(conn, [oid]) for t in f.tracking]
    assert links[0] and "RM123456785GB" in links[0]


def test_aftership_items_with_a_comma_list(sandbox, conn, make_draft) -> None:
    sandbox.set_tracking("aftership")
    oid = _order(sandbox, conn, make_draft, "TT-AS-1")
    sandbox.fulfill_order(oid, Tracking(number="1Z999, 1Z998", carrier="UPS"))
    assert _numbers(conn, oid) == [("1Z999", "UPS"), ("1Z998", "UPS")]


def test_aftership_legacy_single_metas(sandbox, conn, make_draft) -> None:
    sandbox.set_tracking("aftership")
    sandbox.aftership_format = "legacy"
    oid = _order(sandbox, conn, make_draft, "TT-AS-2")
    sandbox.fulfill_order(oid, Tracking(number="LEG001,LEG002", carrier="DHL"))
    assert sandbox_orders.get_meta(sandbox.order(oid), "_aftership_tracking_items") is None
    assert _numbers(conn, oid) == [("LEG001", "DHL"), ("LEG002", "DHL")]


def test_a_number_in_both_plugins_is_reported_once(sandbox, conn, make_draft) -> None:
    oid = _order(sandbox, conn, make_draft, "TT-BOTH-1")
    sandbox.fulfill_order(oid, Tracking(number="BOTH42", carrier="Royal Mail"))
    raw = sandbox.order(oid)
    assert sandbox_orders.get_meta(raw, "_wc_shipment_tracking_items")
    assert sandbox_orders.get_meta(raw, "_aftership_tracking_items")
    assert [n for n, _ in _numbers(conn, oid)] == ["BOTH42"]


def test_neither_plugin_blocks_tracking_clearly(sandbox, conn, make_draft) -> None:
    oid = _order(sandbox, conn, make_draft, "TT-NONE-1")
    sandbox.set_tracking("none")
    with pytest.raises(Misconfigured, match="cannot go back to TikTok Shop"):
        orders.list_fulfillments(conn, [oid])
    (item,) = store.prerequisites(conn)
    assert item.ok is False and item.blocking and item.flows == ["tracking"]
    assert "AfterShip" in item.fix and "Shipment Tracking" in item.fix
    info = store.connect(conn)
    assert info.warnings and info.details["tracking_plugins"] == []
    sandbox.set_tracking("aftership")
    assert store.prerequisites(conn)[0].ok


def test_webhooks_registered_once_delivered_signed_and_pinged(sandbox, conn, make_draft) -> None:
    received: list[WebhookRequest] = []

    async def hook(request: Request) -> Response:
        received.append(WebhookRequest(headers=dict(request.headers), body=await request.body()))
        return Response("ok")

    with SandboxServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as receiver:
        url = receiver.url + "/hook"
        ids = webhooks.register(conn, url)
        assert len(ids) == len(webhooks.TOPICS) and conn.credentials["webhook_secret"]
        assert webhooks.register(conn, url) == ids  # idempotent: kept, not duplicated
        assert len([h for h in sandbox.site.webhooks.values() if h["delivery_url"] == url]) == len(ids)
        sandbox.deliverer.flush()
        pings = [r for r in received if r.body.startswith(b"webhook_id=")]
        assert len(pings) == len(ids)
        assert connector.receive_webhook(app=conn.app, connection=conn, request=pings[0]).events[0].kind == "ping"
        received.clear()
        oid = _order(sandbox, conn, make_draft, "TT-HOOK-1")
        sandbox.cancel_order(oid)
        sandbox.deliverer.flush()
    kinds = []
    for req in received:
        delivery = webhooks.receive(conn.app, conn, req)
        kinds += [(e.kind, tuple(e.remote_ids)) for e in delivery.events]
        assert delivery.delivery_id and delivery.store_remote_id
    assert ("order", (oid,)) in kinds and ("order_cancelled", (oid,)) in kinds
    assert any(k == "inventory" for k, _ in kinds)  # stock moved by the order
    forged = WebhookRequest(headers={**received[0].headers}, body=received[0].body + b" ")
    with pytest.raises(WebhookRejected):
        webhooks.receive(conn.app, conn, forged)
    for h in list(sandbox.site.webhooks):
        sandbox.site.webhooks.pop(h)


def test_key_generation_flow_hands_keys_to_the_callback(sandbox: WooSandbox, server) -> None:
    results = []

    async def callback(request: Request) -> Response:
        app = AppContext(platform="woocommerce", settings={"base_url": server.url})
        req = WebhookRequest(headers=dict(request.headers), body=await request.body(),
                             query=dict(request.query_params))
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(connector.app_callback, app=app, name="keys", request=req)
        results.append(result)
        return Response(result.response_body, status_code=result.response_status)

    bridge_app = Starlette(routes=[Route("/callbacks/woocommerce/keys", callback, methods=["POST"])])
    with SandboxServer(bridge_app) as bridge_server:
        app = AppContext(platform="woocommerce", settings={"base_url": server.url}, public_url=bridge_server.url)
        url = connector.authorization_url(app=app, state="STATE123", redirect_uri="unused",
                                          settings={"site_url": server.url})
        q = parse_qs(urlsplit(url).query)
        assert urlsplit(url).path == "/wc-auth/v1/authorize" and q["scope"] == ["read_write"]
        assert q["user_id"] == ["STATE123"] and q["return_url"][0].endswith("/connect/done/STATE123")
        with httpx.Client() as browser:
            consent = browser.get(url)
            assert consent.status_code == 200 and "Approve" in consent.text
            form = {k: v[0] for k, v in q.items()} | {"approve": "1"}
            done = browser.post(server.url + "/wc-auth/v1/access_granted", data=form)
    assert done.status_code == 302 and "success=1" in done.headers["location"]
    (result,) = results
    info = result.stores[0]
    assert parse_qs(urlsplit(q["callback_url"][0]).query)["state"] == ["STATE123"]
    assert info.details["state"] == "STATE123" and info.credentials["consumer_key"].startswith("ck_")
    assert info.credentials["consumer_key"] in sandbox.site.keys and info.currency == "GBP"
    assert info.settings["base_url"] == server.url


def _keys_request(query: dict[str, str], state: str = "STATE123") -> WebhookRequest:
    body = json.dumps({"key_id": 1, "user_id": state, "consumer_key": "ck_x", "consumer_secret": "cs_x",
                       "key_permissions": "read_write"}).encode()
    return WebhookRequest(headers={}, body=body, query=query)


@pytest.mark.parametrize("query", [{"site": "https://shop.example.com"},
                                   {"site": "https://shop.example.com", "state": "OTHER"}])
def test_key_callback_without_its_state_makes_no_request(query: dict[str, str]) -> None:
    requests: list[httpx.Request] = []
    app = AppContext(platform="woocommerce", transport=httpx.MockTransport(lambda r: requests.append(r)))
    with pytest.raises(WebhookRejected):
        connector.app_callback(app=app, name="keys", request=_keys_request(query))
    assert requests == []


@pytest.mark.parametrize("site", ["https://10.1.1.1/x", "https://169.254.169.254",
                                  "file:///etc/passwd"])
def test_key_callback_to_a_refused_site_makes_no_request(site: str) -> None:
    requests: list[httpx.Request] = []
    app = AppContext(platform="woocommerce", transport=httpx.MockTransport(lambda r: requests.append(r)))
    with pytest.raises(Misconfigured):
        connector.app_callback(app=app, name="keys", request=_keys_request({"site": site, "state": "STATE123"}))
    assert requests == []


@pytest.mark.parametrize("source", ["http://[", "https://[::1", "http://x:99999999"])
def test_a_malformed_webhook_source_is_refused(source: str) -> None:
    with pytest.raises(WebhookRejected):
        webhooks.receive(AppContext(platform="woocommerce"), None,
                         WebhookRequest(headers={"X-WC-Webhook-Source": source, "X-WC-Webhook-Signature": "é"},
                                        body=b"{}"))


def test_odd_signed_payloads_are_parsed_never_crash() -> None:
    for payload in ({"id": [1], "parent_id": {"a": 1}}, {"meta_data": "x", "status": "completed"},
                    {"arg": "\u00b2"}, {"arg": [1]}, {"arg": {"id": [1]}}):
        for topic in ("product.updated", "order.updated", "action.woocommerce_product_set_stock"):
            assert webhooks.events(topic, payload)


def test_an_order_update_with_refunds_is_also_a_refund_event() -> None:
    from bridge_woocommerce.webhooks import events

    kinds = [(e.kind, e.remote_ids) for e in events("order.updated", {"id": 114, "status": "processing",
                                                                       "refunds": [{"id": 120, "total": "-5.00"}]})]
    assert ("refund", ["114"]) in kinds and ("order", ["114"]) in kinds
    assert "refund" not in [e.kind for e in events("order.updated", {"id": 115, "status": "processing", "refunds": []})]

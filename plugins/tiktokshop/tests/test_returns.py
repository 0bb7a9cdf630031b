"""Returns, refunds and cancellations (return_refund 202309) against the sandbox."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from bridge.connection import AppContext
from bridge.errors import Rejected
from bridge.models import LineCancel, RefundLine, WebhookRequest
from bridge_tiktokshop import connector, returns, signing


def _skus(sandbox, shop_index: int = 0) -> list[str]:
    shop = sandbox.shops()[shop_index]["id"]
    if not sandbox.products(shop):
        sandbox.seed_catalog(3, 2, seed=5, shop_id=shop)
    return [s["seller_sku"] for p in sandbox.products(shop) for s in p["skus"]]


def test_refund_only_partial_return_and_status_mapping(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    a, b = _skus(sandbox)[:2]
    oid = sandbox.create_order(shop, [(a, 2), (b, 1)])
    rid = sandbox.create_return(oid, [(a, 1)], return_type="REFUND", amount="1.50")
    found = {r.remote_id: r for r in connector.get_refunds(connection=conn, order_ids=[oid])}
    r = found[rid]
    assert r.kind == "return" and r.status == "requested" and r.raw_status == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert r.return_type == "refund_only" and not r.item_returned
    assert r.total.amount == Decimal("1.50") and r.lines[0].quantity == 1 and len(r.lines[0].line_ids) == 1
    sandbox.advance_return(rid, "RETURN_OR_REFUND_REQUEST_COMPLETE")
    r = {x.remote_id: x for x in connector.get_refunds(connection=conn, order_ids=[oid])}[rid]
    assert r.status == "completed" and not r.item_returned  # refund only: nothing came back

    # a return and refund of both units of one SKU, shipping refunded: completed with the
    # receipt in its timeline (Get Return Records)
    rid2 = sandbox.create_return(oid, [(b, 1)], return_type="RETURN_AND_REFUND", refund_shipping=True)
    r2 = {x.remote_id: x for x in connector.get_refunds(connection=conn, order_ids=[oid])}[rid2]
    assert r2.status == "requested" and not r2.item_returned
    sandbox.advance_return(rid2, "RETURN_OR_REFUND_REQUEST_COMPLETE")
    r2 = {x.remote_id: x for x in connector.get_refunds(connection=conn, order_ids=[oid])}[rid2]
    assert r2.status == "completed" and r2.item_returned and r2.return_type == "return_and_refund"
    assert r2.shipping is not None and r2.shipping.amount == Decimal("2.99")
    assert r2.total.amount == r2.lines[0].amount.amount + Decimal("2.99")


def test_status_spellings_and_unknown_values() -> None:
    base = {"return_id": "1", "order_id": "2", "return_type": "REFUND", "refund_amount": {"currency": "GBP",
            "refund_total": "3.00"}, "return_line_items": []}
    assert returns.refund({**base, "return_status": "REFUND_OR_RETURN_REQUEST_REJECT"}, "return").status == "rejected"
    assert returns.refund({**base, "return_status": "RETURN_OR_REFUND_REQUEST_REJECT"}, "return").status == "rejected"
    odd = returns.refund({**base, "return_status": "SOMETHING_NEW"}, "return")
    assert odd.status == "other" and odd.raw_status == "SOMETHING_NEW"


def test_list_refunds_is_incremental_over_returns_and_cancellations(sandbox, conn) -> None:
    shop = sandbox.shops()[0]["id"]
    a, b = _skus(sandbox)[:2]
    oid = sandbox.create_order(shop, [(a, 1), (b, 2)])
    rid = sandbox.create_return(oid, [(a, 1)])
    cid = sandbox.cancel_lines(oid, [(b, 1)])
    pages = list(connector.list_refunds(connection=conn, cursor=None))
    seen = {(r.kind, r.remote_id): r for p in pages for r in p.refunds}
    assert ("return", rid) in seen and ("cancel", cid) in seen
    c = seen[("cancel", cid)]
    assert c.status == "completed" and not c.whole_order and c.lines[0].quantity == 1
    assert c.initiator == "BUYER"
    order = connector.get_orders(connection=conn, order_ids=[oid])[0]
    assert {ln.sku: ln.cancelled_quantity for ln in order.lines} == {a: 0, b: 1}
    # the cursor goes on from there: a later change is read
    sandbox.advance_return(rid)
    later = {(r.kind, r.remote_id): r for p in connector.list_refunds(connection=conn, cursor=pages[-1].cursor)
             for r in p.refunds}
    assert later[("return", rid)].status == "approved"


def test_seller_line_cancellation_and_its_refusals(sandbox, conn, sg_conn) -> None:
    shop = sandbox.shops()[0]["id"]
    a, b = _skus(sandbox)[:2]
    oid = sandbox.create_order(shop, [(a, 2), (b, 1)])
    tt_sku = next(s["id"] for p in sandbox.products(shop) for s in p["skus"] if s["seller_sku"] == a)
    res = connector.cancel_order_lines(connection=conn, cancel=LineCancel(
        order_id=oid, key="k1", lines=[RefundLine(variant_id=tt_sku, quantity=1)]))
    assert res.remote_id and res.status == "CANCELLATION_REQUEST_COMPLETE"
    recs = sandbox.cancellations(oid)
    assert [c["role"] for c in recs] == ["SELLER"] and len(recs[0]["cancel_line_items"]) == 1
    order = connector.get_orders(connection=conn, order_ids=[oid])[0]
    assert order.status == "awaiting_shipment"
    assert {ln.sku: ln.cancelled_quantity for ln in order.lines} == {a: 1, b: 0}
    # the cancelled unit named again: found, nothing sent
    line_id = recs[0]["cancel_line_items"][0]["order_line_item_id"]
    again = connector.cancel_order_lines(connection=conn, cancel=LineCancel(
        order_id=oid, key="k1", lines=[RefundLine(quantity=1, line_ids=[line_id])]))
    assert again.existed and again.remote_id == recs[0]["cancel_id"] and len(sandbox.cancellations(oid)) == 1
    # a market without item-level cancellation (SG) is refused before any call
    sg = sandbox.shops()[1]["id"]
    c = _skus(sandbox, 1)[:2]
    sg_order = sandbox.create_order(sg, [(c[0], 1), (c[1], 1)])
    sg_sku = next(s["id"] for p in sandbox.products(sg) for s in p["skus"] if s["seller_sku"] == c[0])
    with pytest.raises(Rejected) as err:
        connector.cancel_order_lines(connection=sg_conn, cancel=LineCancel(
            order_id=sg_order, key="k2", lines=[RefundLine(variant_id=sg_sku, quantity=1)]))
    assert err.value.code == "ITEM_CANCEL_UNSUPPORTED"


def test_return_and_cancellation_webhooks_name_the_order() -> None:
    app = AppContext(platform="tiktokshop", settings={"app_key": "k", "app_secret": "s"})
    for kind, kinds in ((12, ["refund"]), (11, ["order_cancelled", "refund"])):
        body = json.dumps({"type": kind, "tts_notification_id": "9", "shop_id": "1", "timestamp": 1,
                           "data": {"order_id": "577", "return_id": "8", "cancel_id": "8"}}).encode()
        req = WebhookRequest(headers={"Authorization": signing.webhook_signature("k", "s", body)}, body=body)
        d = connector.receive_webhook(app=app, connection=None, request=req)
        assert [e.kind for e in d.events] == kinds and d.events[0].remote_ids == ["577"]


def test_returns_and_item_cancellations_are_walked_from_the_shell(sandbox, server) -> None:
    from click.testing import CliRunner

    from bridge.cli import cli

    shop = sandbox.shops()[0]["id"]
    a, b = _skus(sandbox)[:2]
    oid = sandbox.create_order(shop, [(a, 2), (b, 1)])

    def ctl(*args: str) -> dict:
        res = CliRunner().invoke(cli, ["sandbox-ctl", "tiktokshop", "--url", server.url, *args])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    rid = ctl("create-return", oid, f"{a}:1", "--type", "RETURN_AND_REFUND")["return_id"]
    assert ctl("advance-return", rid)["status"] == "AWAITING_BUYER_SHIP"
    assert ctl("advance-return", rid, "--status", "RETURN_OR_REFUND_REQUEST_COMPLETE")["status"] == \
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
    cid = ctl("cancel-lines", oid, f"{a}:1")["cancel_id"]
    seen = ctl("refunds", oid)
    assert [r["return_id"] for r in seen["returns"]] == [rid]
    assert [c["cancel_id"] for c in seen["cancellations"]] == [cid]


def test_a_page_token_with_colons_survives_the_cursor(sandbox, conn, monkeypatch) -> None:
    seen: list[str | None] = []

    def pages(method, path, *, query=None, body=None, key, page_token=None):  # type: ignore[no-untyped-def]
        seen.append(page_token)
        yield [], None

    monkeypatch.setattr(returns.TikTokClient, "pages", lambda self, *a, **kw: pages(*a, **kw))
    list(connector.list_refunds(connection=conn, cursor="1700000000:r:abc:def==:1700000099"))
    assert seen[0] == "abc:def=="

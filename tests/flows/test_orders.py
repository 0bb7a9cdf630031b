"""The orders flow on the fake pair: exactly once, held lines, platform orders, cancellations."""

from __future__ import annotations

import subprocess
import sys
import threading

from sqlmodel import select

from bridge import db
from bridge.sync import links
from bridge.tables import OrderLink, utcnow
from tests.flows.conftest import Flows


def _link(order_id: str) -> OrderLink:
    with db.session() as s:
        row = s.exec(select(OrderLink).where(OrderLink.channel_order_id == order_id)).first()
        assert row is not None
        return row


def test_paid_released_order_is_created_once(flows: Flows) -> None:
    flows.run("products")
    before = flows.shop.quantity("SKU-2-2")
    oid = flows.channel.create_order("shop-1", [("SKU-2-2", 2), ("SKU-1-1", 1)])
    r = flows.run("orders")
    assert r.counts["created"] == 1
    orders = flows.shop.orders()
    assert len(orders) == 1
    assert orders[0].source_order_id == oid
    assert {ln.variant_id for ln in orders[0].lines} == {"p2v2", "p1v1"}
    assert flows.shop.quantity("SKU-2-2") == before - 2
    assert _link(oid).status == "created"
    flows.reset_stats()
    flows.run("orders")
    flows.run("orders", items=[oid])
    assert len(flows.shop.orders()) == 1
    assert flows.writes() == 0


def test_a_created_order_keeps_what_the_order_page_shows(flows: Flows) -> None:
    """The store's number, both sides' lines and totals, and the SKUs the orders list searches."""
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-2-2", 2), ("SKU-1-1", 1)])
    flows.run("orders")
    link = _link(oid)
    created = flows.shop.orders()[0]
    assert link.ecommerce_order_number == created.remote_id  # the fake store names its orders by id
    assert link.skus == " SKU-1-1 SKU-2-2 "
    tiktok, store = link.data["channel"], link.data["store"]
    assert {ln["sku"]: ln["quantity"] for ln in tiktok["lines"]} == {"SKU-2-2": 2, "SKU-1-1": 1}
    assert {ln["sku"]: ln["quantity"] for ln in store["lines"]} == {"SKU-2-2": 2, "SKU-1-1": 1}
    prices = {ln["sku"]: ln["unit_price"] for ln in tiktok["lines"]}
    assert prices == {ln["sku"]: ln["unit_price"] for ln in store["lines"]}
    assert store["total"] == str(created.total.amount)  # type: ignore[union-attr]
    assert tiktok["currency"] == store["currency"] == created.currency


def test_unreleased_order_waits_then_goes_through(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)], released=False)
    flows.run("orders")
    assert flows.shop.orders() == []
    assert _link(oid).status == "pending"
    flows.channel.orders_[oid]["released"] = True
    flows.run("orders")
    assert len(flows.shop.orders()) == 1


def test_platform_fulfilled_order_is_recorded_not_created(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)], fulfilled_by="platform")
    r = flows.run("orders")
    assert r.counts["recorded"] == 1
    assert flows.shop.orders() == []
    assert _link(oid).status == "recorded"


def test_platform_fulfilled_order_is_created_when_the_shop_says_so(flows: Flows) -> None:
    flows.set_options({"orders": {"create_platform_fulfilled": True}})
    flows.run("products")
    flows.channel.create_order("shop-1", [("SKU-1-1", 1)], fulfilled_by="platform")
    assert flows.run("orders").counts["created"] == 1


def test_unmatched_line_holds_the_order_until_fixed(flows: Flows) -> None:
    flows.run("products")
    with flows.channel.lock:  # a product listed on TikTok by hand, unknown to bridge
        flows.channel.products_["TP77"] = {"id": "TP77", "status": "live", "title": "Hand made",
                                           "description": "", "category_id": "200",
                                           "skus": [{"id": "S77", "seller_sku": "HAND-1", "price": "5.00",
                                                     "quantity": 3}]}
    oid = flows.channel.create_order("shop-1", [("HAND-1", 1)])
    r = flows.run("orders")
    assert r.status == "partial"
    link = _link(oid)
    assert link.status == "held"
    assert "seller SKU HAND-1" in (link.message or "")
    assert flows.shop.orders() == []
    # the fix: the seller SKU becomes a known product's SKU; the retry goes through
    with flows.shop.lock:
        flows.shop.products_["p1"]["variants"][0]["sku"] = "HAND-1"
        flows.shop.products_["p1"]["seq"] = flows.shop._touch()
    flows.run("products")
    from bridge.tables import SkuLink

    with db.session() as s:
        row = s.exec(select(SkuLink).where(SkuLink.source_variant_id == "p1v1")).one()
        row.remote_sku_id = "S77"
        s.add(row)
    r = flows.run("orders")
    assert r.counts["created"] == 1
    assert _link(oid).status == "created"


def test_order_already_created_by_another_app_is_linked(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)])
    with flows.shop.lock:
        flows.shop.orders_["o99"] = {"id": "o99", "source_id": oid, "lines": [], "status": "processing",
                                     "fulfillments": []}
    r = flows.run("orders")
    assert r.counts["linked"] == 1
    assert len(flows.shop.orders()) == 1
    assert _link(oid).ecommerce_order_id == "o99"


def test_crash_between_create_and_record_makes_no_duplicate(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)])
    # a worker claimed the link and created the order, then died before recording it
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()
    with db.session() as s:
        s.add(OrderLink(channel_store_id=flows.channel_store.id, channel_order_id=oid, status="creating",
                        claimed_by=f"{links.worker_id().rsplit(':', 1)[0]}:{dead}",
                        claimed_until=utcnow() + links.STALE_CLAIM, data={"packages": []}))
    with flows.shop.lock:
        flows.shop.orders_["o1"] = {"id": "o1", "source_id": oid, "lines": [], "status": "processing",
                                    "fulfillments": []}
    flows.run("orders")
    assert len(flows.shop.orders()) == 1
    assert _link(oid).status == "created"
    assert _link(oid).ecommerce_order_id == "o1"


def test_a_live_workers_claim_is_respected(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)])
    with db.session() as s:  # held by this very process, as if another thread were creating it
        s.add(OrderLink(channel_store_id=flows.channel_store.id, channel_order_id=oid, status="creating",
                        claimed_by=links.worker_id(), claimed_until=utcnow() + links.STALE_CLAIM))
    r = flows.run("orders")
    assert r.counts["skipped"] == 1
    assert flows.shop.orders() == []


def test_two_workers_racing_create_one_order(flows: Flows) -> None:
    flows.run("products")
    for i in range(5):
        flows.channel.create_order("shop-1", [(f"SKU-{i + 1}-1", 1)])
    flows.shop.set_latency(30)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            flows.run("orders")
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, [f"{type(e).__name__}: {e}" for e in errors]
    sources = [o.source_order_id for o in flows.shop.orders()]
    assert len(sources) == 5, sources
    assert len(set(sources)) == 5, sources


def test_tiktok_cancellation_cancels_the_store_order(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)])
    flows.run("orders")
    flows.channel.cancel_order(oid)
    r = flows.run("orders")
    assert r.counts["cancelled"] == 1
    assert flows.shop.orders()[0].status == "cancelled"
    assert _link(oid).status == "cancelled"


def test_store_cancellation_cancels_on_tiktok(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 1)])
    flows.run("orders")
    flows.shop.cancel_order(flows.shop.orders()[0].remote_id)
    r = flows.run("orders")
    assert r.counts["cancelled"] == 1
    assert flows.channel.order(oid)["status"] == "cancelled"
    assert _link(oid).status == "cancelled"
    flows.reset_stats()
    flows.run("orders")
    assert flows.writes() == 0


def test_plan_lists_orders_without_creating(flows: Flows) -> None:
    flows.run("products")
    oid = flows.channel.create_order("shop-1", [("SKU-1-1", 2)])
    flows.reset_stats()
    r = flows.run("orders", dry_run=True)
    assert flows.writes() == 0
    assert r.plan[0]["action"] == "create"
    assert r.plan[0]["item"] == oid
    assert r.plan[0]["total"] == "23.99"  # 2 x 10.50 + 2.99 shipping
    with db.session() as s:
        assert s.exec(select(OrderLink)).first() is None

"""The inventory flow on the fake pair: rules, changed SKUs only, one call per product."""

from __future__ import annotations

from tests.flows.conftest import Flows


def test_changed_quantity_is_sent_alone_batched_per_product(flows: Flows) -> None:
    flows.run("products")
    flows.shop.set_quantity("SKU-2-1", 40)
    flows.shop.set_quantity("SKU-2-2", 41)
    flows.shop.set_quantity("SKU-5-1", 0)
    flows.reset_stats()
    r = flows.run("inventory")
    assert r.counts["updated"] == 3
    routes = flows.channel.stats.snapshot()["by_route"]
    writes = {k: v for k, v in routes.items() if k.startswith("POST")}
    # one call per product, both SKUs of product 2 together
    assert sorted(writes.values()) == [1, 1]
    assert flows.sku("SKU-2-1")["quantity"] == 40
    assert flows.sku("SKU-2-2")["quantity"] == 41
    assert flows.sku("SKU-5-1")["quantity"] == 0
    flows.reset_stats()
    assert flows.run("inventory").counts.get("updated", 0) == 0
    assert flows.writes() == 0


def test_buffer_threshold_and_cap(flows: Flows) -> None:
    flows.set_options({"inventory": {"buffer_percent": 10, "threshold": 3, "cap": 20}})
    flows.run("products")
    flows.shop.set_quantity("SKU-1-1", 100)  # 100 - 10% = 90 -> cap 20
    flows.shop.set_quantity("SKU-3-1", 4)  # 4 - 1 = 3 -> stays 3
    flows.shop.set_quantity("SKU-5-1", 3)  # 3 - 1 = 2 < 3 -> 0
    r = flows.run("inventory")
    assert r.counts["updated"] == 3
    assert flows.sku("SKU-1-1")["quantity"] == 20
    assert flows.sku("SKU-3-1")["quantity"] == 3
    assert flows.sku("SKU-5-1")["quantity"] == 0


def test_webhook_run_reads_only_the_named_items(flows: Flows) -> None:
    flows.run("products")
    flows.shop.set_quantity("SKU-4-1", 77)
    flows.shop.set_quantity("SKU-6-1", 66)
    flows.reset_stats()
    r = flows.run("inventory", items=["p4"])
    assert r.counts["updated"] == 1
    assert flows.sku("SKU-4-1")["quantity"] == 77
    assert flows.sku("SKU-6-1")["quantity"] != 66


def test_plan_shows_quantity_and_rule_without_writing(flows: Flows) -> None:
    flows.run("products")
    flows.set_options({"inventory": {"buffer_units": 1}})
    flows.reset_stats()
    r = flows.run("inventory", dry_run=True)
    assert flows.writes() == 0
    assert len(r.plan) == 9
    entry = next(e for e in r.plan if e["item"] == "SKU-1-1")
    assert entry["quantity"] == flows.shop.quantity("SKU-1-1") - 1
    assert entry["why"].endswith("- buffer 1")


def test_refused_sku_is_reported_and_retried(flows: Flows) -> None:
    flows.run("products")
    with flows.channel.lock:  # the SKU vanished on the channel side
        flows.channel.products_[flows.listed()["SKU-1-1"]["id"]]["skus"][0]["id"] = "gone"
    flows.shop.set_quantity("SKU-1-1", 33)
    r = flows.run("inventory")
    assert r.status == "partial"
    assert r.errors[0][0] == "SKU-1-1"
    assert "sku not found" in r.errors[0][1]
    # not recorded as sent: the next run tries again
    assert flows.run("inventory").counts["failed"] == 1


def test_untracked_stock_sold_on_the_channel_is_sent_again(flows: Flows) -> None:
    """bridge sends the configured quantity for an untracked variant; a sale on TikTok lowers
    it there while the store never changes: compared with what TikTok reports, it is sent again."""
    flows.run("products")
    _, variant = flows.shop._variant("SKU-2-1")
    variant["tracked"] = False
    flows.run("inventory")
    sent = flows.sku("SKU-2-1")["quantity"]
    flows.reset_stats()
    assert flows.run("inventory").counts.get("updated", 0) == 0  # nothing changed: no write
    assert flows.writes() == 0
    for p in flows.channel.products_.values():  # a sale on TikTok
        for s in p["skus"]:
            if s["seller_sku"] == "SKU-2-1":
                s["quantity"] -= 1
    assert flows.sku("SKU-2-1")["quantity"] == sent - 1
    r = flows.run("inventory")
    assert r.counts["updated"] == 1
    assert flows.sku("SKU-2-1")["quantity"] == sent

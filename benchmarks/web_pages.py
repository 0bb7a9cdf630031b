"""Server time of every admin page with a large shop in the database.

Fills a fresh SQLite database with one organization, an eCommerce store and a TikTok shop (the
fake platforms' sandboxes, served on loopback: the product page reads the store's product and
TikTok's stock from them), N products (listing links, SKU links, per-product mappings for a
tenth), --orders orders (default N) over the last 45 days with their store numbers, lines, mixed
statuses and tracking, the flows' jobs, sync runs (some failed, with item errors) and journal
entries; then requests each page in-process (no browser) and reports the median and worst server
time of several requests, and last the product page, the order page and the dashboard.

    .venv/bin/python benchmarks/web_pages.py --products 10000 --orders 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _order_data(i: int) -> dict:
    """An order's data as the orders flow keeps it: two lines on each side, totals, packages."""
    lines = [{"sku": f"SKU-{i}-{k}", "variant_id": f"s{i}-{k}", "title": f"Product {i} cotton tee",
              "unit_price": "12.50", "quantity": k + 1, "cancelled": 0} for k in range(2)]
    return {"packages": [f"PKG{i}"], "label_by": "seller", "number": f"#{1000 + i}",
            "channel": {"currency": "GBP", "lines": lines, "subtotal": "37.50", "shipping": "3.00",
                        "tax": "0", "total": "40.50"},
            "store": {"currency": "GBP", "lines": lines, "shipping": "3.00", "tax": "0", "total": "40.50",
                      "admin_url": None}}


#: Orders' statuses, one in twenty of each but created (the dashboard's orders per day).
ORDER_STATUSES = ("created",) * 17 + ("held", "cancelled", "pending")
FLOWS = ("products", "inventory", "orders", "tracking")


def fill(products: int, orders: int | None = None) -> dict[str, int]:
    """Fill the database (``orders``: as many as ``products`` by default); the stores are rows
    only, :func:`connect` points them at a sandbox."""
    from datetime import timedelta

    from bridge import db, journal, stores
    from bridge.tables import (
        CategoryRule,
        ItemError,
        Job,
        ListingLink,
        OrderLink,
        ProductMapping,
        SkuLink,
        Store,
        SyncRun,
        TrackingPushRecord,
        utcnow,
    )
    from bridge.web import auth

    orders = products if orders is None else orders
    org = stores.create_org("Bench")
    with db.session() as s:
        eco = Store(org_id=org.id, platform="fakeshop", kind="ecommerce", remote_id="eco", name="Bench Store",
                    currency="GBP")
        shop = Store(org_id=org.id, platform="fakechannel", kind="channel", remote_id="shop", name="Bench Shop",
                     currency="GBP", region="GB")
        s.add_all([eco, shop])
        s.flush()
        eco_id, shop_id = eco.id, shop.id
    now = utcnow()
    statuses = ("live", "live", "live", "pending", "held", "failed")
    engine = db.get_engine()
    with engine.begin() as conn:
        conn.execute(ListingLink.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_store_id": shop_id, "source_product_id": f"p{i}", "remote_product_id": f"tt{i}",
             "status": statuses[i % len(statuses)], "title": f"Product {i} cotton tee",
             "reasons": ["Material is required"] if i % 6 == 4 else [], "updated_at": now}
            for i in range(products)])
        conn.execute(SkuLink.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_store_id": shop_id, "source_product_id": f"p{i}", "source_variant_id": f"v{i}-{k}",
             "seller_sku": f"SKU-{i}-{k}", "remote_sku_id": f"s{i}-{k}", "last_quantity": 5,
             "updated_at": now}
            for i in range(products) for k in range(3)])
        conn.execute(ProductMapping.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_store_id": shop_id, "source_product_id": f"p{i}", "category_id": "101",
             "attributes": {"a1": ["v1"]}, "excluded": False, "updated_at": now} for i in range(0, products, 10)])
        conn.execute(OrderLink.__table__.insert(), [  # type: ignore[attr-defined]
            {"channel_store_id": shop_id, "channel_order_id": f"TT{i}", "ecommerce_store_id": eco_id,
             "ecommerce_order_id": f"gid://shopify/Order/{i}", "ecommerce_order_number": f"#{1000 + i}",
             "skus": f" SKU-{i % max(products, 1)}-0 ", "status": ORDER_STATUSES[i % len(ORDER_STATUSES)],
             "channel_status": "awaiting_shipment", "attempts": 1, "data": _order_data(i),
             "created_at": now - timedelta(days=i % 45, minutes=i % 1440), "updated_at": now}
            for i in range(orders)])
    with engine.begin() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM order_links WHERE status = 'created'")]
        conn.execute(TrackingPushRecord.__table__.insert(), [  # type: ignore[attr-defined]
            {"order_link_id": oid, "package_key": "", "tracking_number": f"RM{oid:09d}GB",
             "carrier": "Royal Mail", "status": "pending" if oid % 10 == 0 else "pushed", "updated_at": now}
            for oid in ids])
        conn.execute(Job.__table__.insert(), [  # type: ignore[attr-defined]
            {"key": f"{flow}:{org.id}:{shop_id}", "flow": flow, "org_id": org.id, "channel_store_id": shop_id,
             "interval_s": 60, "next_run_at": now, "failures": 0, "paused": False, "payload": {}}
            for flow in FLOWS])
        conn.execute(SyncRun.__table__.insert(), [  # type: ignore[attr-defined]
            {"flow": FLOWS[i % 4], "org_id": org.id, "store_id": eco_id, "channel_store_id": shop_id,
             "dry_run": False, "status": "failed" if i % 25 == 0 else "ok", "counts": {"unchanged": products},
             "started_at": now - timedelta(minutes=5 * i), "finished_at": now - timedelta(minutes=5 * i - 1)}
            for i in range(2000)])
        failed = [r[0] for r in conn.exec_driver_sql("SELECT id FROM sync_runs WHERE status = 'failed'")]
        conn.execute(ItemError.__table__.insert(), [  # type: ignore[attr-defined]
            {"run_id": rid, "item": f"p{k}", "message": "Material is required", "at": now - timedelta(minutes=rid)}
            for rid in failed for k in range(3)])
    with db.session() as s:
        s.add(CategoryRule(channel_store_id=shop_id, facet="all", value="*", category_id="101"))
    for i in range(2000):
        journal.record("products.unchanged", f"product p{i} unchanged", org_id=org.id, store_id=shop_id,
                       flow="products", item=f"p{i}")
    auth.create_user("bench@example.com", "bench password 1", orgs=["Bench"])
    return {"shop": shop_id, "eco": eco_id, "order": ids[0]}  # type: ignore[dict-item]


def connect(store_id: int, platform: str, sandbox, url: str, pm) -> None:  # type: ignore[no-untyped-def]
    """Point a filled store row at its sandbox, as reconnecting it would."""
    from bridge import db, stores
    from bridge.tables import Organization, Store

    info = stores.validate_credentials(platform, {"base_url": url}, sandbox.credentials(), pm)
    with db.session() as s:
        row = s.get(Store, store_id)
        assert row is not None
        row.remote_id = info.remote_id
        s.add(row)
        org = s.get(Organization, row.org_id)
    stores.save_store(org, platform, info, pm)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--orders", type=int, default=None, help="default: as many as --products")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bridge-bench-")
    os.environ["BRIDGE_DATA_DIR"] = home
    os.environ["BRIDGE_CONFIG_DIR"] = home
    os.environ["BRIDGE_PLUGINS"] = ""
    import logging

    logging.disable(logging.WARNING)
    from bridge.plugins import PluginManager, set_manager
    from tests.fakes import fake_channel, fake_ecommerce

    pm = PluginManager(load_entrypoints=False)
    pm.register(fake_ecommerce, name="fakeshop")
    pm.register(fake_channel, name="fakechannel")
    set_manager(pm)
    from bridge.sandboxing import SandboxServer

    orders = args.products if args.orders is None else args.orders
    shop_sb = pm.call("fakeshop", "sandbox", options={"seed": 3, "variants": 3})
    channel_sb = pm.call("fakechannel", "sandbox", options={})
    with SandboxServer(shop_sb.app) as s1, SandboxServer(channel_sb.app) as s2:
        t0 = time.perf_counter()
        ids = fill(args.products, orders)
        connect(ids["eco"], "fakeshop", shop_sb, s1.url, pm)
        connect(ids["shop"], "fakechannel", channel_sb, s2.url, pm)
        print(f"filled {args.products} products and {orders} orders in {time.perf_counter() - t0:.1f}s ({home})")
        measure(ids, args.repeat)


def measure(ids: dict[str, int], repeat: int) -> None:
    """Sign in, request every page ``repeat`` times, print the figures."""
    from starlette.testclient import TestClient

    from bridge.web.app import create_app

    client = TestClient(create_app())
    page = client.get("/login")
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    client.post("/login", data={"email": "bench@example.com", "password": "bench password 1",
                                "csrf_token": token})
    shop = ids["shop"]
    pages = ["/", "/apps", f"/products?shop={shop}", f"/products?shop={shop}&status=failed",
             f"/products?shop={shop}&q=cotton&page=100", "/orders",
             "/orders?q=TT1999", "/orders?q=%231999", "/orders?q=SKU-7-1", "/orders?sort=store&page=100",
             f"/orders/{ids['order']}", "/activity", "/activity?level=error&flow=products",
             f"/stores/{shop}/settings", f"/stores/{ids['eco']}/prerequisites", "/healthz", "/metrics",
             f"/products/{shop}/product/p1", "/dashboard"]
    print(f"{'page':55} {'median ms':>10} {'max ms':>8}")
    worst = (0.0, "")
    medians: dict[str, float] = {}
    for url in pages:
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        med = statistics.median(times)
        medians[url] = med
        worst = max(worst, (med, url))
        print(f"{url:55} {med:10.1f} {max(times):8.1f}")
    print(f"slowest page: {worst[1]} at {worst[0]:.1f} ms (median of {repeat})")
    for name, url in (("product page", f"/products/{shop}/product/p1"), ("order page", f"/orders/{ids['order']}"),
                      ("dashboard", "/dashboard")):
        print(f"{name}: {medians[url]:.1f} ms median ({url})")


if __name__ == "__main__":
    main()

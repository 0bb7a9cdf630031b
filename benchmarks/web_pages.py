"""Server time of every admin page with a large shop in the database.

Fills a fresh SQLite database with one organization, an eCommerce store and a TikTok shop,
N products (listing links, SKU links, per-product mappings for a tenth), N/5 orders (or
--orders) with their store numbers, lines and tracking, sync runs and journal entries; then requests each page in-process (no network, no
browser) and reports the median and worst server time of several requests.

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


def fill(products: int, orders: int | None = None) -> dict[str, int]:
    from bridge import db, journal, stores
    from bridge.tables import (
        CategoryRule,
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
             "skus": f" SKU-{i % max(products, 1)}-0 ", "status": "created", "channel_status": "awaiting_shipment",
             "attempts": 1, "data": _order_data(i), "created_at": now, "updated_at": now}
            for i in range(products // 5 if orders is None else orders)])
    with engine.begin() as conn:
        ids = [r[0] for r in conn.exec_driver_sql("SELECT id FROM order_links")]
        conn.execute(TrackingPushRecord.__table__.insert(), [  # type: ignore[attr-defined]
            {"order_link_id": oid, "package_key": "", "tracking_number": f"RM{oid:09d}GB",
             "carrier": "Royal Mail", "status": "pushed", "updated_at": now} for oid in ids])
    with db.session() as s:
        s.add(CategoryRule(channel_store_id=shop_id, facet="all", value="*", category_id="101"))
        for i in range(500):
            s.add(SyncRun(flow=("products", "inventory", "orders", "tracking")[i % 4], org_id=org.id,
                          store_id=eco_id, channel_store_id=shop_id, status="ok", counts={"unchanged": products}))
    for i in range(2000):
        journal.record("products.unchanged", f"product p{i} unchanged", org_id=org.id, store_id=shop_id,
                       flow="products", item=f"p{i}")
    auth.create_user("bench@example.com", "bench password 1", orgs=["Bench"])
    return {"shop": shop_id, "eco": eco_id, "order": ids[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--orders", type=int, default=None, help="default: a fifth of --products")
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
    t0 = time.perf_counter()
    ids = fill(args.products, args.orders)
    print(f"filled {args.products} products and {args.orders or args.products // 5} orders in {time.perf_counter() - t0:.1f}s ({home})")

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
             f"/stores/{shop}/settings", f"/stores/{ids['eco']}/prerequisites", "/healthz", "/metrics"]
    print(f"{'page':55} {'median ms':>10} {'max ms':>8}")
    worst = (0.0, "")
    for url in pages:
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            r = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            assert r.status_code == 200, (url, r.status_code)
        med = statistics.median(times)
        worst = max(worst, (med, url))
        print(f"{url:55} {med:10.1f} {max(times):8.1f}")
    print(f"slowest page: {worst[1]} at {worst[0]:.1f} ms (median of {args.repeat})")


if __name__ == "__main__":
    main()

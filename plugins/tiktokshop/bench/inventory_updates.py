"""Benchmark: requests used to update the inventory of 100 products with 3 SKUs each.

    .venv/bin/python plugins/tiktokshop/bench/inventory_updates.py
"""

from __future__ import annotations

import time

from bridge.models import InventoryUpdate
from bridge.sandboxing import SandboxServer
from bridge_tiktokshop import connector


def main() -> None:
    sb = connector.sandbox(options={"rate_limit": 0})
    shop = sb.shops()[0]["id"]
    with sb.world.lock:  # 100 products with exactly 3 SKUs each
        while len([p for p in sb.products(shop) if len(p["skus"]) == 3]) < 100:
            sb.seed_catalog(50, 3)
    products = [p for p in sb.products(shop) if len(p["skus"]) == 3][:100]
    updates = [InventoryUpdate(product_id=p["id"], sku_id=s["id"], quantity=i % 50)
               for p in products for i, s in enumerate(p["skus"])]
    with SandboxServer(sb.app) as server:
        conn = sb.connection(server.url)
        for run in ("first (cold: includes the warehouse lookup)", "second (warehouses cached)"):
            sb.stats.reset()
            t0 = time.perf_counter()
            results = connector.update_inventory(connection=conn, updates=updates)
            elapsed = time.perf_counter() - t0
            s = sb.stats.snapshot()
            print(f"{run}: {len(updates)} SKU updates in {len(products)} products -> "
                  f"{s['total']} requests ({s['writes']} writes), all ok={all(r.ok for r in results)}, "
                  f"{elapsed:.2f}s")
        conn.close()
    wanted = {p["id"] for p in products}
    assert all(s["quantity"] == n for p in sb.products(shop) if p["id"] in wanted
               for n, s in enumerate(p["skus"])), "the sandbox does not hold the quantities sent"


if __name__ == "__main__":
    main()

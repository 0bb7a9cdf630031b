"""Benchmark: read a 10,000-variant TikTok Shop catalog through the connector.

TikTok Shop is a channel, so bridge has no ``list_products`` for it: the catalog read is
``read_inventory(variant_ids=None)``, which streams Search Products page by page (100 products
per page). Prints requests made (from the sandbox's stats) and peak memory (tracemalloc).

    .venv/bin/python plugins/tiktokshop/bench/read_catalog.py [--variants 10000] [--per-product 3]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

from bridge.sandboxing import SandboxServer
from bridge_tiktokshop import connector


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=3)
    args = ap.parse_args()
    started = time.perf_counter()
    sb = connector.sandbox(options={"rate_limit": 0, "variants": args.per_product, "seed_random": 1})
    shop = sb.shops()[0]["id"]
    total = 0
    while total < args.variants:  # products get 1..per-product SKUs: seed until enough variants
        sb.seed_catalog(200, args.per_product)
        total = sum(len(p["skus"]) for p in sb.products(shop))
    seeded = time.perf_counter() - started
    with SandboxServer(sb.app) as server:
        conn = sb.connection(server.url)
        sb.stats.reset()
        tracemalloc.start()
        t0 = time.perf_counter()
        count = sum(1 for _ in connector.read_inventory(connection=conn, variant_ids=None))
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        conn.close()
    stats = sb.stats.snapshot()
    print(f"seeded {total} variants in {len(sb.products(shop))} products in {seeded:.2f}s")
    print(f"read {count} SKUs in {elapsed:.2f}s")
    print(f"requests: {stats['total']} ({stats['by_route']})")
    print(f"peak traced memory while streaming: {peak / 1024 / 1024:.1f} MiB")


if __name__ == "__main__":
    main()

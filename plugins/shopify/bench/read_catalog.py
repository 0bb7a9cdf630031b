#!/usr/bin/env python3
"""Read a seeded 10,000-variant catalog through the Shopify connector and its sandbox.

    .venv/bin/python plugins/shopify/bench/read_catalog.py [--variants 10000] [--per-product 4]
        [--mode bulk|pages|both] [--restore-rate 100]

Seeds the sandbox, serves it with SandboxServer on a loopback port, streams ``list_products``
through the connector (``bulk``: the catalog is above the bulk threshold, one bulk operation
whose JSONL result is streamed, cursor pages read while Shopify builds it; ``pages``: cursor pagination with the threshold raised), and
prints the requests the sandbox served, the query cost Shopify would charge (requested and
actual), THROTTLED answers, wall time, and the peak Python memory of the reading process
(tracemalloc; the reader runs in a forked child so the sandbox's own memory is not counted).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import tracemalloc
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.plugins import PluginManager
from bridge.sandboxing import SandboxServer


def _read(settings: dict, credentials: dict, app_settings: dict, queue: Any) -> None:
    pm = PluginManager()
    conn = Connection(platform="shopify", settings=settings, credentials=credentials,
                      app=AppContext(platform="shopify", settings=app_settings))
    tracemalloc.start()
    started = time.perf_counter()
    products = variants = pages = 0
    for page in pm.call("shopify", "list_products", connection=conn, cursor=None):
        pages += 1
        products += len(page.products)
        variants += sum(len(p.variants) for p in page.products)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    queue.put((products, variants, pages, elapsed, peak))


def run(mode: str, sb: Any, server: SandboxServer) -> None:
    settings = dict(sb.base_url_setting(server.url))
    settings["bulk_threshold"] = 1000 if mode == "bulk" else 10**9
    sb.stats.reset()
    ctx = multiprocessing.get_context("fork")
    queue: Any = ctx.Queue()
    child = ctx.Process(target=_read, args=(settings, dict(sb.credentials()),
                                            {**sb.app_settings(), "base_url": server.url}, queue))
    child.start()
    products, variants, pages, elapsed, peak = queue.get(timeout=1800)
    child.join()
    stats = sb.stats.snapshot()
    print(f"mode:              {mode}")
    print(f"read:              {products} products, {variants} variants in {pages} pages")
    print(f"requests:          {stats['total']}  "
          f"({', '.join(f'{k}: {v}' for k, v in sorted(stats['by_route'].items()))})")
    print(f"query cost:        requested {stats['requested_query_cost']}, "
          f"actual {stats['actual_query_cost']}")
    print(f"throttled:         {stats['throttled']}")
    print(f"wall time:         {elapsed:.2f}s")
    print(f"peak memory:       {peak / 1e6:.1f} MB (tracemalloc, the reading process)")
    print()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    ap.add_argument("--mode", choices=["bulk", "pages", "both"], default="both")
    ap.add_argument("--restore-rate", type=float, default=100.0,
                    help="points/s of the cost bucket (100 standard, 200 Advanced, 1000 Plus)")
    args = ap.parse_args()
    pm = PluginManager()
    sb = pm.call("shopify", "sandbox", options={
        "seed": 0, "variants": args.per_product, "restore_rate": args.restore_rate,
        "bucket_size": 20 * args.restore_rate})
    products = -(-args.variants // args.per_product)
    t0 = time.perf_counter()
    sb.seed_catalog(products, args.per_product, seed=1)
    print(f"seeded:            {products} products x {args.per_product} variants "
          f"in {time.perf_counter() - t0:.2f}s")
    print(f"cost bucket:       {sb.bucket.maximum:.0f} points, restore {sb.bucket.rate:.0f}/s\n")
    with SandboxServer(sb.app) as server:
        for mode in (["bulk", "pages"] if args.mode == "both" else [args.mode]):
            run(mode, sb, server)


if __name__ == "__main__":
    main()

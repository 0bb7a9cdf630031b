#!/usr/bin/env python3
"""Read a 10,000-variant WooCommerce catalog through the connector and the sandbox; print the
requests it took and the reading process's peak memory.

    .venv/bin/python plugins/woocommerce/bench/read_catalog.py [--variants 10000] [--per-product 4]

The sandbox is seeded, then served over loopback by :class:`bridge.sandboxing.SandboxServer`; the
connector streams ``list_products`` in a forked child process traced with tracemalloc, so the
sandbox's own allocations are not counted. Requests come from the sandbox's ``stats``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import tracemalloc
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.sandboxing import SandboxServer
from bridge_woocommerce import connector
from bridge_woocommerce.sandbox import WooSandbox


def _read(settings: dict[str, Any], credentials: dict[str, Any], queue: Any) -> None:
    conn = Connection(platform="woocommerce", settings=settings, credentials=credentials,
                      app=AppContext(platform="woocommerce"))
    tracemalloc.start()
    started = time.perf_counter()
    pages = products = variants = 0
    largest_page = 0
    for page in connector.list_products(connection=conn, cursor=None):
        pages += 1
        products += len(page.products)
        n = sum(len(p.variants) for p in page.products)
        variants += n
        largest_page = max(largest_page, n)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    queue.put((pages, products, variants, elapsed, peak))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    args = ap.parse_args()
    sandbox = WooSandbox({"tracking": "both"})
    n_products = -(-args.variants // args.per_product)
    t0 = time.perf_counter()
    sandbox.seed_catalog(n_products, args.per_product, seed=1)
    seeded = time.perf_counter() - t0
    with SandboxServer(sandbox.app) as server:
        sandbox.stats.reset()
        ctx = multiprocessing.get_context("fork")
        queue: Any = ctx.Queue()
        child = ctx.Process(target=_read, args=(sandbox.base_url_setting(server.url), sandbox.credentials(), queue))
        child.start()
        pages, products, variants, elapsed, peak = queue.get(timeout=1800)
        child.join()
        stats = sandbox.stats.snapshot()
    print(f"seeded:        {n_products} products x {args.per_product} variants in {seeded:.2f}s")
    print(f"read:          {products} products, {variants} variants in {pages} pages")
    print(f"requests:      {stats['total']}")
    for route, count in sorted(stats["by_route"].items()):
        print(f"               {count:6d}  {route}")
    print(f"wall time:     {elapsed:.2f}s")
    print(f"peak memory:   {peak / 1e6:.1f} MB (tracemalloc, reading process)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Read a seeded Magento catalog through the connector and the sandbox; print the figures.

    .venv/bin/python plugins/magento2/bench/read_catalog.py [--variants 10000] [--per-product 4]

Seeds the sandbox (configurables with ``--per-product`` children each), serves it over a real
loopback socket with SandboxServer, streams ``list_products`` through the plugin (OAuth 1.0a
signed, as against a stock 2.4 store) and prints the requests the sandbox served (total and by
route, from ``sandbox.stats``) and the peak Python memory of the reading: the connector runs
in a forked child process under tracemalloc, so neither the sandbox's catalog nor its request
handling is counted.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
import tracemalloc
from typing import Any

from bridge.connection import AppContext, Connection
from bridge.sandboxing import SandboxServer
from bridge_magento2 import connector
from bridge_magento2.sandbox import MagentoSandbox


def read(settings: dict[str, Any], credentials: dict[str, Any], queue: Any) -> None:
    """Stream the catalog (in the child process); report counts, time and peak memory."""
    conn = Connection(platform="magento2", settings=settings, credentials=credentials,
                      app=AppContext(platform="magento2"))
    tracemalloc.start()
    started = time.perf_counter()
    n_products = n_variants = n_pages = 0
    for page in connector.list_products(conn, None):
        n_pages += 1
        n_products += len(page.products)
        n_variants += sum(len(p.variants) for p in page.products)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    conn.close()
    queue.put((n_products, n_variants, n_pages, elapsed, peak))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    ap.add_argument("--page-size", type=int, default=300)
    args = ap.parse_args()
    sb = MagentoSandbox.from_options({})
    products = -(-args.variants // args.per_product)
    t0 = time.perf_counter()
    sb.seed_catalog(products, args.per_product, seed=1)
    seeded = time.perf_counter() - t0
    with SandboxServer(sb.app) as server:
        settings = {"base_url": server.url, "page_size": args.page_size}
        sb.stats.reset()
        ctx = multiprocessing.get_context("fork")
        queue: Any = ctx.Queue()
        child = ctx.Process(target=read, args=(settings, sb.credentials(), queue))
        child.start()
        n_products, n_variants, n_pages, elapsed, peak = queue.get(timeout=600)
        child.join()
        stats = sb.stats.snapshot()
    print(f"seeded:       {products} configurable products, {products * args.per_product} variants "
          f"in {seeded:.2f}s")
    print(f"read:         {n_products} products, {n_variants} variants in {n_pages} pages")
    print(f"requests:     {stats['total']}")
    for route, count in sorted(stats["by_route"].items()):
        print(f"              {count:5d}  {route}")
    print(f"wall time:    {elapsed:.2f}s")
    print(f"peak memory:  {peak / 1e6:.1f} MB (tracemalloc, the reading process)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Read a seeded 10,000-variant catalog through the BigCommerce connector and its sandbox.

    .venv/bin/python plugins/bigcommerce/bench/read_catalog.py [--variants 10000] [--per-product 4]

Seeds the sandbox, serves it with SandboxServer on a loopback port, streams ``list_products``
through the plugin (the same httpx client as against the real API) and prints the requests the
sandbox served (``sandbox.stats``), the wall time and the peak Python memory (tracemalloc) of
reading. The reader runs in a forked child so the sandbox's own allocations are not counted.
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


def read(settings: dict, credentials: dict, app_settings: dict, queue: Any) -> None:
    """Stream the catalog (in the child process); report counts, time and peak memory."""
    pm = PluginManager()
    conn = Connection(platform="bigcommerce", settings=settings, credentials=credentials,
                      app=AppContext(platform="bigcommerce", settings=app_settings))
    tracemalloc.start()
    started = time.perf_counter()
    products = variants = pages = 0
    for page in pm.call("bigcommerce", "list_products", connection=conn, cursor=None):
        pages += 1
        products += len(page.products)
        variants += sum(len(p.variants) for p in page.products)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    conn.close()
    queue.put((pages, products, variants, elapsed, peak))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=0.0)
    args = ap.parse_args()
    pm = PluginManager()
    sb = pm.call("bigcommerce", "sandbox", options={"seed": 0, "latency_ms": args.latency_ms})
    n_products = -(-args.variants // args.per_product)
    t0 = time.perf_counter()
    sb.seed_catalog(n_products, args.per_product, seed=1)
    seeded = time.perf_counter() - t0
    with SandboxServer(sb.app) as server:
        settings = sb.base_url_setting(server.url)
        app_settings = {**sb.app_settings(), "base_url": server.url}
        sb.stats.reset()
        ctx = multiprocessing.get_context("fork")
        queue: Any = ctx.Queue()
        child = ctx.Process(target=read, args=(settings, sb.credentials(), app_settings, queue))
        child.start()
        pages, products, variants, elapsed, peak = queue.get(timeout=600)
        child.join()
        stats = sb.stats.snapshot()
    routes = ", ".join(f"{k}: {v}" for k, v in sorted(stats["by_route"].items()))
    print(f"seeded:      {n_products} products x {args.per_product} variants in {seeded:.2f}s")
    print(f"read:        {products} products, {variants} variants in {pages} pages")
    print(f"requests:    {stats['total']} ({routes}); throttled (429): {stats['throttled']}")
    print(f"wall time:   {elapsed:.2f}s")
    print(f"peak memory: {peak / 1e6:.1f} MB (tracemalloc, the reading process)")


if __name__ == "__main__":
    main()

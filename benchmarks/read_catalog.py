#!/usr/bin/env python3
"""Read a seeded catalog through a platform's connector and its sandbox; print the figures.

    .venv/bin/python benchmarks/read_catalog.py shopify --variants 10000 [--per-product 4]

Prints: products and variants read, requests served by the sandbox (total and by route), wall
time, and peak Python memory (tracemalloc) of the reading process: the connector runs in a forked
child process so the sandbox's own allocations are not counted.
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


def _read(platform: str, settings: dict, credentials: dict, app_settings: dict, queue: Any) -> None:
    """Stream the catalog in this (child) process and report counts, time and peak memory."""
    pm = PluginManager()
    conn = Connection(platform=platform, settings=settings, credentials=credentials,
                      app=AppContext(platform=platform, settings=app_settings))
    tracemalloc.start()
    started = time.perf_counter()
    n_products = n_variants = 0
    for page in pm.call(platform, "list_products", connection=conn, cursor=None):
        n_products += len(page.products)
        n_variants += sum(len(p.variants) for p in page.products)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    queue.put((n_products, n_variants, elapsed, peak))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("platform")
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    ap.add_argument("--option", action="append", default=[], metavar="KEY=VALUE")
    args = ap.parse_args()
    pm = PluginManager()
    options: dict[str, object] = {"seed": 0, "variants": args.per_product}
    for item in args.option:
        k, v = item.split("=", 1)
        options[k] = v
    sb = pm.call(args.platform, "sandbox", options=options)
    products = -(-args.variants // args.per_product)
    t0 = time.perf_counter()
    sb.seed_catalog(products, args.per_product, seed=1)
    seeded = time.perf_counter() - t0
    with SandboxServer(sb.app) as server:
        settings = dict(sb.base_url_setting(server.url))
        app_settings = {**sb.app_settings(), "base_url": server.url}
        sb.stats.reset()
        ctx = multiprocessing.get_context("fork")
        queue: Any = ctx.Queue()
        child = ctx.Process(target=_read, args=(args.platform, settings, dict(sb.credentials()),
                                                app_settings, queue))
        child.start()
        n_products, n_variants, elapsed, peak = queue.get(timeout=3600)
        child.join()
        stats = sb.stats.snapshot()
    print(f"platform:          {args.platform}")
    print(f"seeded:            {products} products in {seeded:.1f}s")
    print(f"read:              {n_products} products, {n_variants} variants")
    print(f"requests:          {stats['total']}  ({', '.join(f'{k}: {v}' for k, v in sorted(stats['by_route'].items()))})")
    print(f"wall time:         {elapsed:.2f}s")
    print(f"peak memory:       {peak / 1e6:.1f} MB (tracemalloc, the reading process)")
    extra = {k: v for k, v in stats.items() if k not in ("total", "by_route", "writes", "throttled")}
    if extra:
        print(f"sandbox extras:    {extra}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Time from a stock change in the eCommerce sandbox (delivered to bridge as a webhook) to the
TikTok Shop sandbox holding the new quantity, in the running daemon (scheduler + admin app).

    .venv/bin/python benchmarks/webhook_latency.py [--platform shopify] [--samples 30]

Prints the median and the 95th percentile. The subscriptions are the ones bridge made itself
when the stores were connected (``bridge.subscriptions``: ``BRIDGE_PUBLIC_URL`` is the daemon's
loopback address, reachable from the loopback sandboxes); the flows' intervals are an hour, so
only the delivery can bring the new quantity: bridge's webhook receiver triggers the inventory
flow for the items named.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from bridge.sandboxing import SandboxServer, free_port


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--platform", default="shopify")
    ap.add_argument("--samples", type=int, default=30)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="bridge-webhook-bench-")
    os.environ.update({"BRIDGE_DATA_DIR": data, "BRIDGE_CONFIG_DIR": os.path.join(data, "config")})
    web_port = free_port()
    os.environ["BRIDGE_PUBLIC_URL"] = f"http://127.0.0.1:{web_port}"
    for flow in ("orders", "inventory", "tracking", "products", "listings", "refunds"):
        os.environ[f"BRIDGE_INTERVAL_{flow.upper()}"] = "3600"

    from bridge.plugins import get_manager
    from bridge.scheduler import Scheduler
    from bridge.subscriptions import inspect
    from bridge.web.app import create_app
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
    from tests.e2e.harness import Harness

    with ExitStack() as stack:
        h = Harness(args.platform, stack, lambda k, v: os.environ.__setitem__(k, v), pm=get_manager())
        h.eco.seed_catalog(20, 2, seed=2)
        h.map_everything()
        h.sync("products")
        h.sync("inventory")
        made = inspect(h.eco_store, h.pm)  # what the platform holds, subscribed at connect
        if made.mode != "webhooks" or not made.ok:
            raise SystemExit(f"{args.platform}: bridge's subscriptions are not in place: {made.summary()}")
        sched = Scheduler(workers=4, pm=h.pm, tick=0.02)
        stack.enter_context(SandboxServer(create_app(scheduler=sched), port=web_port))
        daemon = threading.Thread(target=sched.run_forever, daemon=True)
        daemon.start()
        stack.callback(sched.stop)
        h.eco.set_latency(args.latency_ms)
        h.tt.set_latency(args.latency_ms)
        skus = [s["seller_sku"] for p in h.tiktok_products() for s in p["skus"]]
        # stock bridge can follow: what the store itself reports as tracked (an untracked item
        # always offers the same quantity, whatever its stock field holds)
        from bridge.stores import connection_for

        untracked = {lv.sku for page in [h.pm.call(args.platform, "read_inventory",
                                                   connection=connection_for(h.eco_store, h.pm),
                                                   variant_ids=None)]
                     for lv in page if not lv.tracked}
        tracked = [sku for sku in skus if sku not in untracked]
        samples: list[float] = []
        missed: list[str] = []
        for i in range(args.samples):
            sku, qty = tracked[i % len(tracked)], 500 + i
            started = time.perf_counter()
            h.eco.set_quantity(sku, qty)
            while h.tiktok_sku(sku)["quantity"] != qty:
                if time.perf_counter() - started > 20:
                    missed.append(sku)
                    break
                time.sleep(0.005)
            else:
                samples.append(time.perf_counter() - started)
            time.sleep(0.2)
    if not samples:
        raise SystemExit(f"no stock change reached TikTok within 20 s (missed: {missed})")
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * len(samples))) - 1)]
    print(f"platform:  {args.platform} -> tiktokshop, {args.latency_ms:.0f} ms added latency per request")
    print(f"subscribed: {made.summary()} (made by bridge at connect)")
    print(f"samples:   {len(samples)}" + (f" ({len(missed)} did not reach TikTok within 20 s: "
                                              f"{', '.join(sorted(set(missed)))})" if missed else ""))
    print(f"median:    {statistics.median(samples) * 1000:.0f} ms")
    print(f"p95:       {p95 * 1000:.0f} ms")


if __name__ == "__main__":
    main()

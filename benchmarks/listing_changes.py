#!/usr/bin/env python3
"""Changes to listed products and the TikTok requests they cost; print the figures.

    .venv/bin/python benchmarks/listing_changes.py                      # 1,000 products
    .venv/bin/python benchmarks/listing_changes.py --products 200 --prices 20 --descriptions 10 --variants 2

A BigCommerce sandbox seeded with ``--products`` visible products (three variants each) is listed
on the TikTok Shop sandbox (both served on loopback in this process, rate limit off: requests are
counted, not timed) and the listings approved. Then, in the store, the price of ``--prices``
products changes, the description of ``--descriptions`` others, and ``--variants`` others get one
more variant; one products run follows. Printed: the TikTok requests of that run by endpoint,
against what the lightest calls need (one ``prices/update`` per repriced product, one
``partial_edit`` per described product, one Get Product and one full edit per product with a new
variant, nothing else), how many products went back to review (the sandbox counts each content
edit, full edit, creation and activation; a price update is never reviewed), and a no-op re-run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--prices", type=int, default=100)
    ap.add_argument("--descriptions", type=int, default=50)
    ap.add_argument("--variants", type=int, default=10)
    ap.add_argument("--concurrency", type=int, default=8, help="shop option products.concurrency")
    args = ap.parse_args()
    if args.prices + args.descriptions + args.variants > args.products:
        ap.error("more changed products than products")
    home = tempfile.mkdtemp(prefix="bridge-bench-changes-")
    os.environ["BRIDGE_DATA_DIR"] = os.path.join(home, "data")
    os.environ["BRIDGE_CONFIG_DIR"] = os.path.join(home, "config")
    os.environ.pop("BRIDGE_DATABASE_URL", None)

    from sqlmodel import select

    from bridge import db
    from bridge.tables import ListingLink, Store
    from bridge_bigcommerce.sandbox import edits
    from tests.e2e.harness import Harness

    with ExitStack() as stack:
        h = Harness("bigcommerce", stack, os.environ.__setitem__, tt_options={"rate_limit": 0})
        ids = h.eco.seed_catalog(args.products, 3, seed=21)
        for pid in ids:  # every product visible: all of them get listed
            h.eco.state.products[int(pid)]["is_visible"] = True
        h.map_everything()
        with db.session() as s:
            row = s.get(Store, h.shop.id)
            assert row is not None
            row.options = {"products": {"concurrency": args.concurrency}}
            s.add(row)
        t0 = time.perf_counter()
        first = h.sync("products", patience=600)
        h.sync("listings", patience=600)
        h.sync("inventory", patience=600)
        with db.session() as s:
            listed = [ln.source_product_id for ln in s.exec(select(ListingLink)) if ln.remote_product_id]
        print(f"set-up: {len(listed)} products listed ({first.counts.get('created', 0)} created) and "
              f"approved in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
        chosen = sorted(listed, key=int)
        priced = chosen[:args.prices]
        described = chosen[args.prices:args.prices + args.descriptions]
        grown = chosen[args.prices + args.descriptions:args.prices + args.descriptions + args.variants]
        for pid in priced:
            edits.change_price(h.eco.state, pid, 1.0)
        for pid in described:
            edits.change_description(h.eco.state, pid, f"<p>A new description of product {pid}, "
                                                       "rewritten by the merchant.</p>")
        for pid in grown:
            edits.add_variant(h.eco.state, pid)
        h.reset_stats()
        reviews = h.tt.reviews
        t0 = time.perf_counter()
        run = h.sync("products", patience=600)
        wall = time.perf_counter() - t0
        stats = h.tt.stats.snapshot()
        back_in_review = h.tt.reviews - reviews
        h.reset_stats()
        h.sync("products", patience=600)
        noop = h.tt.stats.snapshot()

    routes = stats["by_route"]
    expected = {
        "POST /product/202309/products/{product_id}/prices/update": len(priced),
        "POST /product/202309/products/{product_id}/partial_edit": len(described),
        "GET /product/202309/products/{product_id}": len(grown),
        "PUT /product/202309/products/{product_id}": len(grown),
    }
    print(f"catalog:            {args.products} products x 3 variants (BigCommerce sandbox), all listed")
    print(f"changes:            price of {len(priced)}, description of {len(described)}, "
          f"one more variant on {len(grown)}")
    print(f"products run:       {wall:.1f}s, counts {dict(sorted(run.counts.items()))}, errors {len(run.errors)}")
    print(f"TikTok requests:    {stats['total']} (lightest possible: {sum(expected.values())})")
    for route in sorted(set(routes) | set(expected)):
        mark = "" if routes.get(route, 0) == expected.get(route, 0) else "   <- expected " + str(expected.get(route, 0))
        print(f"  {routes.get(route, 0):5d}  {route}{mark}")
    print(f"back in review:     {back_in_review} products (at most {len(described) + len(grown)}: "
          f"descriptions and new variants; none for a price)")
    print(f"no-op re-run:       {noop['total']} TikTok requests, {noop['writes']} writes")


if __name__ == "__main__":
    main()

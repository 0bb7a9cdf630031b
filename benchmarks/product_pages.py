"""Server time of the product pages with a large shop: the products list (sorted by TikTok
price, searched by SKU, a far page), one product's page and the bulk editor's preview.

The database is filled as ``benchmarks/web_pages.py`` fills it (N products with their links and
SKUs, a journal); the two stores are then connected to the fake sandboxes on loopback (the
store seeded with N products), because these pages read the store's products and TikTok's stock
as they are now. Each page is requested in-process several times; median and worst are printed.

    .venv/bin/python benchmarks/product_pages.py --products 10000
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="bridge-bench-")
    os.environ.update(BRIDGE_DATA_DIR=home, BRIDGE_CONFIG_DIR=home, BRIDGE_PLUGINS="")
    import logging

    logging.disable(logging.WARNING)
    from starlette.testclient import TestClient

    from benchmarks.web_pages import connect, fill
    from bridge.plugins import PluginManager, set_manager
    from bridge.sandboxing import SandboxServer
    from bridge.web.app import create_app
    from tests.fakes import fake_channel, fake_ecommerce

    pm = PluginManager(load_entrypoints=False)
    pm.register(fake_ecommerce, name="fakeshop")
    pm.register(fake_channel, name="fakechannel")
    set_manager(pm)
    t0 = time.perf_counter()
    ids = fill(args.products)
    shop_sb = pm.call("fakeshop", "sandbox", options={"seed": args.products, "variants": 3})
    channel_sb = pm.call("fakechannel", "sandbox", options={})
    with SandboxServer(shop_sb.app) as s1, SandboxServer(channel_sb.app) as s2:
        connect(ids["eco"], "fakeshop", shop_sb, s1.url, pm)
        connect(ids["shop"], "fakechannel", channel_sb, s2.url, pm)
        print(f"filled {args.products} products in {time.perf_counter() - t0:.1f}s ({home})")
        client = TestClient(create_app())
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"email": "bench@example.com", "password": "bench password 1", "csrf_token": token})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
        shop = ids["shop"]
        mid = args.products // 2
        gets = [f"/products?shop={shop}", f"/products?shop={shop}&sort=-price",
                f"/products?shop={shop}&sort=stock&page=100", f"/products?shop={shop}&q=SKU-{mid}-1",
                f"/products?shop={shop}&q=cotton&sort=-title&page=150",
                f"/products/{shop}/product/p{mid}", f"/products/{shop}/product/p{args.products - 1}"]
        bulk = {"csrf_token": csrf, "ids": [f"p{i}" for i in range(1, 51)], "field": "price", "value": "+10%",
                "step": "preview"}
        print(f"{'page':60} {'median ms':>10} {'max ms':>8}")
        for label, call in [*((u, (lambda u=u: client.get(u))) for u in gets),
                            ("POST bulk editor preview, 50 products", lambda: client.post(f"/products/{shop}/edit", data=bulk))]:
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                r = call()
                times.append((time.perf_counter() - start) * 1000)
                assert r.status_code == 200, (label, r.status_code, r.text[:300])
                assert "could not be read" not in r.text, (label, r.text[:2000])
            print(f"{label:60} {statistics.median(times):10.1f} {max(times):8.1f}")


if __name__ == "__main__":
    main()

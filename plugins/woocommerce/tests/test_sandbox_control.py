"""The WooCommerce sandbox through its control API: reset keeps the REST key, media are served."""

from __future__ import annotations

import httpx

from bridge.sandboxing import SandboxServer
from bridge_woocommerce.sandbox import WooSandbox


def test_reset_empties_the_site_and_keeps_the_key() -> None:
    sb = WooSandbox({"seed": 2, "variants": 1, "ssl": "true"})  # query keys, as over TLS
    with SandboxServer(sb.app) as server, httpx.Client(base_url=server.url) as c:
        key = (sb.credentials()["consumer_key"], sb.credentials()["consumer_secret"])
        auth = {"consumer_key": key[0], "consumer_secret": key[1]}
        products = c.get("/wp-json/wc/v3/products", params=auth).json()
        image = products[0]["images"][0]["src"]
        assert image.startswith(server.url + "/wp-content/uploads/")
        assert c.get(image).content.startswith(b"\x89PNG")
        assert c.post("/_sandbox/reset").json() == {"reset": True}
        again = c.get("/wp-json/wc/v3/products", params=auth)
        assert again.status_code == 200 and again.json() == []
        assert c.post("/_sandbox/seed", json={"products": 1}).json()["ids"]
        assert sb.credentials()["consumer_key"] == key[0]

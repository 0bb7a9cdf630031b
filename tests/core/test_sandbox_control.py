"""Every installed plugin's sandbox is built on the kit and answers the common control API."""

from __future__ import annotations

import httpx
import pytest

from bridge.plugins import get_manager
from bridge.sandboxing import SandboxKit, SandboxServer


def _platforms() -> list[str]:
    """Every installed platform whose plugin offers a sandbox."""
    pm = get_manager()
    return [p.name for p in pm.platforms() if "sandbox" in pm.platform_plugin(p.name).capabilities]


@pytest.mark.parametrize("platform", _platforms())
def test_sandbox_serves_the_common_control_api(platform: str) -> None:
    pm = get_manager()
    sb = pm.call(platform, "sandbox", options={"seed": 0})
    assert isinstance(sb.kit, SandboxKit)
    with SandboxServer(sb.app) as server, httpx.Client(base_url=server.url, timeout=10) as c:
        info = c.get("/_sandbox").json()
        assert (info["platform"], info["kind"]) == (platform, pm.info(platform).kind)
        assert info["settings"] == sb.base_url_setting(server.url)
        assert len(c.post("/_sandbox/seed", json={"products": 2, "variants": 2}).json()["ids"]) == 2
        if info["kind"] == "channel":
            assert c.get("/_sandbox/shops").json() and len(c.get("/_sandbox/products").json()) == 2
        else:
            assert c.get("/_sandbox/orders").json() == []
        assert c.post("/_sandbox/faults", json={"status": 503, "path": "/*"}).status_code == 200
        assert c.get("/anything").status_code == 503  # in the platform's shape, before routing
        assert c.get("/_sandbox/stats").json()["faulted"] == 1
        assert isinstance(c.get("/_sandbox/subscriptions").json(), list)
        assert c.post("/_sandbox/latency", json={"ms": 5}).json() == {"latency_ms": 5.0}
        assert c.post("/_sandbox/reset").json() == {"reset": True}
        stats = c.get("/_sandbox/stats").json()
        assert stats["total"] == 0 and stats["faulted"] == 0 and stats["faults"] == []
        if info["kind"] == "channel":
            assert c.get("/_sandbox/products").json() == []

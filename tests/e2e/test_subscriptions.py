"""Webhook subscriptions made by bridge itself, as a merchant runs it: stores connected through
the CLI (`BRIDGE_<PLATFORM>_BASE_URL` pointing at the sandboxes, no --base-url), `bridge run` as
its own process, a change made in the sandbox, the flow run from the sandbox's own signed
delivery (the flows' intervals are an hour: polling cannot explain it), SIGTERM, and
`bridge disconnect` removing the subscriptions at the platform."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bridge import db
from bridge.plugins import get_manager
from bridge.sandboxing import SandboxServer, free_port
from bridge.tables import Job, Store, SyncRun
from tests.e2e.harness import CHANNEL, map_everything, skip_unless_installed
from tests.waiting import wait_for

BRIDGE = str(Path(sys.executable).with_name("bridge"))


def norm(platform: str, topic: str) -> str:
    """Shopify names a topic PRODUCTS_CREATE in its API and products/create on the wire."""
    return topic.lower().replace("/", "_") if platform == "shopify" else topic


def sandbox_subscriptions(platform: str, sb: Any) -> set[tuple[str, str]]:
    """(topic, address) of every subscription the sandbox holds, read from its own state."""
    if hasattr(sb, "subscriptions"):  # the sandbox kit's interface (Shopify: wire topics)
        return {(norm(platform, sub.topic), sub.address) for sub in sb.subscriptions()}
    if platform == "bigcommerce":
        return {(h["scope"], h["destination"]) for h in sb.state.hooks.values()}
    raise AssertionError(f"{platform} sandbox lists no subscriptions")


def deliveries(platform: str, sb: Any) -> list[tuple[str, Any]]:
    """(address, HTTP status) of every delivery the sandbox attempted."""
    deliverer = getattr(sb, "deliverer", None)
    for kit in (deliverer, getattr(deliverer, "kit", None), getattr(getattr(sb, "webhooks", None), "deliverer", None)):
        if isinstance(getattr(kit, "log", None), list) and hasattr(kit, "deliveries"):  # the kit's
            return [(d["address"], d["status"]) for d in kit.deliveries()]
    if platform == "bigcommerce":
        return [(d.get("destination"), d.get("status")) for d in sb.deliverer.log]
    raise AssertionError(f"{platform} sandbox keeps no delivery log")


def cli(*args: str, env: dict[str, str] | None = None, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([BRIDGE, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})
    if ok:
        assert proc.returncode == 0, f"bridge {' '.join(args)}: {proc.stderr.strip()}"
    return proc


def connect_args(platform: str, sb: Any, pm: Any) -> tuple[list[str], dict[str, str]]:
    """`bridge connect PLATFORM` options and BRIDGE_CONNECT_* secrets for a sandbox store: the
    base URL is left to BRIDGE_<PLATFORM>_BASE_URL."""
    info = pm.info(platform)
    names = {s.name: s for s in info.settings}
    values = {k: v for k, v in sb.base_url_setting("http://unused").items() if k != "base_url"}
    args, env = [], {}
    for k, v in values.items():
        if k in names and not names[k].secret and k not in ("site_url",):
            args += [f"--{k.replace('_', '-')}", str(v)]
    for k, v in sb.credentials().items():
        if k in names and names[k].secret:
            env[f"BRIDGE_CONNECT_{platform.upper()}_{k.upper()}"] = str(v)
    return args, env


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "bigcommerce"])
def test_bridge_subscribes_receives_the_sandboxes_deliveries_and_unsubscribes(platform, monkeypatch):
    pm = get_manager()
    skip_unless_installed(pm, platform)
    web_port = free_port()
    public = f"http://127.0.0.1:{web_port}"
    with ExitStack() as stack:
        eco = pm.call(platform, "sandbox", options={"seed": 2, "variants": 1})
        tt = pm.call(CHANNEL, "sandbox", options={})
        eco_srv = stack.enter_context(SandboxServer(eco.app))
        tt_srv = stack.enter_context(SandboxServer(tt.app))
        for name, sb, srv in ((platform, eco, eco_srv), (CHANNEL, tt, tt_srv)):
            for key, value in sb.app_settings().items():
                monkeypatch.setenv(f"BRIDGE_{name.upper()}_{key.upper()}", str(value))
            monkeypatch.setenv(f"BRIDGE_{name.upper()}_BASE_URL", srv.url)
        if platform == "woocommerce":  # the site URL is the store's identity: the sandbox's own
            monkeypatch.setenv("BRIDGE_CONNECT_WOOCOMMERCE_SITE_URL", eco_srv.url)
        monkeypatch.setenv("BRIDGE_PUBLIC_URL", public)
        for flow in ("orders", "inventory", "tracking", "products", "listings"):
            monkeypatch.setenv(f"BRIDGE_INTERVAL_{flow.upper()}", "3600")

        cli("org", "create", "Acme")
        args, env = connect_args(platform, eco, pm)
        if platform == "woocommerce":
            args += ["--site-url", eco_srv.url]
        cli("connect", platform, "--org", "Acme", *args, env=env)
        shop_id = tt.shops()[0]["id"]
        targs, tenv = connect_args(CHANNEL, tt, pm)
        out = cli("connect", CHANNEL, "--org", "Acme", *targs, env=tenv)
        assert "connected" in out.stdout

        with db.session() as s:
            eco_store = s.exec(select(Store).where(Store.platform == platform)).one()
            shop = s.exec(select(Store).where(Store.platform == CHANNEL)).one()
        eco_address = f"{public}/webhooks/{platform}/{eco_store.id}"
        tt_address = f"{public}/webhooks/{CHANNEL}/{shop.id}"
        # connecting subscribed every topic the flows need, at the platform
        assert sandbox_subscriptions(platform, eco) == {(norm(platform, t), eco_address) for t in pm.info(platform).webhook_topics}
        assert sandbox_subscriptions(CHANNEL, tt) == {(t, tt_address) for t in pm.info(CHANNEL).webhook_topics}
        doctor = cli("doctor").stdout
        assert doctor.count(f"[ok  ] change notifications: webhooks to {public}") == 2, doctor

        # products listed on TikTok first (one rule maps everything)
        map_everything(pm, shop)
        cli("sync", "products", "--org", "Acme")
        skus = [s["seller_sku"] for p in tt.products(shop_id) for s in p["skus"]]
        assert skus

        daemon = subprocess.Popen([BRIDGE, "run", "--port", str(web_port)], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        stack.callback(lambda: daemon.poll() is None and daemon.kill())

        def settled() -> bool:  # every job's first run (due at start) has finished
            db.reset_engines()
            with db.session() as s:
                jobs = list(s.exec(select(Job)))
            return bool(jobs) and all(j.last_run_at is not None and j.lease_owner is None for j in jobs)

        wait_for("the daemon's first runs", settled, timeout=60)
        with db.session() as s:
            inventory_runs = len(list(s.exec(select(SyncRun).where(SyncRun.flow == "inventory"))))

        # a stock change in the store reaches TikTok through bridge's own subscription
        sku = skus[0]
        eco.set_quantity(sku, 77)
        try:
            wait_for("the new quantity at TikTok",
                     lambda: any(s["quantity"] == 77 for p in tt.products(shop_id) for s in p["skus"]
                                 if s["seller_sku"] == sku))
        except AssertionError:
            daemon.kill()
            raise AssertionError(f"deliveries {deliveries(platform, eco)}; "
                                 f"daemon: {daemon.stderr.read()[-2000:]}") from None
        assert (eco_address, 200) in deliveries(platform, eco)
        with db.session() as s:
            assert len(list(s.exec(select(SyncRun).where(SyncRun.flow == "inventory")))) > inventory_runs

        if platform == "bigcommerce":  # TikTok's own delivery: a new order reaches the store
            before = len(eco.orders())
            order_id = tt.create_order(shop_id, [(skus[-1], 1)])
            wait_for("the TikTok order in the store",
                     lambda: any(o.source_order_id == order_id for o in eco.orders()))
            assert len(eco.orders()) == before + 1
            assert (tt_address, 200) in deliveries(CHANNEL, tt)

        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(timeout=40) == 0
        assert "bridge stopped" in daemon.stderr.read()

        cli("disconnect", str(eco_store.id))
        cli("disconnect", str(shop.id))
        assert sandbox_subscriptions(platform, eco) == set()
        assert sandbox_subscriptions(CHANNEL, tt) == set()

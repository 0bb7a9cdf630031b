"""Webhook subscriptions made by bridge itself, as a merchant runs it: stores connected through
the CLI (`BRIDGE_<PLATFORM>_BASE_URL` pointing at the sandboxes, no --base-url), `bridge run` as
its own process, a change made in the sandbox, the flow run from the sandbox's own signed
delivery (the flows' intervals are an hour: polling cannot explain it), SIGTERM, and
`bridge disconnect` removing the subscriptions at the platform. For each store platform the
change is a stock level (the inventory flow); for TikTok Shop, a buyer's order placed through
the sandbox's control API (the orders flow)."""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bridge import db, stores
from bridge.plugins import get_manager
from bridge.sandboxing import SandboxServer, free_port
from bridge.tables import Job, Store, SyncRun
from tests.e2e import harness
from tests.e2e.harness import BRIDGE, CHANNEL, map_everything, skip_unless_installed
from tests.waiting import wait_for


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


@dataclass
class Live:
    """A store platform's sandbox and TikTok Shop's served, both stores connected through the
    CLI (subscribed at connect), every product listed on TikTok."""

    platform: str
    pm: Any
    eco: Any
    tt: Any
    tt_url: str
    public: str
    web_port: int
    eco_store: Store
    shop: Store
    shop_id: str
    skus: list[str]

    @property
    def eco_address(self) -> str:
        return f"{self.public}/webhooks/{self.platform}/{self.eco_store.id}"

    @property
    def tt_address(self) -> str:
        return f"{self.public}/webhooks/{CHANNEL}/{self.shop.id}"


def connected(platform: str, monkeypatch: pytest.MonkeyPatch, stack: ExitStack) -> Live:
    """Both sandboxes served (stopped with ``stack``), the platforms' base URLs and the public
    URL in the environment, every flow's interval an hour (only a delivery runs a flow early),
    both stores connected with `bridge connect` and the catalog listed with `bridge sync`."""
    pm = get_manager()
    skip_unless_installed(pm, platform)
    web_port = free_port()
    public = f"http://127.0.0.1:{web_port}"
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

    stores.create_org("Acme")  # in this process: one `bridge` start less (the connects are the CLI's)
    args, env = connect_args(platform, eco, pm)
    if platform == "woocommerce":
        args += ["--site-url", eco_srv.url]
    cli("connect", platform, "--org", "Acme", *args, env=env)
    targs, tenv = connect_args(CHANNEL, tt, pm)
    out = cli("connect", CHANNEL, "--org", "Acme", *targs, env=tenv)
    assert "connected" in out.stdout
    with db.session() as s:
        eco_store = s.exec(select(Store).where(Store.platform == platform)).one()
        shop = s.exec(select(Store).where(Store.platform == CHANNEL)).one()
    shop_id = tt.shops()[0]["id"]

    map_everything(pm, shop)  # products listed on TikTok first (one rule maps everything)
    cli("sync", "products", "--org", "Acme")
    skus = [s["seller_sku"] for p in tt.products(shop_id) for s in p["skus"]]
    assert skus
    return Live(platform, pm, eco, tt, tt_srv.url, public, web_port, eco_store, shop, shop_id, skus)


def start_daemon(live: Live, stack: ExitStack, log: Path) -> subprocess.Popen:
    """`bridge run` on the public URL's port (its output in ``log``), once every job's first run
    (due at start) ended."""
    daemon = harness.start_daemon(stack, log, "--port", str(live.web_port))

    def settled() -> bool:
        db.reset_engines()
        with db.session() as s:
            jobs = list(s.exec(select(Job)))
        return bool(jobs) and all(j.last_run_at is not None and j.lease_owner is None for j in jobs)

    wait_for("the daemon's first runs", settled, timeout=60)
    return daemon


def stop_daemon(daemon: subprocess.Popen, log: Path) -> None:
    assert harness.stop_daemon(daemon) == 0
    assert "bridge stopped" in log.read_text()


def runs(flow: str) -> int:
    with db.session() as s:
        return len(list(s.exec(select(SyncRun).where(SyncRun.flow == flow))))


@pytest.mark.slow
@pytest.mark.parametrize("platform", ["shopify", "woocommerce", "bigcommerce"])
def test_bridge_subscribes_receives_the_sandboxes_deliveries_and_unsubscribes(platform, monkeypatch, tmp_path):
    with ExitStack() as stack:
        live = connected(platform, monkeypatch, stack)
        eco, tt, pm = live.eco, live.tt, live.pm
        # connecting subscribed every topic the flows need, at the platform
        assert sandbox_subscriptions(platform, eco) == {(norm(platform, t), live.eco_address)
                                                        for t in pm.info(platform).webhook_topics}
        assert sandbox_subscriptions(CHANNEL, tt) == {(t, live.tt_address) for t in pm.info(CHANNEL).webhook_topics}
        doctor = cli("doctor").stdout
        assert doctor.count(f"[ok  ] change notifications: webhooks to {live.public}") == 2, doctor

        daemon = start_daemon(live, stack, log := tmp_path / "bridge-run.log")
        inventory_runs = runs("inventory")

        # a stock change in the store reaches TikTok through bridge's own subscription
        sku = live.skus[0]
        eco.set_quantity(sku, 77)
        try:
            wait_for("the new quantity at TikTok",
                     lambda: any(s["quantity"] == 77 for p in tt.products(live.shop_id) for s in p["skus"]
                                 if s["seller_sku"] == sku))
        except AssertionError:
            daemon.kill()
            raise AssertionError(f"deliveries {deliveries(platform, eco)}; "
                                 f"daemon: {log.read_text()[-2000:]}") from None
        assert (live.eco_address, 200) in deliveries(platform, eco)
        assert runs("inventory") > inventory_runs

        stop_daemon(daemon, log)
        cli("disconnect", str(live.eco_store.id))
        cli("disconnect", str(live.shop.id))
        assert sandbox_subscriptions(platform, eco) == set()
        assert sandbox_subscriptions(CHANNEL, tt) == set()


@pytest.mark.slow
def test_tiktok_shop_subscribes_its_signed_order_delivery_runs_the_orders_flow_and_disconnect_unsubscribes(
        monkeypatch, tmp_path):
    with ExitStack() as stack:
        live = connected("bigcommerce", monkeypatch, stack)
        tt, pm = live.tt, live.pm
        topics = set(pm.info(CHANNEL).webhook_topics)
        # what the flows need: orders (status, cancellations), refunds (returns), listings (status)
        assert {"ORDER_STATUS_CHANGE", "CANCELLATION_STATUS_CHANGE", "RETURN_STATUS_CHANGE",
                "PRODUCT_STATUS_CHANGE"} <= topics
        assert sandbox_subscriptions(CHANNEL, tt) == {(t, live.tt_address) for t in topics}
        assert f"[ok  ] change notifications: webhooks to {live.tt_address}" in cli("doctor").stdout

        daemon = start_daemon(live, stack, log := tmp_path / "bridge-run.log")
        orders_runs, before = runs("orders"), len(live.eco.orders())

        # a buyer's order, placed from a shell through the sandbox's control API
        placed = cli("sandbox-ctl", CHANNEL, "--url", live.tt_url, "place-order", f"{live.skus[-1]}:1")
        order_id = json.loads(placed.stdout)["order_id"]
        try:
            wait_for("the TikTok order in the store",
                     lambda: any(o.source_order_id == order_id for o in live.eco.orders()))
        except AssertionError:
            daemon.kill()
            raise AssertionError(f"deliveries {tt.deliverer.sent}; "
                                 f"daemon: {log.read_text()[-2000:]}") from None
        assert len(live.eco.orders()) == before + 1
        # TikTok's own delivery of that order, signed as TikTok signs, accepted at the shop's address
        assert [(d["address"], d["status"]) for d in tt.deliverer.sent
                if d["body"]["type"] == 1 and d["body"]["data"]["order_id"] == order_id] == [(live.tt_address, 200)]
        assert runs("orders") > orders_runs

        stop_daemon(daemon, log)
        store_subscriptions = sandbox_subscriptions(live.platform, live.eco)
        cli("disconnect", str(live.shop.id))
        assert sandbox_subscriptions(CHANNEL, tt) == set()
        assert sandbox_subscriptions(live.platform, live.eco) == store_subscriptions  # the store's are its own

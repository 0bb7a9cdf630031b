"""An eCommerce sandbox and the TikTok Shop sandbox, served on loopback and connected to one
organization through the real plugins (end-to-end tests, the benchmark)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bridge import db, stores
from bridge.errors import RateLimited, Transient
from bridge.plugins import PluginManager, get_manager
from bridge.sandboxing import SandboxServer
from bridge.sync import run_flow
from bridge.tables import CategoryRule, Store

CHANNEL = "tiktokshop"
#: The eCommerce platforms bridge ships a plugin for.
PLATFORMS = ["shopify", "woocommerce", "magento2", "bigcommerce"]
#: The ``bridge`` command of the environment running the tests.
BRIDGE = str(Path(sys.executable).with_name("bridge"))


def missing_plugin(pm: PluginManager, platform: str) -> str | None:
    """Why ``platform`` cannot run (plugin not installed or broken), or None."""
    if pm.platform_plugin(platform, strict=False) is not None:
        return None
    loaded = pm.plugins.get(platform)
    if loaded is not None and loaded.error:
        return f"plugin '{platform}' does not load: {loaded.error}"
    return f"plugin '{platform}' is not installed"


def skip_unless_installed(pm: PluginManager, *platforms: str) -> None:
    """Skip the running test, saying why, when a plugin of ``platforms`` (and TikTok Shop's)
    is not installed or does not load."""
    import pytest

    for name in (*platforms, CHANNEL):
        reason = missing_plugin(pm, name)
        if reason:
            pytest.skip(reason)


def running(platform: str, setenv: Callable[[str, str], None], **options: Any) -> Iterator[Harness]:
    """A fixture's body: ``platform``'s and TikTok Shop's sandboxes served and connected (skipped
    when a plugin is missing), stopped afterwards; ``options`` as :class:`Harness` takes them."""
    pm = options.pop("pm", None) or get_manager()
    skip_unless_installed(pm, platform)
    with ExitStack() as stack:
        yield Harness(platform, stack, setenv, pm=pm, **options)


def start_daemon(stack: ExitStack, log: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """``bridge run ARGS`` in a process of its own, with this process's environment (the
    sandboxes' URLs, the data directory) and ``env``; its output goes to the file ``log`` (a pipe
    nobody reads fills up and stops a daemon that logs a lot). Killed when ``stack`` closes if it
    is still running."""
    out = stack.enter_context(open(log, "w"))  # noqa: SIM115 - closed by the stack
    proc = subprocess.Popen([BRIDGE, "run", *args], stdout=out, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})})
    stack.callback(lambda: proc.poll() is None and (proc.kill(), proc.wait()))
    return proc


def stop_daemon(proc: subprocess.Popen, timeout: float = 40.0) -> int:
    """SIGTERM to a daemon from :func:`start_daemon`; its exit status."""
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=timeout)


def map_everything(pm: PluginManager, shop: Store, placeholder: str = "E2E") -> str:
    """One rule mapping every product of the TikTok shop ``shop`` to the category TikTok
    recommends for a T-shirt, its required attributes set to their first allowed value (or
    ``placeholder`` where free text is asked); returns the category id."""
    from bridge.stores import connection_for

    conn = connection_for(shop, pm)
    cat = pm.call(CHANNEL, "recommend_category", connection=conn, title="Cotton T-shirt", description="")
    attrs = {a.id: [a.values[0].id] if a.values else [placeholder]
             for a in pm.call(CHANNEL, "category_attributes", connection=conn, category_id=cat.id)
             if a.required and not a.sales}
    with db.session() as s:
        s.add(CategoryRule(channel_store_id=shop.id, facet="all", value="*",  # type: ignore[arg-type]
                           category_id=cat.id, category_name=cat.name, attributes=attrs))
    return cat.id


class Harness:
    """Both sandboxes running, both stores connected, every product mapped to one category."""

    def __init__(self, platform: str, stack: ExitStack, setenv: Callable[[str, str], None],
                 *, eco_options: dict[str, Any] | None = None, tt_options: dict[str, Any] | None = None,
                 pm: PluginManager | None = None, wrap: Callable[[Any], Any] | None = None) -> None:
        """``wrap``: given a sandbox, the app to serve for it (faults put in front of it)."""
        self.platform = platform
        self.pm = pm or get_manager()
        self.eco = self.pm.call(platform, "sandbox", options=dict(eco_options or {}))
        self.tt = self.pm.call(CHANNEL, "sandbox", options=dict(tt_options or {}))
        serve = wrap or (lambda sb: sb.app)
        self.eco_srv = stack.enter_context(SandboxServer(serve(self.eco)))
        self.tt_srv = stack.enter_context(SandboxServer(serve(self.tt)))
        for name, sb, srv in ((platform, self.eco, self.eco_srv), (CHANNEL, self.tt, self.tt_srv)):
            for key, value in sb.app_settings().items():
                setenv(f"BRIDGE_{name.upper()}_{key.upper()}", str(value))
            setenv(f"BRIDGE_{name.upper()}_BASE_URL", srv.url)
        self.org = stores.create_org("E2E")
        self.org_id: int = self.org.id  # type: ignore[assignment]
        self.eco_store = stores.connect_store(self.org_id, platform, self.eco.base_url_setting(self.eco_srv.url),
                                              self.eco.credentials(), self.pm)
        self.shop = stores.connect_store(self.org_id, CHANNEL, self.tt.base_url_setting(self.tt_srv.url),
                                         self.tt.credentials(), self.pm)
        self.shop_remote = self.tt.shops()[0]["id"]

    # ------------------------------------------------------------------ set-up

    def map_everything(self) -> str:
        """One rule mapping every product to a category (see :func:`map_everything`)."""
        return map_everything(self.pm, self.shop)

    def non_leaf_category(self) -> str:
        from bridge.stores import connection_for

        cats = self.pm.call(CHANNEL, "list_categories", connection=connection_for(self.shop, self.pm))
        return next(c.id for c in cats if not c.is_leaf)

    def set_options(self, options: dict[str, Any]) -> None:
        with db.session() as s:
            row = s.get(Store, self.shop.id)
            assert row is not None
            row.options = options
            s.add(row)

    # ------------------------------------------------------------------ running

    def sync(self, flow: str, *, dry_run: bool = False, items: list[str] | None = None,
             patience: float = 60.0) -> Any:
        """Run a flow as the scheduler would: wait and run again when told to slow down."""
        deadline = time.monotonic() + patience
        while True:
            try:
                results = run_flow(flow, self.org_id, dry_run=dry_run, items=items, pm=self.pm)
                return results[0]
            except (RateLimited, Transient) as exc:
                if time.monotonic() > deadline:
                    raise
                time.sleep(min(5.0, getattr(exc, "retry_after", 1.0) or 1.0))

    def reset_stats(self) -> None:
        self.eco.stats.reset()
        self.tt.stats.reset()

    def writes(self) -> dict[str, int]:
        return {"ecommerce": self.eco.stats.snapshot()["writes"], "tiktok": self.tt.stats.snapshot()["writes"]}

    # ------------------------------------------------------------------ TikTok side

    def tiktok_products(self) -> list[dict[str, Any]]:
        return self.tt.products(self.shop_remote)

    def tiktok_sku(self, seller_sku: str) -> dict[str, Any]:
        for p in self.tiktok_products():
            for s in p["skus"]:
                if s["seller_sku"] == seller_sku:
                    return s
        raise KeyError(seller_sku)

    def store_orders_for(self, tiktok_order_id: str) -> list[Any]:
        return [o for o in self.eco.orders() if o.source_order_id == tiktok_order_id]

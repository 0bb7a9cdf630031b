"""`bridge demo`: bridge end to end against the plugins' sandboxes, with a closing summary.

Starts the eCommerce sandbox (Shopify by default) and the TikTok Shop sandbox on free loopback
ports, uses a temporary data directory (unless one is given), creates an organization, connects
both stores through the real plugins, seeds a catalog, maps categories from TikTok's
recommendations, then runs the daemon (the scheduler and its workers) and waits for each flow's
effect: products listed, a stock change propagated, a TikTok order created in the store, the
fulfilment's tracking pushed back.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import Any

import click

from bridge.errors import Misconfigured

CHANNEL = "tiktokshop"


class Step:
    def __init__(self) -> None:
        self.rows: list[dict[str, str]] = []

    def __call__(self, name: str, fn: Callable[[], str]) -> str:
        click.echo(f"• {name} ...", err=True)
        started = time.monotonic()
        result = fn()
        took = time.monotonic() - started
        click.echo(f"  {result} ({took:.1f}s)", err=True)
        self.rows.append({"step": name, "result": result, "seconds": f"{took:.1f}"})
        return result


def wait_for(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    """Poll ``check`` until it returns something truthy; a clear error after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise Misconfigured(f"demo: timed out after {timeout:.0f}s waiting for {what}: see `bridge log`")


def _isolate(data_dir: str | None, stack: ExitStack) -> str:
    if data_dir is None:
        data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bridge-demo-"))
    os.environ["BRIDGE_DATA_DIR"] = data_dir
    os.environ.setdefault("BRIDGE_CONFIG_DIR", os.path.join(data_dir, "config"))
    os.environ.pop("BRIDGE_DATABASE_URL", None)
    from bridge import db

    db.reset_engines()
    return data_dir


def _app_settings(platform: str, sandbox: Any, url: str) -> None:
    for name, value in sandbox.app_settings().items():
        os.environ[f"BRIDGE_{platform.upper()}_{name.upper()}"] = str(value)
    os.environ[f"BRIDGE_{platform.upper()}_BASE_URL"] = url


def map_categories(org_id: int, shop: Any, pm: Any) -> str:
    """TikTok's recommended category per product: the most common one becomes a rule for every
    product, the others per-product choices; required attributes get their first allowed value."""
    from collections import Counter

    from bridge import db
    from bridge.errors import Rejected
    from bridge.facade import StoreReader
    from bridge.mapping import set_rule
    from bridge.stores import list_stores
    from bridge.tables import ProductMapping

    eco = StoreReader(pm, next(s for s in list_stores(org_id) if s.kind == "ecommerce"))
    channel = StoreReader(pm, shop)
    chosen: dict[str, str] = {}
    attrs: dict[str, dict[str, list[str]]] = {}
    for page in eco.list_products(None):
        for p in page.products:
            try:
                cat = channel.recommend_category(p.title, "")
            except Rejected:
                cat = None
            if cat is None:
                continue
            chosen[p.remote_id] = cat.id
            if cat.id not in attrs:
                attrs[cat.id] = {a.id: [a.values[0].id] if a.values else ["Demo"]
                                 for a in channel.category_attributes(cat.id)
                                 if a.required and not a.sales}
    if not chosen:
        return "TikTok recommended no category: map them with `bridge map rule`"
    common = Counter(chosen.values()).most_common(1)[0][0]
    set_rule(shop.id, "all", "*", common, "", attrs[common], -1)
    with db.session() as s:
        for pid, cid in chosen.items():
            if cid != common:
                s.add(ProductMapping(channel_store_id=shop.id, source_product_id=pid, category_id=cid,
                                     attributes=attrs[cid]))
    others = sum(1 for c in chosen.values() if c != common)
    return f"rule: every product -> category {common}; {others} per-product choice(s) from recommendations"


def run_demo(*, platform: str = "shopify", products: int = 50, data_dir: str | None = None,
             serve: bool = False, port: int = 0) -> None:
    from bridge.models import Tracking
    from bridge.plugins import get_manager
    from bridge.sandboxing import SandboxServer

    with ExitStack() as stack:
        where = _isolate(data_dir, stack)
        pm = get_manager()
        for name in (platform, CHANNEL):
            pm.platform_plugin(name)  # a clear error when the plugin is missing
        if pm.info(platform).kind != "ecommerce":
            raise Misconfigured(f"--platform {platform} is not an eCommerce platform")
        step = Step()
        if not logging.getLogger().isEnabledFor(logging.INFO):
            logging.getLogger("bridge.journal").setLevel(logging.ERROR)  # the summary says it
        click.echo(f"bridge demo: {pm.info(platform).display_name} + TikTok Shop (state in {where})", err=True)
        eco_sb = pm.call(platform, "sandbox", options={"seed": 0})
        tt_sb = pm.call(CHANNEL, "sandbox", options={})
        eco_srv = stack.enter_context(SandboxServer(eco_sb.app))
        tt_srv = stack.enter_context(SandboxServer(tt_sb.app))
        step("start sandboxes", lambda: f"{platform} at {eco_srv.url}, tiktokshop at {tt_srv.url}")
        ids = eco_sb.seed_catalog(products, 3, seed=7)
        _app_settings(platform, eco_sb, eco_srv.url)
        _app_settings(CHANNEL, tt_sb, tt_srv.url)

        from bridge import stores

        org = stores.create_org("Demo")

        def connect() -> str:
            eco = stores.connect_store(org.id, platform, eco_sb.base_url_setting(eco_srv.url),  # type: ignore[arg-type]
                                       eco_sb.credentials(), pm)
            shop = stores.connect_store(org.id, CHANNEL, tt_sb.base_url_setting(tt_srv.url),  # type: ignore[arg-type]
                                        tt_sb.credentials(), pm)
            state["shop"] = shop
            return f"'{eco.name}' ({eco.currency}) and '{shop.name}' ({shop.region}, {shop.currency})"

        state: dict[str, Any] = {}
        step("connect both stores", connect)
        shop = state["shop"]
        step("seed catalog", lambda: f"{len(ids)} products")
        step("map categories", lambda: map_categories(org.id, shop, pm))  # type: ignore[arg-type]

        from bridge.scheduler import Scheduler, trigger

        sched = Scheduler(workers=4, pm=pm, tick=0.1)
        daemon = threading.Thread(target=sched.run_forever, name="bridge-demo-daemon", daemon=True)
        daemon.start()
        stack.callback(lambda: (sched.stop(), daemon.join(timeout=30)))
        shop_id = tt_sb.shops()[0]["id"]

        def listed() -> str:
            run = wait_for(lambda: _finished_run("products", org.id), "a complete products run", 300)
            n = len(tt_sb.products(shop_id))
            failed = run.counts.get("failed", 0)
            if not n:
                raise Misconfigured(f"demo: no product was listed ({failed} failed): see `bridge log --level error`")
            return f"{n} products listed on TikTok Shop" + (f", {failed} refused (see `bridge log`)" if failed else "")

        step("products -> listings", listed)
        sku = _first_sku(tt_sb, shop_id)

        def inventory() -> str:
            eco_sb.set_quantity(sku, 42)
            trigger("inventory", org.id)  # type: ignore[arg-type]
            wait_for(lambda: _tiktok_qty(tt_sb, shop_id, sku) == 42, "the new quantity on TikTok Shop")
            return f"{sku}: 42 in the store -> 42 on TikTok Shop"

        step("inventory change", inventory)

        def order() -> str:
            state["tt_order"] = tt_sb.create_order(shop_id, [(sku, 2)])
            trigger("orders", org.id)  # type: ignore[arg-type]
            eo = wait_for(lambda: next((o for o in eco_sb.orders() if o.source_order_id == state["tt_order"]),
                                       None), "the order in the store")
            state["eco_order"] = eo
            return f"TikTok order {state['tt_order']} -> {platform} order {eo.number or eo.remote_id}"

        step("TikTok order -> store", order)

        def tracking() -> str:
            number = "RM123456785GB"
            eco_sb.fulfill_order(state["eco_order"].remote_id, Tracking(number=number, carrier="Royal Mail"))
            trigger("tracking", org.id)  # type: ignore[arg-type]
            wait_for(lambda: number in str(tt_sb.order(state["tt_order"])), "the tracking number on TikTok")
            return f"{number} (Royal Mail) pushed to TikTok order {state['tt_order']}"

        step("fulfilment -> tracking", tracking)

        def refund() -> str:
            rid = tt_sb.create_return(state["tt_order"], [(sku, 1)], return_type="RETURN_AND_REFUND",
                                      status="RETURN_OR_REFUND_REQUEST_COMPLETE")
            trigger("refunds", org.id)  # type: ignore[arg-type]
            eo = state["eco_order"]
            made = wait_for(lambda: eco_sb.refunds(eo.remote_id), "the refund on the store order")
            return (f"TikTok return {rid} (1 x {sku}, item back) -> refund of {made[0]['amount']} "
                    f"{eo.currency} recorded on {platform} order {eo.number or eo.remote_id}, restocked")

        step("TikTok return -> store refund", refund)
        _summary(step.rows, eco_sb, tt_sb)
        if serve:
            _serve(sched, port)


def _finished_run(flow: str, org_id: int) -> Any:
    from sqlmodel import col, select

    from bridge import db
    from bridge.statuses import RunStatus
    from bridge.tables import SyncRun

    with db.session() as s:
        return s.exec(select(SyncRun).where(SyncRun.flow == flow, SyncRun.org_id == org_id,
                                            col(SyncRun.status).in_((RunStatus.OK, RunStatus.PARTIAL))).order_by(col(SyncRun.id))).first()


def _first_sku(tt_sb: Any, shop_id: str) -> str:
    return tt_sb.products(shop_id)[0]["skus"][0]["seller_sku"]


def _tiktok_qty(tt_sb: Any, shop_id: str, sku: str) -> int | None:
    for p in tt_sb.products(shop_id):
        for s in p["skus"]:
            if s["seller_sku"] == sku:
                return s["quantity"]
    return None


def _summary(rows: list[dict[str, str]], eco_sb: Any, tt_sb: Any) -> None:
    from bridge.cli.output import emit

    click.echo("")
    emit(rows, ["step", "result", "seconds"], False)
    e, t = eco_sb.stats.snapshot(), tt_sb.stats.snapshot()
    click.echo(f"\nrequests: store {e['total']} ({e['writes']} writes), TikTok Shop {t['total']} "
               f"({t['writes']} writes, {t['throttled']} rate-limited)")


def _serve(sched: Any, port: int) -> None:
    import uvicorn

    from bridge.sandboxing import free_port
    from bridge.web.app import create_app

    port = port or free_port()
    click.echo(f"\nadmin pages at http://127.0.0.1:{port}/ — Ctrl-C to stop", err=True)
    uvicorn.Server(uvicorn.Config(create_app(scheduler=sched), host="127.0.0.1", port=port,
                                  log_level="warning")).run()

"""A small world run through the flows while the sandboxes fail at a rate, then checked for
convergence in the sandboxes' own state (shared by the reliability tests and the benchmark).

:func:`run_session` seeds a catalog, puts both sandboxes behind a
:class:`~bridge.sandboxing.chaos.ChaosPlan`, and runs each flow as a user would — again after
each failed run — until it has done its work: products listed, orders created, tracking pushed,
stock in step. Then the faults stop, each flow runs once more, and :func:`check` compares the
platforms: duplicates (a TikTok order made twice in the store, a product listed twice, a tracking
number on two packages), lost items (an order never made, a tracking number never pushed) and
mismatched quantities (what the store has against what TikTok reports, for every SKU).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from bridge import db, stores
from bridge.errors import BridgeError
from bridge.models import Tracking
from bridge.plugins import PluginManager
from bridge.sandboxing.chaos import CHANNEL_MIX, DEFAULT_MIX, ChaosPlan, chaotic_sandbox
from bridge.statuses import OrderStatus
from bridge.sync import run_flow
from bridge.sync.options import shop_options
from bridge.sync.orders.apply import lookup_lag
from bridge.sync.pricing import compute_quantity
from bridge.tables import OrderLink, Store
from tests.e2e.harness import Harness

FLOWS = ("products", "inventory", "orders", "tracking")


@dataclass
class Figures:
    """What one session measured."""

    platform: str
    runs: dict[str, int] = field(default_factory=dict)
    """Runs each flow needed under faults until its work was done."""
    failed_runs: int = 0
    retries: int = 0
    """Requests the HTTP layer sent again (reads and idempotent writes)."""
    faults: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0
    lost: int = 0
    mismatched: int = 0
    missing_tracking: int = 0
    wall: float = 0.0
    problems: list[str] = field(default_factory=list)


class World:
    """Both sandboxes behind chaos plans, connected, with a small catalog mapped."""

    def __init__(self, platform: str, stack: ExitStack, setenv: Callable[[str, str], None], pm: PluginManager,
                 *, rate: float, seed: int, stall_ms: float, products: int, variants: int) -> None:
        self.eco_plan = ChaosPlan(rate, seed=seed, mix=DEFAULT_MIX, stall_ms=stall_ms)
        self.tt_plan = ChaosPlan(rate, seed=seed + 1, mix=CHANNEL_MIX, stall_ms=stall_ms)
        self.plans = [self.eco_plan, self.tt_plan]
        for plan in self.plans:
            plan.stop()
        plans = iter(self.plans)
        self.h = Harness(platform, stack, setenv, pm=pm, wrap=lambda sb: chaotic_sandbox(sb, next(plans)))
        self.h.eco.seed_catalog(products, variants, seed=seed or 1)
        self.h.map_everything()
        self.orders: list[str] = []
        self.tracking: dict[str, str] = {}

    def faults(self, on: bool) -> None:
        for plan in self.plans:
            plan.start() if on else plan.stop()

    def retries(self) -> int:
        total = 0
        for store in (self.h.eco_store, self.h.shop):
            conn = stores.connection_for(store, self.h.pm)
            total += sum(c.retries for c in conn._clients.values())
        return total

    def run(self, flow: str) -> Any | None:
        """One run; None when it failed as a whole."""
        try:
            return run_flow(flow, self.h.org_id, pm=self.h.pm)[0]
        except BridgeError:
            return None

    # ------------------------------------------------------------------ is the work done?

    def done(self, flow: str) -> bool:
        h = self.h
        if flow == "products":
            return len(h.tiktok_products()) >= self.listable
        if flow == "orders":  # made in the store and known to bridge as made (and maybe shipped since)
            with db.session() as s:
                made = {ln.channel_order_id for ln in s.exec(select(OrderLink))
                        if ln.status in (OrderStatus.CREATED, OrderStatus.SHIPPED)}
            return all(h.store_orders_for(o) and o in made for o in self.orders)
        if flow == "tracking":
            return all(self.tracking[o] in str(h.tt.order(o)) for o in self.tracking)
        if flow == "inventory":
            return not self.mismatches()
        return True

    def mismatches(self) -> list[str]:
        """SKUs whose TikTok quantity is not what the store's stock makes it (the shop's rules
        applied: an untracked variant gets the configured quantity)."""
        h = self.h
        try:
            levels = {lv.sku: lv for lv in h.pm.call(
                h.platform, "read_inventory", connection=stores.connection_for(h.eco_store, h.pm),
                variant_ids=None)}
        except BridgeError as exc:
            return [f"the store's stock could not be read: {exc}"]
        rules = shop_options(h.shop.options).inventory
        out = []
        for p in h.tiktok_products():
            for s in p["skus"]:
                lv = levels.get(s["seller_sku"])
                if lv is None:
                    out.append(f"{s['seller_sku']}: not in the store")
                    continue
                want, _ = compute_quantity(lv.quantity, lv.tracked, rules)
                if s["quantity"] != want:
                    out.append(f"{s['seller_sku']}: store {lv.quantity} ({'tracked' if lv.tracked else 'untracked'}) "
                               f"-> {want}, TikTok {s['quantity']}")
        return out

    def until_done(self, flow: str, fig: Figures, max_runs: int) -> None:
        runs = 0
        while runs < max_runs:
            runs += 1
            result = self.run(flow)
            if result is None:
                fig.failed_runs += 1
                time.sleep(0.2)
                continue
            if result.counts.get("unconfirmed"):
                time.sleep(0.5)  # as a daemon's next run would come later
            if self.done(flow):
                break
        fig.runs[flow] = fig.runs.get(flow, 0) + runs


def run_session(platform: str, stack: ExitStack, setenv: Callable[[str, str], None], pm: PluginManager, *,
                rate: float = 0.2, seed: int = 7, stall_ms: float = 300.0, products: int = 3,
                variants: int = 2, orders: int = 4, max_runs: int = 25) -> Figures:
    """The session described in the module docstring; returns its figures."""
    started = time.monotonic()
    w = World(platform, stack, setenv, pm, rate=rate, seed=seed, stall_ms=stall_ms, products=products,
              variants=variants)
    w.listable = products
    fig = Figures(platform)
    h = w.h
    w.faults(True)
    w.until_done("products", fig, max_runs)
    skus = [p["skus"][0]["seller_sku"] for p in h.tiktok_products()]
    w.orders = [h.tt.create_order(h.shop_remote, [(skus[i % len(skus)], 1 + i % 2)]) for i in range(orders)]
    w.until_done("orders", fig, max_runs)
    for n, o in enumerate(w.orders):
        made = h.store_orders_for(o)
        if made:
            w.tracking[o] = f"RM{seed:02d}{n:04d}GB"
            h.eco.fulfill_order(made[0].remote_id, Tracking(number=w.tracking[o], carrier="Royal Mail"))
    w.until_done("tracking", fig, max_runs)
    for n, sku in enumerate(skus):  # the merchant changes stock
        h.eco.set_quantity(sku, 20 + n)
    w.until_done("inventory", fig, max_runs)
    fig.faults = dict(w.eco_plan.drawn + w.tt_plan.drawn)

    w.faults(False)  # faults stop: one more pass of each flow
    with_lag = _lag(h)
    if with_lag:
        time.sleep(with_lag)
    for flow in FLOWS:
        if w.run(flow) is None:
            fig.problems.append(f"{flow}: the pass after the faults failed")
    fig.retries = w.retries()
    check(w, fig)
    fig.wall = time.monotonic() - started
    return fig


def _lag(h: Harness) -> float:
    with db.session() as s:
        store = s.get(Store, h.eco_store.id)
    assert store is not None
    return lookup_lag(type("Ctx", (), {"pm": h.pm})(), store)


def check(w: World, fig: Figures) -> None:
    """Count duplicates, lost items, mismatched quantities and missing tracking."""
    h = w.h
    for o in w.orders:
        made = len(h.store_orders_for(o))
        if made > 1:
            fig.duplicates += made - 1
            fig.problems.append(f"TikTok order {o}: {made} store orders")
        elif made == 0:
            fig.lost += 1
            fig.problems.append(f"TikTok order {o}: no store order")
    seller_skus = [s["seller_sku"] for p in h.tiktok_products() for s in p["skus"]]
    extra = len(seller_skus) - len(set(seller_skus))
    if extra:
        fig.duplicates += extra
        fig.problems.append(f"{extra} seller SKU(s) listed twice on TikTok")
    if len(h.tiktok_products()) < w.listable:
        fig.lost += w.listable - len(h.tiktok_products())
        fig.problems.append("products not listed")
    for o, number in w.tracking.items():
        carrying = sum(p["tracking_number"] == number for p in h.tt.order(o)["packages"])
        if carrying == 0:
            fig.missing_tracking += 1
            fig.problems.append(f"TikTok order {o}: tracking {number} missing")
        elif carrying > 1:
            fig.duplicates += carrying - 1
            fig.problems.append(f"TikTok order {o}: tracking {number} on {carrying} packages")
    mism = w.mismatches()
    fig.mismatched = len(mism)
    fig.problems.extend(mism)

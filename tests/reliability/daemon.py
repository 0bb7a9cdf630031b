"""The daemon under faults: the small world of :mod:`tests.reliability.world` served to a real
``bridge run`` process (shared by the reliability test and the benchmark's ``--daemon`` mode).

:func:`run_daemon_session` seeds the catalog, puts both sandboxes behind their chaos plans, starts
``bridge run`` with short flow intervals and, while it runs, makes the merchant's and the buyers'
changes at the sandboxes: new orders on TikTok once the products are listed, then fulfilments
with tracking numbers and stock changes in the store, each waited for (bounded) until the daemon
has carried it across despite the faults. Then the faults stop, the daemon is left to converge
and to make one more pass of each flow (a late duplicate would show), SIGTERM stops it, and
:func:`~tests.reliability.world.check` counts duplicates, lost items, mismatched quantities and
missing tracking in the sandboxes' own state; bridge's own records are checked too (every order
link done, every tracking push recorded as pushed, none falsely held).

The daemon's progress is read from the sandboxes' state in this process (Python calls, no HTTP,
so no fault is drawn for them); the stock comparison reads the store over HTTP and runs only
once the faults are off.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlmodel import select

from bridge import db
from bridge.models import Tracking
from bridge.plugins import PluginManager
from bridge.sandboxing import free_port
from bridge.statuses import PushStatus, RunStatus
from bridge.sync.orders.actions import DONE
from bridge.tables import OrderLink, SyncRun, TrackingPushRecord
from tests.e2e.harness import CHANNEL, start_daemon, stop_daemon
from tests.reliability.world import FLOWS, Figures, World, check
from tests.waiting import wait_for

#: Every flow the daemon schedules (their intervals are set short).
SCHEDULED = ("products", "listings", "inventory", "orders", "tracking", "refunds")


@dataclass
class DaemonFigures(Figures):
    """A daemon session's figures: :class:`Figures`, and how the daemon ended."""

    exit_status: int | None = None
    stopped_cleanly: bool = False
    """``bridge stopped`` printed after SIGTERM."""
    converged_after: float = 0.0
    """Seconds from the faults' end until the platforms were in the fault-free state."""
    steps: dict[str, float] = field(default_factory=dict)
    """Seconds from the session's start until each awaited step was done."""


def run_daemon_session(platform: str, stack: ExitStack, setenv: Callable[[str, str], None], pm: PluginManager,
                       log: Path, *, rate: float = 0.2, seed: int = 7, stall_ms: float = 300.0,
                       products: int = 3, variants: int = 2, orders: int = 4, interval: int = 1,
                       timeout: float = 60.0) -> DaemonFigures:
    """The session described in the module docstring; ``timeout`` bounds each wait (an
    AssertionError names the step that did not happen). The daemon's output is in ``log``."""
    started = time.monotonic()
    w = World(platform, stack, setenv, pm, rate=rate, seed=seed, stall_ms=stall_ms, products=products,
              variants=variants)
    w.listable = products
    fig = DaemonFigures(platform)
    h = w.h
    for flow in SCHEDULED:
        setenv(f"BRIDGE_INTERVAL_{flow.upper()}", str(interval))
    port = free_port()
    w.faults(True)
    daemon = start_daemon(stack, log, "--port", str(port), env={"BRIDGE_PLUGINS": f"{platform},{CHANNEL}"})

    def waiting(what: str, done: Callable[[], object]) -> None:
        def still_running() -> object:
            if daemon.poll() is not None:
                raise AssertionError(f"bridge run exited ({daemon.returncode}) while waiting for {what}: "
                                     + log.read_text()[-2000:])
            return done()
        try:
            wait_for(what, still_running, timeout=timeout, every=0.1)
            fig.steps[what] = time.monotonic() - started
        except AssertionError as exc:
            undone = [flow for flow in FLOWS if not w.done(flow)]
            raise AssertionError(f"{exc}; work not done: {undone} {w.mismatches() if 'inventory' in undone else ''}; "
                                 f"bridge run's output: {log.read_text()[-3000:]}") from None

    waiting("the products listed on TikTok", lambda: w.done("products"))
    skus = [p["skus"][0]["seller_sku"] for p in h.tiktok_products()]
    w.orders = [h.tt.create_order(h.shop_remote, [(skus[i % len(skus)], 1 + i % 2)]) for i in range(orders)]
    waiting("the TikTok orders in the store", lambda: all(h.store_orders_for(o) for o in w.orders))
    for n, o in enumerate(w.orders):  # the merchant ships them and changes stock
        w.tracking[o] = f"RD{seed:02d}{n:04d}GB"
        h.eco.fulfill_order(h.store_orders_for(o)[0].remote_id, Tracking(number=w.tracking[o], carrier="Royal Mail"))
    for n, sku in enumerate(skus):
        h.eco.set_quantity(sku, 30 + n)
    waiting("the tracking numbers on TikTok", lambda: w.done("tracking"))
    fig.faults = dict(w.eco_plan.drawn + w.tt_plan.drawn)

    w.faults(False)
    calm = time.monotonic()
    waiting("the fault-free state", lambda: all(w.done(flow) for flow in FLOWS))
    fig.converged_after = time.monotonic() - calm
    last = _last_run_id()  # one more pass of each flow changes nothing (no late duplicate)
    waiting("one more pass of each flow", lambda: _passed_since(last))
    fig.retries = _retries(port)
    fig.exit_status = stop_daemon(daemon)
    fig.stopped_cleanly = "bridge stopped" in log.read_text()
    fig.wall = time.monotonic() - started
    _runs(fig)
    _bookkeeping(fig)
    check(w, fig)
    return fig


def _retries(port: int) -> int:
    """Requests the daemon's HTTP layer sent again (``bridge_api_retries_total``, every platform)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return int(sum(float(v) for v in re.findall(r"^bridge_api_retries_total\{[^}]*\} (\S+)$", text, re.M)))


def _last_run_id() -> int:
    with db.session() as s:
        return max((r.id or 0 for r in s.exec(select(SyncRun))), default=0)


def _passed_since(run_id: int) -> bool:
    """Every flow of :data:`FLOWS` has finished a run (not failed) begun after run ``run_id``."""
    with db.session() as s:
        passed = {r.flow for r in s.exec(select(SyncRun).where(SyncRun.id > run_id))  # type: ignore[operator]
                  if r.status in (RunStatus.OK, RunStatus.PARTIAL)}
    return passed >= set(FLOWS)


def _bookkeeping(fig: DaemonFigures) -> None:
    """bridge's own records agree with the platforms: every order link done, every tracking
    push recorded as pushed (a false hold would never be retried)."""
    with db.session() as s:
        for ln in s.exec(select(OrderLink)):
            if ln.status not in DONE:
                fig.problems.append(f"order link {ln.channel_order_id}: {ln.status} ({ln.message})")
        for rec in s.exec(select(TrackingPushRecord)):
            if rec.status != PushStatus.PUSHED:
                fig.problems.append(f"tracking {rec.tracking_number}: {rec.status} ({rec.message})")


def _runs(fig: DaemonFigures) -> None:
    """The daemon's runs per flow, and those that failed as a whole, from bridge's database."""
    db.reset_engines()
    with db.session() as s:
        for run in s.exec(select(SyncRun)):
            fig.runs[run.flow] = fig.runs.get(run.flow, 0) + 1
            fig.failed_runs += run.status == RunStatus.FAILED

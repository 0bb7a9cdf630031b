"""Flow registry, the context a flow runs in, and the run record."""

from __future__ import annotations

import importlib
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import select

from bridge import config, db, journal, metrics
from bridge.errors import BridgeError, Misconfigured, NeedsReconnect, Rejected
from bridge.plugins import PluginManager, get_manager
from bridge.rules import active_stores
from bridge.stores import connection_for
from bridge.tables import ItemError, Store, SyncCursor, SyncRun, utcnow

log = logging.getLogger("bridge.sync")


@dataclass(frozen=True)
class FlowSpec:
    name: str
    fn: Callable[[FlowContext], None]
    interval_key: str
    """Config key of the default interval, e.g. ``interval.orders``."""
    per_channel: bool = True
    """True: one job per (eCommerce store, channel store) pair; False: one per organization."""
    description: str = ""


FLOWS: dict[str, FlowSpec] = {}
#: Modules that register the built-in flows when imported.
BUILTIN_FLOW_MODULES = ("bridge.sync.products", "bridge.sync.review", "bridge.sync.inventory",
                        "bridge.sync.orders", "bridge.sync.tracking", "bridge.sync.refunds")


def register_flow(name: str, fn: Callable[[FlowContext], None], *, interval_key: str,
                  per_channel: bool = True, description: str = "") -> None:
    FLOWS[name] = FlowSpec(name, fn, interval_key, per_channel, description)


def load_builtin_flows() -> dict[str, FlowSpec]:
    for mod in BUILTIN_FLOW_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as exc:
            if exc.name != mod:
                raise
    return FLOWS


@dataclass
class RunResult:
    run_id: int | None
    flow: str
    status: str
    counts: dict[str, int]
    errors: list[tuple[str, str]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class FlowContext:
    """What a flow works with: the organization's stores, the plugins, the run's bookkeeping."""

    flow: str
    org_id: int
    ecommerce: Store | None
    channel: Store | None
    pm: PluginManager
    dry_run: bool = False
    items: list[str] | None = None
    """Limit the flow to these source ids (webhook-triggered runs)."""
    run_id: int | None = None
    counts: Counter = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)
    plan: list[dict[str, Any]] = field(default_factory=list)
    progress: Callable[[int], None] | None = None

    def call(self, store: Store, operation: str, **kwargs: Any) -> Any:
        """Call a platform operation for ``store`` with its connection.

        A :class:`NeedsReconnect` is tagged with the store it came from (``store_id``)."""
        try:
            return self.pm.call(store.platform, operation,
                                connection=connection_for(store, self.pm), **kwargs)
        except NeedsReconnect as exc:
            exc.store_id = store.id  # type: ignore[attr-defined]
            raise

    def stopping(self) -> bool:
        """True when the daemon is shutting down: finish the current item, checkpoint, return."""
        from bridge.scheduler import stopping

        return stopping.is_set()

    def has(self, store: Store, operation: str) -> bool:
        return self.pm.has(store.platform, operation)

    def decide(self, action: str, item: str, **details: Any) -> None:
        """Record a decision: in the plan (dry run) and in the journal."""
        entry = {"action": action, "item": item, **details}
        if self.dry_run:  # a sync keeps its decisions in the journal only (memory stays flat)
            self.plan.append(entry)
        self.counts[f"plan.{action}"] += 0  # keeps the key visible in counts
        journal.record(f"{self.flow}.{action}" + (".planned" if self.dry_run else ""),
                       details.get("why", ""), org_id=self.org_id,
                       store_id=self.channel.id if self.channel else None,
                       flow=self.flow, item=item, data=details)

    def count(self, what: str, n: int = 1) -> None:
        self.counts[what] += n
        if what in ("created", "updated", "pushed", "deactivated", "cancelled"):
            metrics.inc("bridge_items_synced_total", n, flow=self.flow)
        if self.progress:
            self.progress(n)

    def fail(self, item: str, err: BaseException) -> None:
        """Record one item's failure; the flow goes on with the others."""
        code = getattr(err, "code", None)
        msg = str(err)
        self.errors.append((item, msg))
        self.counts["failed"] += 1
        metrics.inc("bridge_errors_total", flow=self.flow, kind=type(err).__name__)
        if self.run_id is not None:
            with db.session() as s:
                s.add(ItemError(run_id=self.run_id, item=item, code=code, message=msg))
        journal.record(f"{self.flow}.failed", msg, org_id=self.org_id,
                       store_id=self.channel.id if self.channel else None, flow=self.flow,
                       item=item, level="error", data={"code": code})

    # cursors ---------------------------------------------------------------------------

    def cursor(self, store: Store, name: str | None = None) -> str | None:
        with db.session() as s:
            row = s.get(SyncCursor, (store.id, name or self.flow))
            return row.value if row else None

    def save_cursor(self, store: Store, value: str | None, name: str | None = None) -> None:
        if self.dry_run:
            return
        with db.session() as s:
            row = s.get(SyncCursor, (store.id, name or self.flow))
            if row is None:
                row = SyncCursor(store_id=store.id, flow=name or self.flow)  # type: ignore[arg-type]
            row.value = value
            row.updated_at = utcnow()
            s.add(row)


def _stores(org_id: int, channel_store_id: int | None) -> tuple[Store | None, list[Store]]:
    with db.session() as s:
        ecommerce = next(iter(active_stores(s, org_id, "ecommerce")), None)
        channels = active_stores(s, org_id, "channel")
    if channel_store_id is not None:
        channels = [c for c in channels if c.id == channel_store_id]
    return ecommerce, channels


def run_flow(flow: str, org_id: int, channel_store_id: int | None = None, *, dry_run: bool = False,
             items: list[str] | None = None, pm: PluginManager | None = None,
             progress: Callable[[int], None] | None = None) -> list[RunResult]:
    """Run ``flow`` for an organization (each channel store, or the one given).

    Platform errors other than :class:`Rejected` (which the flow records per item) propagate to
    the caller (the scheduler decides retry and backoff).
    """
    load_builtin_flows()
    if flow not in FLOWS:
        raise Misconfigured(f"unknown flow '{flow}': choose one of {', '.join(sorted(FLOWS))}")
    spec = FLOWS[flow]
    pm = pm or get_manager()
    ecommerce, channels = _stores(org_id, channel_store_id)
    if ecommerce is None or not channels:
        raise Misconfigured(
            "the organization needs an eCommerce store and at least one TikTok shop connected "
            "(`bridge stores`)"
        )
    targets: list[Store | None] = list(channels) if spec.per_channel else [None]
    results = []
    for channel in targets:
        ctx = FlowContext(flow=flow, org_id=org_id, ecommerce=ecommerce, channel=channel, pm=pm,
                          dry_run=dry_run, items=items, progress=progress)
        with db.session() as s:
            run = SyncRun(flow=flow, org_id=org_id, store_id=ecommerce.id,
                          channel_store_id=channel.id if channel else None, dry_run=dry_run)
            s.add(run)
            s.flush()
            ctx.run_id = run.id
        status, error = "ok", None
        try:
            spec.fn(ctx)
            if ctx.errors:
                status = "partial"
        except BridgeError as exc:
            status, error = "failed", str(exc)
            raise
        except Exception as exc:
            status, error = "failed", f"{type(exc).__name__}: {exc}"
            raise
        finally:
            with db.session() as s:
                run = s.get(SyncRun, ctx.run_id)
                if run is not None:
                    run.status = status
                    run.error = error
                    run.counts = dict(ctx.counts)
                    run.finished_at = utcnow()
                    s.add(run)
            metrics.inc("bridge_jobs_total", flow=flow, outcome=status)
        results.append(RunResult(ctx.run_id, flow, status, dict(ctx.counts), ctx.errors, ctx.plan))
    return results


def jobs_for_org(org_id: int) -> list[tuple[str, str, int | None, int]]:
    """(job key, flow, channel store id, interval seconds) for every flow of an organization."""
    load_builtin_flows()
    out = []
    with db.session() as s:
        ecommerce = next(iter(active_stores(s, org_id, "ecommerce")), None)
        channels = active_stores(s, org_id, "channel")
    if ecommerce is None:
        return out
    for spec in FLOWS.values():
        interval = config.get_int(spec.interval_key, 60)
        if spec.per_channel:
            for ch in channels:
                opts = (ch.options or {}).get("flows", {})
                if opts.get(spec.name, {}).get("enabled", True) is False:
                    continue
                interval_ch = int(opts.get(spec.name, {}).get("interval", interval))
                out.append((f"{spec.name}:{org_id}:{ch.id}", spec.name, ch.id, interval_ch))
        elif channels:
            out.append((f"{spec.name}:{org_id}", spec.name, None, interval))
    return out


def stores_of_org(org_id: int) -> list[Store]:
    with db.session() as s:
        return list(s.exec(select(Store).where(Store.org_id == org_id)))


def reject_message(err: Rejected) -> str:
    return str(err)

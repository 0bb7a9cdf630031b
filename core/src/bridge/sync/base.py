"""Flow registry, the context a flow runs in, the two sinks (plan and sync), the run record.

A flow reads and decides; what it decided goes to the context's *sink* as typed actions
(:mod:`bridge.sync.actions`):

* :class:`PlanSink` (``bridge plan``) keeps the actions to print. It holds nothing that writes:
  no platform writer, no database session, no journal — a plan writes nothing by construction.
* :class:`SyncSink` (a sync) journals each action and hands it to the flow's
  :class:`~bridge.sync.actions.Applier`, the one writer of the flow; it also keeps cursors
  (checkpoints) and records item failures of the run.

Both count ``plan.<kind>`` from the actions, so the plan and the sync report the same decisions.
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import bindparam, insert, update
from sqlmodel import col, select

from bridge import config, db, journal, liveness, metrics
from bridge.errors import BridgeError, Misconfigured
from bridge.facade import StoreReader, StoreWriter
from bridge.plugins import PluginManager, get_manager
from bridge.rules import active_stores
from bridge.shutdown import stopping
from bridge.statuses import RunStatus, StoreStatus
from bridge.sync.actions import Action, Applier
from bridge.tables import ItemError, Store, SyncCursor, SyncRun, utcnow

log = logging.getLogger("bridge.sync")

FlowFn = Callable[["FlowContext"], None]
ApplierFactory = Callable[["FlowContext", "SyncSink"], Applier]
PagesFn = Callable[["FlowContext"], "Split | None"]


@dataclass
class Split:
    """A full pass cut into pages that any worker handles (scale-out, :mod:`bridge.celery_app`).

    ``pages`` reads the source once, page by page: each page is JSON (a task's argument) with
    its ``items`` (the source ids) and whatever the flow needs to handle the page without reading
    it again. Once they are all read, ``end()`` is what the finishing run needs (JSON, e.g. the
    cursor to keep)."""

    pages: Iterator[dict[str, Any]]
    end: Callable[[], dict[str, Any]]


class Seen(Protocol):
    """The ids a split's pages showed (:class:`bridge.sync.links.SeenSet` or one in Redis)."""

    def add_many(self, ids: Iterable[str]) -> None: ...

    def missing(self, ids: list[str]) -> list[str]: ...


@dataclass
class Finishing:
    """What the run after a split's pages gets: it handles no page again, it only finishes."""

    end: dict[str, Any]
    """:attr:`Split.end` of the split."""
    seen: Seen
    """Every item the pages showed."""
    failed: list[str] = field(default_factory=list)
    """Items of pages that did not complete (a page task gave up): the finishing run does them."""


@dataclass(frozen=True)
class FlowSpec:
    name: str
    fn: FlowFn
    """Reads and decides; hands its actions to ``ctx.act`` (writes nothing itself)."""
    interval_key: str
    """Config key of the default interval, e.g. ``interval.orders``."""
    per_channel: bool = True
    """True: one job per (eCommerce store, channel store) pair; False: one per organization."""
    description: str = ""
    applier: ApplierFactory | None = None
    """Builds the flow's writer of actions (None: the flow decides no action)."""
    pages: PagesFn | None = None
    """Reads only: the next run as a :class:`Split` when it is a full pass worth sharing between
    workers, else None. Each page then runs as the flow with ``ctx.page`` set (it handles that
    page as read, reading it no second time); after the last one, a run with
    ``ctx.finishing`` set does only what follows a pass (scale-out, :mod:`bridge.celery_app`)."""


FLOWS: dict[str, FlowSpec] = {}
#: Modules that register the built-in flows when imported.
BUILTIN_FLOW_MODULES = ("bridge.sync.products", "bridge.sync.review", "bridge.sync.inventory",
                        "bridge.sync.orders", "bridge.sync.tracking", "bridge.sync.refunds")


def register_flow(name: str, fn: FlowFn, *, interval_key: str, per_channel: bool = True,
                  description: str = "", applier: ApplierFactory | None = None,
                  pages: PagesFn | None = None) -> None:
    FLOWS[name] = FlowSpec(name, fn, interval_key, per_channel, description, applier, pages)


def load_builtin_flows() -> dict[str, FlowSpec]:
    for mod in BUILTIN_FLOW_MODULES:
        importlib.import_module(mod)
    return FLOWS


@dataclass
class RunResult:
    run_id: int | None
    flow: str
    status: str
    counts: dict[str, int]
    errors: list[tuple[str, str]] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    """The decided actions: always for a plan; for a sync only when asked (``keep_actions``)."""
    plan: list[dict[str, Any]] = field(default_factory=list)
    """The actions as ``bridge plan`` prints them (for a sync: as decided, before applying)."""


# ============================================================================ sinks


class PlanSink:
    """Where a plan's actions go: kept, never applied. Holds no way to write."""

    def __init__(self) -> None:
        self.actions: list[Action] = []

    def act(self, ctx: FlowContext, actions: Sequence[Action]) -> None:
        for action in actions:
            ctx.counts[f"plan.{action.kind}"] += 1
            self.actions.append(action)
            err = action.failure()
            if err is not None:
                self.fail(ctx, action.item, err)

    def fail(self, ctx: FlowContext, item: str, err: BaseException) -> None:
        ctx.errors.append((item, str(err)))
        ctx.counts["failed"] += 1

    def checkpoint(self, ctx: FlowContext, store: Store, value: str | None, name: str) -> None:
        """A plan moves no cursor."""


class SyncSink:
    """Where a sync's actions go: journalled, then written by the flow's applier."""

    def __init__(self, ctx: FlowContext, factory: ApplierFactory | None, *, keep: bool = False) -> None:
        self.keep = keep
        self.pm = ctx.pm
        self.actions: list[Action] = []
        self.rows: list[dict[str, Any]] = []
        self._writers: dict[int | None, StoreWriter] = {}
        self.applier = factory(ctx, self) if factory is not None else None

    def writer(self, store: Store) -> StoreWriter:
        """The typed writer of ``store`` (one per store and run)."""
        w = self._writers.get(store.id)
        if w is None:
            w = self._writers[store.id] = StoreWriter(self.pm, store)
        return w

    def act(self, ctx: FlowContext, actions: Sequence[Action]) -> None:
        if not actions:
            return
        if self.applier is None:
            raise TypeError(f"flow {ctx.flow} decided actions but registered no applier")
        for action in actions:
            ctx.counts[f"plan.{action.kind}"] += 1
        if self.keep:
            self.actions.extend(actions)
            self.rows.extend(a.row() for a in actions)
        self.applier.apply_all(actions)

    def journal(self, ctx: FlowContext, action: Action) -> None:
        """The journal entry of an action being applied (``<flow>.<kind>``)."""
        data = {k: v for k, v in action.row().items() if k not in ("action", "item")}
        journal.record(f"{ctx.flow}.{action.kind}", action.why, org_id=ctx.org_id,
                       store_id=ctx.channel.id if ctx.channel else None, flow=ctx.flow,
                       item=action.item, data=data)

    def journal_all(self, ctx: FlowContext, actions: Sequence[Action]) -> None:
        """The journal entries of a batch of actions about to be applied, in one statement."""
        store_id = ctx.channel.id if ctx.channel else None
        journal.record_many([
            journal.Entry(f"{ctx.flow}.{a.kind}", a.why, org_id=ctx.org_id, store_id=store_id, flow=ctx.flow,
                          item=a.item, data={k: v for k, v in a.row().items() if k not in ("action", "item")})
            for a in actions])

    def fail(self, ctx: FlowContext, item: str, err: BaseException) -> None:
        """Record one item's failure; the flow goes on with the others."""
        code = getattr(err, "code", None)
        msg = str(err)
        ctx.errors.append((item, msg))
        ctx.counts["failed"] += 1
        metrics.inc("bridge_errors_total", flow=ctx.flow, kind=type(err).__name__)
        metrics.inc("bridge_items_total", flow=ctx.flow, outcome="failed")
        if ctx.run_id is not None:
            with db.session() as s:
                s.add(ItemError(run_id=ctx.run_id, item=item, code=None if code is None else str(code),
                                message=msg))
        journal.record(f"{ctx.flow}.failed", msg, org_id=ctx.org_id,
                       store_id=ctx.channel.id if ctx.channel else None, flow=ctx.flow,
                       item=item, level="error", data={"code": code})

    def checkpoint(self, ctx: FlowContext, store: Store, value: str | None, name: str) -> None:
        """Keep a cursor, once the actions before it are applied (:meth:`Applier.when_written`:
        the flow goes on meanwhile where its applier writes in the background)."""
        store_id = store.id
        assert store_id is not None

        def save() -> None:
            # One statement: two workers checkpointing a new cursor at once must not both INSERT.
            db.upsert(SyncCursor, {"store_id": store_id, "flow": name, "value": value,
                                   "updated_at": utcnow()}, keys=("store_id", "flow"))

        if self.applier is None:
            save()
        else:
            self.applier.when_written(save)

    def finish(self) -> None:
        """Wait for every action to be written (re-raising the first error of one)."""
        if self.applier is not None:
            self.applier.drain()

    def close(self) -> None:
        if self.applier is not None:
            self.applier.close()


Sink = PlanSink | SyncSink

# ============================================================================ context


@dataclass
class FlowContext:
    """What a flow works with: the organization's stores, typed readers of the platforms, and
    the sink its decisions go to."""

    flow: str
    org_id: int
    ecommerce: Store | None
    channel: Store | None
    pm: PluginManager
    items: list[str] | None = None
    """Limit the flow to these source ids (webhook-triggered runs)."""
    page: dict[str, Any] | None = None
    """One page of a :class:`Split` to handle as given (scale-out page tasks)."""
    finishing: Finishing | None = None
    """After a split's pages: finish the pass (sweep, retries, cursor) without handling it again."""
    run_id: int | None = None
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[tuple[str, str]] = field(default_factory=list)
    progress: Callable[[int], None] | None = None
    sink: Sink = field(default_factory=PlanSink)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    transient_streak: int = 0
    """Items failed by transient errors one after another (reset by a success): a flow gives up
    the run once the platform looks down (:meth:`transient`)."""
    memo: dict[str, Any] = field(default_factory=dict, repr=False)
    """What a job's task read to find its position (:func:`flow_pages`), handed on to the run
    that follows in the same task (``run_flow(memo=...)``), which takes it instead of reading
    it again (each key is the flow's own)."""
    _stored: dict[tuple[int | None, str], str | None] = field(default_factory=dict, repr=False)
    """Cursors as :meth:`cursor` read them and no checkpoint has moved them since."""

    @property
    def planning(self) -> bool:
        """True for ``bridge plan`` (nothing will be applied)."""
        return isinstance(self.sink, PlanSink)

    def reader(self, store: Store) -> StoreReader:
        """The typed, read-only operations of ``store``."""
        return StoreReader(self.pm, store)

    def act(self, actions: Sequence[Action]) -> None:
        """Hand decided actions on: printed by a plan, applied by a sync."""
        self.sink.act(self, actions)

    def note(self, what: str, n: int = 1) -> None:
        """Count an item the flow decided to leave alone (``unchanged``, already ``held``)."""
        self.counts[what] += n

    def count(self, what: str, n: int = 1) -> None:
        """Count an applied outcome (``created``, ``updated``, ...); thread-safe."""
        with self._lock:
            self.counts[what] += n
        if what in ("created", "updated", "pushed", "deactivated", "cancelled"):
            metrics.inc("bridge_items_total", n, flow=self.flow, outcome="synced")
        if self.progress:
            self.progress(n)

    def fail(self, item: str, err: BaseException) -> None:
        """Record one item's failure; the flow goes on with the others (thread-safe)."""
        with self._lock:
            self.sink.fail(self, item, err)

    def stopping(self) -> bool:
        """True when the daemon is shutting down: finish the current item, checkpoint, return."""
        return stopping.is_set()

    def transient(self, item: str, err: BaseException, *, failed: bool = True, limit: int = 5) -> None:
        """An item's transient failure fails that item only (``failed``: recorded as failed;
        False for a write whose outcome is being confirmed); ``limit`` in a row re-raise ``err``
        so the scheduler backs off while the platform is down."""
        if failed:
            self.fail(item, err)
        with self._lock:
            self.transient_streak += 1
            streak = self.transient_streak
        if streak >= limit:
            raise err

    # cursors ---------------------------------------------------------------------------

    def cursor(self, store: Store, name: str | None = None) -> str | None:
        """The cursor ``name`` (default: the flow's) of ``store`` as stored."""
        key = (store.id, name or self.flow)
        with db.session() as s:
            row = s.get(SyncCursor, key)
            value = row.value if row else None
        self._stored[key] = value
        return value

    def cursor_known(self, store: Store, value: str | None, name: str | None = None) -> None:
        """Say the cursor ``name`` of ``store`` holds ``value``, as read for this task (a
        :attr:`memo`): :meth:`checkpoint` then writes it only when it moves."""
        self._stored[(store.id, name or self.flow)] = value

    def checkpoint(self, store: Store, value: str | None, name: str | None = None) -> None:
        """Move a cursor past what was handled (a plan moves none). A cursor this run read and
        has not moved since is not written again with the value it holds (a run that found
        nothing new writes nothing)."""
        key = (store.id, name or self.flow)
        if key in self._stored and self._stored[key] == value:
            return
        self._stored.pop(key, None)  # moved: every later checkpoint of it is written
        self.sink.checkpoint(self, store, value, name or self.flow)


#: :func:`org_stores`'s query (:func:`bridge.rules.active_stores`), built once.
_ORG_STORES = select(Store).where(col(Store.org_id) == bindparam("org_id"),
                                  col(Store.status) != StoreStatus.DISCONNECTED).order_by(col(Store.id))


def org_stores(org_id: int) -> list[Store]:
    """An organization's connected stores (every status but disconnected), ordered by id: one
    query, which a job's task reads once and hands to :func:`flow_pages`, :func:`run_flow` and
    the scheduler's outcome handling (``stores=``) instead of each reading them again."""
    with db.session() as s:
        return list(s.exec(_ORG_STORES, params={"org_id": org_id}))


def _stores(org_id: int, channel_store_id: int | None,
            stores: Sequence[Store] | None = None) -> tuple[Store | None, list[Store]]:
    """The organization's eCommerce store and its channel stores (the one given), from
    ``stores`` (:func:`org_stores`) when the caller has read them."""
    if stores is None:
        stores = org_stores(org_id)
    ecommerce = next((st for st in stores if st.kind == "ecommerce"), None)
    channels = [st for st in stores if st.kind == "channel"
                and (channel_store_id is None or st.id == channel_store_id)]
    return ecommerce, channels


def plan_flow(flow: str, org_id: int, channel_store_id: int | None = None, *,
              items: list[str] | None = None, pm: PluginManager | None = None) -> list[RunResult]:
    """What ``flow`` would do for an organization (each channel store, or the one given): the
    decide step alone. Writes nothing: no platform write, no state, no journal."""
    spec, pm, ecommerce, targets = _prepare(flow, org_id, channel_store_id, pm)
    results = []
    for channel in targets:
        sink = PlanSink()
        ctx = FlowContext(flow=flow, org_id=org_id, ecommerce=ecommerce, channel=channel, pm=pm,
                          items=items, sink=sink)
        spec.fn(ctx)
        status = RunStatus.PARTIAL if ctx.errors else RunStatus.OK
        results.append(RunResult(None, flow, status, dict(ctx.counts), ctx.errors, sink.actions,
                                 [a.row() for a in sink.actions]))
    return results


def flow_pages(flow: str, org_id: int, channel_store_id: int | None = None, *,
               pm: PluginManager | None = None, stores: Sequence[Store] | None = None,
               memo: dict[str, Any] | None = None) -> Split | None:
    """``flow``'s next run for one channel store as a :class:`Split` (:attr:`FlowSpec.pages`),
    or None when the flow does not split or its next run is short (incremental). Reads only
    (nothing at all for a flow that never splits); ``stores``: :func:`org_stores`, when read;
    ``memo``: kept for the run that follows (:attr:`FlowContext.memo`)."""
    load_builtin_flows()
    if flow in FLOWS and FLOWS[flow].pages is None:
        return None
    spec, pm, ecommerce, targets = _prepare(flow, org_id, channel_store_id, pm, stores)
    if spec.pages is None or len(targets) != 1:
        return None
    ctx = FlowContext(flow=flow, org_id=org_id, ecommerce=ecommerce, channel=targets[0], pm=pm,
                      memo=memo if memo is not None else {})
    return spec.pages(ctx)


def _prepare(flow: str, org_id: int, channel_store_id: int | None, pm: PluginManager | None,
             stores: Sequence[Store] | None = None) -> tuple[FlowSpec, PluginManager, Store, list[Store | None]]:
    load_builtin_flows()
    if flow not in FLOWS:
        raise Misconfigured(f"unknown flow '{flow}': choose one of {', '.join(sorted(FLOWS))}")
    spec = FLOWS[flow]
    ecommerce, channels = _stores(org_id, channel_store_id, stores)
    if ecommerce is None or not channels:
        raise Misconfigured(
            "the organization needs an eCommerce store and at least one TikTok shop connected "
            "(`bridge stores`)"
        )
    targets: list[Store | None] = list(channels) if spec.per_channel else [None]
    return spec, pm or get_manager(), ecommerce, targets


def run_flow(flow: str, org_id: int, channel_store_id: int | None = None, *, dry_run: bool = False,
             items: list[str] | None = None, pm: PluginManager | None = None,
             progress: Callable[[int], None] | None = None,
             keep_actions: bool = False, page: dict[str, Any] | None = None,
             finishing: Finishing | None = None, stores: Sequence[Store] | None = None,
             memo: dict[str, Any] | None = None) -> list[RunResult]:
    """Run ``flow`` for an organization (each channel store, or the one given): decide, then
    apply exactly the decided actions. ``dry_run``: :func:`plan_flow` (nothing applied).
    ``keep_actions``: return the applied actions too (tests; a sync keeps them in the journal).
    ``page``, ``finishing``: one page of a :class:`Split`, or the run after its pages.
    ``stores``: the organization's stores as :func:`org_stores` read them (else read here);
    ``memo``: what :func:`flow_pages` read for this run (:attr:`FlowContext.memo`).

    Platform errors other than :class:`Rejected` (which the flow records per item) propagate to
    the caller (the scheduler decides retry and backoff).
    """
    if dry_run:
        return plan_flow(flow, org_id, channel_store_id, items=items, pm=pm)
    spec, pm, ecommerce, targets = _prepare(flow, org_id, channel_store_id, pm, stores)
    results = []
    for channel in targets:
        ctx = FlowContext(flow=flow, org_id=org_id, ecommerce=ecommerce, channel=channel, pm=pm,
                          items=items, progress=progress, page=page, finishing=finishing,
                          memo=memo if memo is not None else {})
        ctx.run_id = _start_run(flow, org_id, ecommerce, channel)
        sink = SyncSink(ctx, spec.applier, keep=keep_actions)
        ctx.sink = sink
        status, error = RunStatus.OK, None
        try:
            spec.fn(ctx)
            sink.finish()
            if ctx.errors:
                status = RunStatus.PARTIAL
        except BridgeError as exc:
            status, error = RunStatus.FAILED, str(exc)
            raise
        except Exception as exc:
            status, error = RunStatus.FAILED, f"{type(exc).__name__}: {exc}"
            raise
        finally:
            sink.close()
            _finish_run(ctx, status, error)
            metrics.inc("bridge_runs_total", flow=flow, outcome=status)
        results.append(RunResult(ctx.run_id, flow, status, dict(ctx.counts), ctx.errors, sink.actions, sink.rows))
    return results


#: The run record's statements, built once (the values: the parameters' columns).
_RUN_STARTS = insert(SyncRun).returning(col(SyncRun.id))
_RUN_ENDS = update(SyncRun).where(col(SyncRun.id) == bindparam("run_id"))


def _start_run(flow: str, org_id: int, ecommerce: Store, channel: Store | None) -> int:
    """Record a run starting (``running``, owned by this process); its id. One INSERT ...
    RETURNING in a transaction of its own: the row is seen by others while the run goes on."""
    with db.get_engine().begin() as conn:
        return int(conn.execute(_RUN_STARTS, {
            "flow": flow, "org_id": org_id, "store_id": ecommerce.id,
            "channel_store_id": channel.id if channel else None, "dry_run": False,
            "status": RunStatus.RUNNING, "owner": liveness.identity(), "counts": {},
            "started_at": utcnow()}).scalar_one())  # type: ignore[arg-type]


def _finish_run(ctx: FlowContext, status: RunStatus, error: str | None) -> None:
    """Record a run's outcome (one UPDATE)."""
    with db.get_engine().begin() as conn:
        conn.execute(_RUN_ENDS, {"run_id": ctx.run_id, "status": status, "error": error,
                                 "counts": dict(ctx.counts), "finished_at": utcnow()})


def flow_intervals() -> dict[str, int]:
    """Each flow's configured interval in seconds (its ``interval.*`` setting, default 60)."""
    load_builtin_flows()
    return {spec.name: config.get_int(spec.interval_key, 60) for spec in FLOWS.values()}


def jobs_for_org(org_id: int) -> list[tuple[str, str, int | None, int]]:
    """(job key, flow, channel store id, interval seconds) for every flow of an organization."""
    with db.session() as s:
        stores = active_stores(s, org_id)
    return jobs_for_stores(org_id, stores)


def jobs_for_stores(org_id: int, stores: Sequence[Store],
                    intervals: dict[str, int] | None = None) -> list[tuple[str, str, int | None, int]]:
    """:func:`jobs_for_org` for an organization's connected stores ``stores`` (ordered by id),
    already read (rows with their id, kind and options are enough); ``intervals``: each flow's
    configured interval, when the caller read them once for many organizations."""
    load_builtin_flows()
    out: list[tuple[str, str, int | None, int]] = []
    ecommerce = next((st for st in stores if st.kind == "ecommerce"), None)
    channels = [st for st in stores if st.kind == "channel"]
    if ecommerce is None:
        return out
    for spec in FLOWS.values():
        interval = intervals[spec.name] if intervals is not None else config.get_int(spec.interval_key, 60)
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

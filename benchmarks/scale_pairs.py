#!/usr/bin/env python3
"""Many store pairs served by `bridge run --scheduler` and `bridge worker` processes; print the
figures (issue 20: scale-out on Celery).

    .venv/bin/python benchmarks/scale_pairs.py busy --pairs 200 --products 50 --workers 1,2
    .venv/bin/python benchmarks/scale_pairs.py idle --pairs 1000 --products 2 --window 60
    .venv/bin/python benchmarks/scale_pairs.py idle --pairs 200 --workers 1 --steady --idle-max 900 --window 180

Needs PostgreSQL, a broker and Redis (defaults: BRIDGE_TEST_DATABASE_URL, then
BRIDGE_TEST_REDIS_URL as both the broker and Redis; as `.ci/run` sets them). Each round has a
fresh database and Redis namespace. The eCommerce side is ``--pairs`` Shopify sandboxes, each a
shop of its own (its own myshopify.com domain, ``--products`` products), served together by one
process under ``/shop/N``; the TikTok side is one TikTok Shop sandbox process holding one local
seller and shop per pair (``--rate-limit`` requests per second per API per shop). Both add
``--latency-ms`` per request. Every pair is its own organization, connected and mapped as a
merchant would; then the workers start, and then the scheduler (``bridge run --scheduler
--no-web``), all as the real commands with the default intervals of every flow.

``busy``: for each worker count, the time from the scheduler's start until every pair's
products job has finished its first run (the initial sync of all pairs): listings per second,
flow runs per second, TikTok requests and rate-limit errors, and the CPU seconds of each
process (workers, scheduler, sandboxes) over that time, and per listing.

``--worker-cpu CORES`` holds each worker process to CORES of CPU (a cgroup of its own), as if each
worker had a machine of its own: on one small machine the platform sandboxes, PostgreSQL and Redis
share the cores with the workers, so without it a second worker mostly measures how much CPU the
sandboxes leave over, not how bridge scales (with w and s the workers' and everything else's CPU
per listing, 2 workers on 2 cores give at most 2w/(w+s) times 1 worker's throughput).

``idle``: once every job has run once (the initial work done, plus ``--settle`` seconds), the CPU seconds of the scheduler and of each worker over ``--window``
seconds in which nothing changes on any platform, as a share of one core; also the flow runs
and the requests to the platforms in that window. ``--webhooks``: a public URL is set (loopback,
which the sandboxes on loopback accept), so each store is subscribed at connect and its webhooks
are live: idle jobs then back off up to ``interval.idle_max`` (``--idle-max``); use a
``--settle`` past the ramp (60+120+240+480 s to reach 900 s) to measure the steady state.
Without it no webhook is registered and every job polls at its interval.

``--steady`` (implies ``--webhooks``): the idle back-off's steady state without waiting the
hours it takes. Once every job has run once, each job's row in the ``jobs`` table is set as
its idle runs would leave it at the cap: its idle count (``payload.idle``) the smallest that
stretches its wait to ``interval.idle_max`` (``--idle-max``; 0 for a flow whose interval is
already as long, products at 900 s), and its next run at a uniformly random moment within that
wait (a leased job is set once its run has ended). The jobs then run as they would after hours
of idling: each run finds nothing, counts one more idle run and waits the cap again, so a
window of a few minutes measures the steady rate of runs and their CPU. What it does not
simulate: the ramp to the cap (60, 120, 240, 480 s), the ``job.idle`` journal entry each job
writes on reaching it, and the phases the real history would give the jobs (here uniform).
The figures: runs per second, the workers' and the scheduler's CPU per run, and scheduler +
workers as a share of one core (also scaled linearly to 1,000 pairs).
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from queue import Empty
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.e2e.harness, benchmarks.*

from benchmarks.initial_sync import CHANNEL, Served  # noqa: E402
from benchmarks.scale_out import BRIDGE, _database, _drop  # noqa: E402
from bridge.plugins import PluginManager  # noqa: E402

ECOMMERCE = "shopify"
TICKS = os.sysconf("SC_CLK_TCK")


class _ManyStats:
    """The request statistics of several sandboxes as one (``snapshot`` sums them)."""

    def __init__(self, sandboxes: list[Any]) -> None:
        self.sandboxes = sandboxes

    def snapshot(self) -> dict[str, Any]:
        out: dict[str, Any] = {"total": 0, "writes": 0, "throttled": 0, "faulted": 0, "by_route": {}}
        for sb in self.sandboxes:
            snap = sb.stats.snapshot()
            for key in ("total", "writes", "throttled", "faulted"):
                out[key] += snap[key]
            for route, n in snap["by_route"].items():
                out["by_route"][route] = out["by_route"].get(route, 0) + n
        return out

    def reset(self) -> None:
        for sb in self.sandboxes:
            sb.stats.reset()


class ManyShops:
    """``count`` Shopify sandboxes, each a shop of its own, served as one ASGI app: shop ``i``
    under ``/shop/i``, any other path (the products' images) by the first (what
    :class:`benchmarks.initial_sync.Served` serves from one process)."""

    def __init__(self, pm: PluginManager, count: int, products: int, per_product: int) -> None:
        self.shops = [pm.call(ECOMMERCE, "sandbox", options={"seed": 0, "shop": f"bench-{i}.myshopify.com"})
                      for i in range(count)]
        for i, sb in enumerate(self.shops):
            if products:
                sb.seed_catalog(products, per_product, seed=i + 1)
        self.stats = _ManyStats(self.shops)
        apps = [sb.app for sb in self.shops]

        async def app(scope: Any, receive: Any, send: Any) -> None:
            _, prefix, index, rest = (scope.get("path", "") + "//").split("/", 3)
            if prefix != "shop" or not index.isdigit() or int(index) >= len(apps):
                await apps[0](scope, receive, send)  # the images every shop's media point to
                return
            path = "/" + rest.rstrip("/")
            await apps[int(index)](dict(scope, path=path, raw_path=path.encode()), receive, send)

        self.app = app

    def set_latency(self, ms: float) -> None:
        for sb in self.shops:
            sb.set_latency(ms)

    def settings(self, server_url: str, index: int) -> dict[str, Any]:
        """Shop ``index``'s connection settings (its base URL under ``server_url``)."""
        return self.shops[index].base_url_setting(f"{server_url}/shop/{index}")


class CpuQuota:
    """Holds a process to ``cores`` of CPU through a cgroup of its own (v2 ``cpu.max``, or v1
    ``cpu.cfs_quota_us``), as if it ran on a machine of that size: ``--worker-cpu``."""

    PERIOD = 100_000  # microseconds

    def __init__(self, name: str, cores: float) -> None:
        v2, v1 = Path("/sys/fs/cgroup/unified"), Path("/sys/fs/cgroup/cpu")
        if (Path("/sys/fs/cgroup") / "cgroup.controllers").exists():
            v2 = Path("/sys/fs/cgroup")
        quota = int(cores * self.PERIOD)
        if (v2 / "cgroup.controllers").exists() and "cpu" in (v2 / "cgroup.controllers").read_text().split():
            self.dir = v2 / name
            self.dir.mkdir()
            (self.dir / "cpu.max").write_text(f"{quota} {self.PERIOD}")
        elif (v1 / "cpu.cfs_quota_us").exists():
            self.dir = v1 / name
            self.dir.mkdir()
            (self.dir / "cpu.cfs_period_us").write_text(str(self.PERIOD))
            (self.dir / "cpu.cfs_quota_us").write_text(str(quota))
        else:
            sys.exit("--worker-cpu needs a writable cgroup CPU controller (/sys/fs/cgroup); run without it")

    def add(self, pid: int) -> None:
        """Move process ``pid`` into the group, all its threads with it."""
        (self.dir / "cgroup.procs").write_text(str(pid))

    def throttled_seconds(self) -> float:
        """Seconds the group was held back by its quota so far."""
        for line in (self.dir / "cpu.stat").read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "throttled_time":  # v1: nanoseconds
                return int(value) / 1e9
            if key == "throttled_usec":  # v2
                return int(value) / 1e6
        return 0.0

    def remove(self) -> None:
        """Remove the group (its processes have ended)."""
        with contextlib.suppress(OSError):
            self.dir.rmdir()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


class Stack:
    """The sandboxes, a fresh database and Redis namespace, ``pairs`` organizations connected
    and mapped; then the ``bridge worker`` processes and the scheduler (:meth:`start`)."""

    def __init__(self, args: Any) -> None:
        from bridge import db

        pm = PluginManager()
        self.pm = pm
        self.args = args
        eco = ManyShops(pm, args.pairs, args.products, args.per_product)
        tt = pm.call(CHANNEL, "sandbox", options={"rate_limit": args.rate_limit})
        # each shop's tokens issued before the sandbox is forked into its serving process
        tt_conns = [tt.connection("", tt.add_shop("GB")) for _ in range(args.pairs)]
        ctx = multiprocessing.get_context("fork")
        self.eco_srv, self.tt_srv = Served(eco, ctx), Served(tt, ctx)
        for c in tt_conns:
            c.settings["base_url"] = self.tt_srv.url
        self.url, self.handle = _database(args.database)
        self.data = tempfile.mkdtemp(prefix="bridge-bench-")
        self.env = {"BRIDGE_DATA_DIR": self.data, "BRIDGE_CONFIG_DIR": os.path.join(self.data, "config"),
                    "BRIDGE_DATABASE_URL": self.url, "BRIDGE_BROKER_URL": args.broker,
                    "BRIDGE_REDIS_URL": args.redis, "BRIDGE_REDIS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"}
        if getattr(args, "webhooks", False):
            # nothing listens there: in an idle window no delivery is sent, the subscriptions
            # only need to exist (made at connect) for the jobs' idle back-off
            self.env["BRIDGE_PUBLIC_URL"] = "http://127.0.0.1:9"
        if getattr(args, "idle_max", None):
            self.env["BRIDGE_INTERVAL_IDLE_MAX"] = str(args.idle_max)
        for name, settings, srv in ((ECOMMERCE, eco.shops[0].app_settings(), self.eco_srv),
                                    (CHANNEL, tt.app_settings(), self.tt_srv)):
            for key, value in settings.items():
                self.env[f"BRIDGE_{name.upper()}_{key.upper()}"] = str(value)
            self.env[f"BRIDGE_{name.upper()}_BASE_URL"] = srv.url
        os.environ.update(self.env)
        db.reset_engines()
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.quotas: dict[str, CpuQuota] = {}
        t0 = time.perf_counter()
        eco_settings = [eco.settings(self.eco_srv.url, i) for i in range(args.pairs)]
        eco_creds = eco.shops[0].credentials()  # the sandboxes' static token is the same for all
        del eco, tt  # their state lives in the serving processes now
        self._connect(0, eco_settings[0], eco_creds, tt_conns[0])  # the first makes the credentials key
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: self._connect(i, eco_settings[i], eco_creds, tt_conns[i]), range(1, args.pairs)))
        print(f"{args.pairs} pairs connected and mapped in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        self.eco_srv.cmd("latency", args.latency_ms)
        self.tt_srv.cmd("latency", args.latency_ms)
        self.reset_stats()

    def _connect(self, i: int, eco_settings: dict[str, Any], eco_creds: dict[str, Any], tt_conn: Any) -> None:
        from bridge import stores
        from tests.e2e.harness import map_everything

        org_id: int = stores.create_org(f"Pair {i}").id  # type: ignore[assignment]
        stores.connect_store(org_id, ECOMMERCE, eco_settings, eco_creds, self.pm)
        shop = stores.connect_store(org_id, CHANNEL, tt_conn.settings, tt_conn.credentials, self.pm)
        map_everything(self.pm, shop, placeholder="Bench")

    def reset_stats(self) -> None:
        self.eco_srv.cmd("reset")
        self.tt_srv.cmd("reset")

    def start(self, n_workers: int) -> None:
        """Start ``n_workers`` workers, wait until each answers, then start the scheduler."""
        from bridge import celery_app

        for i in range(n_workers):
            quota = None
            if self.args.worker_cpu:
                quota = self.quotas[f"worker{i}"] = CpuQuota(f"{self.env['BRIDGE_REDIS_NAMESPACE']}-w{i}",
                                                             self.args.worker_cpu)
            self._spawn(f"worker{i}", [str(BRIDGE), "worker", "--concurrency", str(self.args.tasks),
                                       "--name", f"bench{i}@%h"], quota)
        print(f"output of the workers and the scheduler: {self.data}/*.log", file=sys.stderr)
        celery_app.configure()
        while len(celery_app.app.control.ping(timeout=0.5)) < n_workers:
            time.sleep(0.2)
        self._spawn("scheduler", [str(BRIDGE), "run", "--scheduler", "--no-web"])

    def _spawn(self, name: str, cmd: list[str], quota: CpuQuota | None = None) -> None:
        log = open(os.path.join(self.data, f"{name}.log"), "w")  # noqa: SIM115 - open until this process ends
        self.procs[name] = subprocess.Popen(cmd, env=dict(os.environ), stdout=log, stderr=subprocess.STDOUT)
        if quota is not None:
            quota.add(self.procs[name].pid)  # before it has imported anything

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far of each process: workers, the scheduler, the two sandboxes."""
        out = {name: cpu_seconds(p.pid) for name, p in self.procs.items()}
        out["eco sandboxes"] = cpu_seconds(self.eco_srv.proc.pid)
        out["tiktok sandbox"] = cpu_seconds(self.tt_srv.proc.pid)
        return out

    def throttled(self) -> float:
        """Seconds the workers were held back by ``--worker-cpu`` so far (all of them)."""
        return sum(q.throttled_seconds() for q in self.quotas.values())

    def check_alive(self) -> None:
        for name, p in self.procs.items():
            if p.poll() is not None:
                raise RuntimeError(f"{name} ended with {p.returncode}: see {self.data}/{name}.log")

    def close(self) -> None:
        from bridge import coordination, db

        for p in self.procs.values():
            p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()
        for q in self.quotas.values():
            q.remove()
        self.eco_srv.stop()
        self.tt_srv.stop()
        db.reset_engines()
        _drop(self.handle)
        redis = coordination.redis_client()
        keys = list(redis.scan_iter(self.env["BRIDGE_REDIS_NAMESPACE"] + "*"))
        if keys:
            redis.delete(*keys)


def _jobs() -> tuple[int, int, int, int]:
    """(products jobs finished once, jobs never run, jobs leased now, jobs) of the unpaused jobs."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from bridge import db
    from bridge.tables import Job

    with db.session() as s:
        live = (col(Job.paused) == False, col(Job.key) != "scheduler")  # noqa: E712
        products = s.exec(select(func.count()).select_from(Job).where(
            *live, col(Job.flow) == "products", col(Job.last_run_at).is_not(None),
            col(Job.lease_owner).is_(None))).one()
        never = s.exec(select(func.count()).select_from(Job).where(*live, col(Job.last_run_at).is_(None))).one()
        leased = s.exec(select(func.count()).select_from(Job).where(*live, col(Job.lease_owner).is_not(None))).one()
        total = s.exec(select(func.count()).select_from(Job).where(*live)).one()
    return int(products), int(never), int(leased), int(total)


def _counts() -> tuple[int, int, dict[str, int]]:
    """(listing links, finished flow runs, listing links by status)."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from bridge import db
    from bridge.tables import ListingLink, SyncRun

    with db.session() as s:
        links = s.exec(select(func.count()).select_from(ListingLink)).one()
        runs = s.exec(select(func.count()).select_from(SyncRun).where(col(SyncRun.finished_at).is_not(None))).one()
        statuses = dict(s.exec(select(ListingLink.status, func.count()).group_by(ListingLink.status)).all())
    return int(links), int(runs), statuses


def busy_round(args: Any, n_workers: int) -> dict[str, Any]:
    """The initial sync of every pair with ``n_workers`` workers; its figures."""
    stack = Stack(args)
    try:
        cpu0 = stack.cpu()
        stack.start(n_workers)
        throttled0 = stack.throttled()
        t0 = time.perf_counter()
        while True:
            stack.check_alive()
            done, _, _, _ = _jobs()
            if done >= args.pairs:
                break
            if time.perf_counter() - t0 > args.timeout:
                raise RuntimeError(f"only {done} of {args.pairs} products jobs finished in {args.timeout:g}s")
            time.sleep(0.5)
        wall = time.perf_counter() - t0
        cpu1 = stack.cpu()
        links, runs, statuses = _counts()
        stats = stack.tt_srv.cmd("stats")
        return {"workers": n_workers, "wall": wall, "links": links, "runs": runs, "requests": stats["total"],
                "throttled": stats["throttled"], "routes": stats["by_route"],
                "creates": stats["by_route"].get("POST /product/202309/products", 0),
                "statuses": statuses, "cpu": {k: cpu1[k] - cpu0.get(k, 0.0) for k in cpu1},
                "throttled_s": stack.throttled() - throttled0}
    finally:
        stack.close()


def idle_round(args: Any, n_workers: int) -> dict[str, Any]:
    """Every pair synced, then ``--window`` seconds with nothing changing; CPU per process."""
    from sqlalchemy import func
    from sqlmodel import col, select

    from bridge import config, db, scale_metrics
    from bridge.scheduler import idle_delay
    from bridge.tables import Job, SyncRun

    stack = Stack(args)
    try:
        stack.start(n_workers)
        t0 = time.perf_counter()
        while True:  # every job has run once (the jobs due each minute are queued again all along)
            stack.check_alive()
            _, never, leased, total = _jobs()
            if total and never == 0:
                break
            if time.perf_counter() - t0 > args.timeout:
                raise RuntimeError(f"{never} jobs never ran after {args.timeout:g}s")
            time.sleep(1.0)
        print(f"every job ran once after {time.perf_counter() - t0:.1f}s ({leased} leased, "
              f"{sum(scale_metrics.queue_depth().values())} tasks queued); waiting {args.settle:g}s more", file=sys.stderr)
        if args.steady:
            steady = _steady_state(config.load().interval_idle_max)
            print(f"steady state set: {steady['jobs']} jobs, their waits ask {steady['rate']:.2f} runs/s", file=sys.stderr)
        time.sleep(args.settle)
        stack.reset_stats()
        with db.session() as s:
            runs0 = s.exec(select(func.count()).select_from(SyncRun)).one()
        cpu0, w0 = stack.cpu(), time.perf_counter()
        time.sleep(args.window)
        cpu1, window = stack.cpu(), time.perf_counter() - w0
        stack.check_alive()
        with db.session() as s:
            runs = s.exec(select(func.count()).select_from(SyncRun)).one() - runs0
            due = s.exec(select(func.sum(1.0 / Job.interval_s)).where(col(Job.paused) == False)).one()  # noqa: E712
            jobs = list(s.exec(select(Job.interval_s, Job.payload).where(col(Job.paused) == False)))  # noqa: E712
            cap = config.load().interval_idle_max
            waits = [idle_delay(i, int((p or {}).get("idle") or 0), cap) for i, p in jobs]
            by_flow = dict(s.exec(select(SyncRun.flow, func.count()).where(col(SyncRun.id) > 0)
                                  .group_by(SyncRun.flow)).all())
        eco, tt = stack.eco_srv.cmd("stats"), stack.tt_srv.cmd("stats")
        return {"workers": n_workers, "window": window, "runs": runs, "runs_by_flow": by_flow, "due": float(due or 0),
                "due_now": sum(1.0 / w for w in waits), "stretched": sum(1 for (i, _), w in zip(jobs, waits, strict=True) if w > i),
                "jobs": len(jobs),
                "queued": sum(scale_metrics.queue_depth().values()),
                "eco": eco["total"], "tt": tt["total"], "cpu": {k: cpu1[k] - cpu0[k] for k in cpu1}}
    finally:
        stack.close()


def _steady_state(cap: int, timeout: float = 600.0) -> dict[str, Any]:
    """Set every job as its idle runs would leave it at ``cap`` (``--steady``, see the module):
    the idle count giving the cap, the next run uniformly within the stretched wait. A leased job
    is set once its run has ended (its end would overwrite the idle count). Returns the jobs set
    and the runs per second their waits ask."""
    import random
    from datetime import timedelta

    from sqlmodel import col, select, update

    from bridge import db
    from bridge.scheduler import idle_delay
    from bridge.tables import Job, utcnow

    with db.session() as s:
        pending = dict(s.exec(select(Job.id, Job.interval_s).where(
            col(Job.paused) == False, col(Job.key) != "scheduler")).all())  # noqa: E712
    total, rate = len(pending), 0.0
    deadline = time.monotonic() + timeout
    while pending:
        now = utcnow()
        with db.session() as s:
            for job_id, interval in list(pending.items()):
                idle = 0
                while idle_delay(interval, idle, cap) < max(interval, cap):
                    idle += 1
                wait = idle_delay(interval, idle, cap)
                res = s.exec(update(Job).where(col(Job.id) == job_id, col(Job.lease_owner).is_(None))
                             .values(payload={"idle": idle} if idle else {},
                                     next_run_at=now + timedelta(seconds=random.uniform(0, wait))))
                if res.rowcount == 1:
                    del pending[job_id]
                    rate += 1.0 / wait
        if pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{len(pending)} jobs still leased after {timeout:g}s")
            time.sleep(0.5)
    return {"jobs": total, "rate": rate}


def _round(mode: str, args: Any, n_workers: int, queue: Any) -> None:
    queue.put((busy_round if mode == "busy" else idle_round)(args, n_workers))


def _cpu_line(cpu: dict[str, float], seconds: float) -> str:
    return ", ".join(f"{k} {v:.1f}s ({100 * v / seconds:.1f}%)" for k, v in cpu.items())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=("busy", "idle"))
    ap.add_argument("--pairs", type=int, default=None, help="store pairs (default: busy 200, idle 1000)")
    ap.add_argument("--products", type=int, default=None, help="products per shop (default: busy 50, idle 2)")
    ap.add_argument("--per-product", type=int, default=1, help="variants per product")
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--rate-limit", type=float, default=50.0, help="TikTok QPS per API per shop")
    ap.add_argument("--workers", default=None, help="worker process counts (default: busy 1,2; idle 2)")
    ap.add_argument("--tasks", type=int, default=16, help="tasks each worker runs at once (threads; the "
                    "flows mostly wait on the platforms and their cost and rate budgets)")
    ap.add_argument("--window", type=float, default=60.0, help="idle: seconds measured")
    ap.add_argument("--settle", type=float, default=10.0, help="idle: seconds waited after the initial work")
    ap.add_argument("--timeout", type=float, default=3600.0)
    ap.add_argument("--webhooks", action="store_true", help="idle: set a public URL so the stores are subscribed "
                    "and their webhooks live (the jobs' idle back-off applies)")
    ap.add_argument("--idle-max", type=int, default=None, help="interval.idle_max for the bridge processes")
    ap.add_argument("--worker-cpu", type=float, default=None, metavar="CORES",
                    help="hold each worker process to CORES of CPU (a cgroup each), as if every worker had a "
                    "machine of its own: on a small machine the sandboxes, PostgreSQL and Redis otherwise take "
                    "the CPU a second worker would use")
    ap.add_argument("--steady", action="store_true", help="idle: once every job has run, set each job to the idle "
                    "back-off's steady state (its idle count at the cap, its next run spread over the cap) and "
                    "measure that (implies --webhooks)")
    ap.add_argument("--database", default=os.environ.get("BRIDGE_TEST_DATABASE_URL"))
    ap.add_argument("--broker", default=os.environ.get("BRIDGE_TEST_REDIS_URL"))
    ap.add_argument("--redis", default=os.environ.get("BRIDGE_TEST_REDIS_URL"))
    args = ap.parse_args()
    args.webhooks = args.webhooks or args.steady
    busy = args.mode == "busy"
    args.pairs = args.pairs or (200 if busy else 1000)
    args.products = args.products if args.products is not None else (50 if busy else 2)
    args.workers = args.workers or ("1,2" if busy else "2")
    if not (args.database and args.broker and args.redis):
        sys.exit("needs PostgreSQL, a broker and Redis: set BRIDGE_TEST_DATABASE_URL and BRIDGE_TEST_REDIS_URL, "
                 "or pass --database/--broker/--redis")
    rows = []
    spawn = multiprocessing.get_context("spawn")
    for n in (int(x) for x in args.workers.split(",")):
        queue = spawn.Queue()  # each round in a fresh process: its own engine, broker connections, sandboxes
        proc = spawn.Process(target=_round, args=(args.mode, args, n, queue))
        proc.start()
        while True:
            try:
                rows.append(queue.get(timeout=5))
                break
            except Empty:
                if not proc.is_alive():
                    sys.exit(f"the round with {n} worker(s) failed (its error is above)")
        proc.join()
        print(f"{n} worker(s) done", file=sys.stderr)
    print(f"{args.pairs} store pairs ({ECOMMERCE} -> TikTok Shop), {args.products} products of {args.per_product} "
          f"variant(s) each, {args.latency_ms:g} ms added per request, TikTok {args.rate_limit:g} req/s per API "
          f"per shop, {args.tasks} tasks per worker"
          f"{f' each held to {args.worker_cpu:g} core(s)' if args.worker_cpu else ''}, "
          f"broker {args.broker.split(':', 1)[0]}; {os.cpu_count()} CPUs; "
          f"load average {os.getloadavg()[0]:.1f}")
    if busy:
        print(f"{'workers':>7} {'wall s':>8} {'listed':>7} {'listed/s':>8} {'runs':>6} {'runs/s':>6} "
              f"{'TikTok req':>10} {'creates':>7} {'429s':>5}")
        for r in rows:
            print(f"{r['workers']:>7} {r['wall']:>8.1f} {r['links']:>7} {r['links'] / r['wall']:>8.1f} {r['runs']:>6} "
                  f"{r['runs'] / r['wall']:>6.1f} {r['requests']:>10} {r['creates']:>7} {r['throttled']:>5}")
        for r in rows:
            print(f"  {r['workers']} worker(s) CPU: {_cpu_line(r['cpu'], r['wall'])}")
            workers = sum(v for k, v in r["cpu"].items() if k.startswith("worker"))
            others = sum(v for k, v in r["cpu"].items() if not k.startswith("worker"))
            print(f"  CPU per listing: workers {1000 * workers / max(1, r['links']):.1f} ms, sandboxes and "
                  f"scheduler {1000 * others / max(1, r['links']):.1f} ms"
                  + (f"; workers held back by their quota {r['throttled_s']:.1f}s" if args.worker_cpu else ""))
            print(f"  listings by status: {r['statuses']}")
            print(f"  TikTok requests: {', '.join(f'{k} {v}' for k, v in sorted(r['routes'].items(), key=lambda kv: -kv[1]))}")
        if len(rows) > 1:
            base = rows[0]["links"] / rows[0]["wall"]
            for r in rows[1:]:
                print(f"throughput {r['workers']} workers / {rows[0]['workers']}: {r['links'] / r['wall'] / base:.2f}")
    else:
        from bridge.config import Settings

        for r in rows:
            ours = sum(v for k, v in r["cpu"].items() if k == "scheduler" or k.startswith("worker"))
            if args.steady:
                cap = args.idle_max or Settings.model_fields["interval_idle_max"].default
                print(f"steady state of the idle back-off at interval.idle_max {cap} s")
            print(f"{r['workers']} worker(s), {r['window']:.0f}s idle: scheduler + workers {ours:.2f} CPU s = "
                  f"{100 * ours / r['window']:.1f}% of one core (goal < 5%); {r['runs']} flow runs, "
                  f"{r['eco']} store requests, {r['tt']} TikTok requests in the window")
            print(f"  CPU: {_cpu_line(r['cpu'], r['window'])}")
            workers = sum(v for k, v in r["cpu"].items() if k.startswith("worker"))
            runs = max(1, r["runs"])
            print(f"  {r['runs'] / r['window']:.2f} runs/s; CPU per flow run: workers {1000 * workers / runs:.1f} ms, "
                  f"scheduler {1000 * r['cpu'].get('scheduler', 0.0) / runs:.1f} ms; scheduler + workers "
                  f"{100 * ours / r['window']:.1f}% of one core, scaled linearly to 1,000 pairs "
                  f"{100 * ours / r['window'] * 1000 / args.pairs:.1f}%")
            print(f"  workers' CPU per flow run: {1000 * workers / max(1, r['runs']):.1f} ms; the jobs' intervals ask "
                  f"{r['due']:.1f} runs/s, the window ran {r['runs'] / r['window']:.1f}/s; {r['queued']} tasks queued "
                  f"at its end")
            print(f"  at its end {r['stretched']} of {r['jobs']} jobs stretched by the idle back-off; their waits now "
                  f"ask {r['due_now']:.2f} runs/s")
            print(f"  runs so far by flow: {r['runs_by_flow']}")


if __name__ == "__main__":
    main()

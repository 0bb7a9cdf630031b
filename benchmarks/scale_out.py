#!/usr/bin/env python3
"""One shop's initial products sync shared by 1, 2 and 4 `bridge worker` processes; print the
figures (issue 20: scale-out on Celery).

    .venv/bin/python benchmarks/scale_out.py --variants 10000 --latency-ms 20 --workers 1,2,4

Needs PostgreSQL, a broker and Redis (defaults: BRIDGE_TEST_DATABASE_URL, BRIDGE_TEST_AMQP_URL or
else BRIDGE_TEST_REDIS_URL, BRIDGE_TEST_REDIS_URL; as `.ci/run` sets them). For each worker count:
a fresh database and Redis namespace, the Shopify and TikTok Shop sandboxes each in a process of
their own (``--latency-ms`` added per request, TikTok enforcing ``--rate-limit`` requests per
second per API per shop), the stores connected and mapped, N workers started and ready, then the
products job queued by the scheduler (this process) and timed until it has finished: the full
pass cut into page tasks, then the finishing run.

Printed per worker count: wall time, the rate-limit floor (the busiest TikTok API's requests /
rate) and the ratio, TikTok requests, rate-limit errors (429 answered), listing links and
TikTok create calls (more creates than links would be a product created twice), page tasks, the
most page runs at once, the seconds until the first page was read (the job leased to its split)
and until it started, from the first page's start
to the last page's end, the median TikTok creates per second while they went on, the
finishing run's seconds, the
workers' CPU seconds (all processes) and per create, the sandboxes' CPU seconds; and Shopify's query cost with the floor it
sets on its own (paged reads cost; a bulk export, above the plugin's threshold, hardly).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # tests.e2e.harness, benchmarks.initial_sync

from benchmarks.initial_sync import CHANNEL, Served  # noqa: E402
from bridge.plugins import PluginManager  # noqa: E402

BRIDGE = Path(sys.executable).parent / "bridge"
#: The Shopify sandbox's cost bucket (its defaults: Shopify's standard plan).
SHOPIFY_BUCKET, SHOPIFY_RESTORE = 2000.0, 100.0


def _database(server: str) -> tuple[str, Any]:
    """A new empty database on ``server``: its URL and the admin engine that drops it."""
    from sqlalchemy import create_engine, text

    name = f"bridge_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine("postgresql+psycopg://" + server.split("://", 1)[1], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return server.rsplit("/", 1)[0] + "/" + name, (admin, name)


def _drop(handle: Any) -> None:
    from sqlalchemy import text

    admin, name = handle
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def one_round(args: Any, n_workers: int) -> dict[str, Any]:
    """The initial sync with ``n_workers`` worker processes; its figures."""
    from sqlmodel import select, update

    from bridge import celery_app, coordination, db, stores
    from bridge.queue_scheduler import QueueScheduler
    from bridge.tables import Job, ListingLink, Store, SyncRun
    from tests.e2e.harness import map_everything

    pm = PluginManager()
    eco = pm.call("shopify", "sandbox", options={"seed": 0})
    tt = pm.call(CHANNEL, "sandbox", options={"rate_limit": args.rate_limit})
    eco.seed_catalog(-(-args.variants // args.per_product), args.per_product, seed=1)
    ctx = multiprocessing.get_context("fork")
    eco_srv, tt_srv = Served(eco, ctx), Served(tt, ctx)
    url, handle = _database(args.database)
    data = tempfile.mkdtemp(prefix="bridge-bench-")
    env = {"BRIDGE_DATA_DIR": data, "BRIDGE_CONFIG_DIR": os.path.join(data, "config"),
           "BRIDGE_DATABASE_URL": url, "BRIDGE_BROKER_URL": args.broker, "BRIDGE_REDIS_URL": args.redis,
           "BRIDGE_REDIS_NAMESPACE": f"bench-{uuid.uuid4().hex[:8]}"}
    for name, sb, srv in (("shopify", eco, eco_srv), (CHANNEL, tt, tt_srv)):
        for key, value in sb.app_settings().items():
            env[f"BRIDGE_{name.upper()}_{key.upper()}"] = str(value)
        env[f"BRIDGE_{name.upper()}_BASE_URL"] = srv.url
    os.environ.update(env)
    db.reset_engines()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        org_id: int = stores.create_org("Bench").id  # type: ignore[assignment]
        stores.connect_store(org_id, "shopify", eco.base_url_setting(eco_srv.url), eco.credentials(), pm)
        shop = stores.connect_store(org_id, CHANNEL, tt.base_url_setting(tt_srv.url), tt.credentials(), pm)
        map_everything(pm, shop, placeholder="Bench")
        with db.session() as s:
            row = s.get(Store, shop.id)
            row.options = {"products": {"concurrency": args.concurrency}}  # type: ignore[union-attr]
            s.add(row)
        del eco, tt  # their state lives in the serving processes now
        eco_srv.cmd("latency", args.latency_ms)
        tt_srv.cmd("latency", args.latency_ms)
        tt_srv.cmd("reset")
        eco_srv.cmd("reset")
        logs = [open(os.path.join(data, f"worker{i}.log"), "w") for i in range(n_workers)]  # noqa: SIM115
        procs = [subprocess.Popen([str(BRIDGE), "worker", "--concurrency", str(args.tasks),
                                   "--name", f"bench{i}@%h"], env=dict(os.environ),
                                  stdout=log, stderr=subprocess.STDOUT)
                 for i, log in enumerate(logs)]
        print(f"workers' output: {data}/worker*.log", file=sys.stderr)
        sched = QueueScheduler(tick=0.2)
        while len(celery_app.app.control.ping(timeout=0.5)) < n_workers:
            time.sleep(0.2)
        sched.refresh_jobs()
        with db.session() as s:
            s.exec(update(Job).where(Job.flow != "products").values(paused=True))  # type: ignore[call-overload]
            job_id = s.exec(select(Job.id).where(Job.flow == "products")).one()
        t0, t0_wall = time.perf_counter(), time.time()
        split_at = None  # when the job's task had read the first page (the job leased to its split)
        creates: list[tuple[float, int]] = []  # (seconds, TikTok creates so far), about every second
        while True:
            sched.step()
            if not creates or time.perf_counter() - t0 - creates[-1][0] >= 1.0:
                creates.append((time.perf_counter() - t0,
                                tt_srv.cmd("stats")["by_route"].get("POST /product/202309/products", 0)))
            with db.session() as s:
                job = s.get(Job, job_id)
                if job is not None and job.last_run_at is not None and job.lease_owner is None:
                    break
            if split_at is None and job is not None and (job.lease_owner or "").startswith("split|"):
                split_at = time.perf_counter() - t0
            time.sleep(0.2)
        wall = time.perf_counter() - t0
        # creates per second between the first and the last second that had any (the steady state)
        rates = sorted((c2 - c1) / (t2 - t1) for (t1, c1), (t2, c2) in zip(creates, creates[1:], strict=False)
                       if c1 > 0 and c2 > c1)
        median_rate = rates[len(rates) // 2] if rates else 0.0
        cpu = sum(_cpu_seconds(p.pid) for p in procs)
        sandbox_cpu = sum(_cpu_seconds(srv.proc.pid) for srv in (eco_srv, tt_srv))
        stats = tt_srv.cmd("stats")
        print(f"{n_workers} worker(s), TikTok requests by route: "
              + ", ".join(f"{k}: {v}" for k, v in sorted(stats["by_route"].items(), key=lambda kv: -kv[1])),
              file=sys.stderr)
        # Shopify's own floor: the query cost it charged beyond its full bucket, at its restore rate
        eco_cost = int(eco_srv.cmd("stats").get("actual_query_cost", 0))
        eco_floor = max(0.0, eco_cost - SHOPIFY_BUCKET) / SHOPIFY_RESTORE
        with db.session() as s:
            links = len(list(s.exec(select(ListingLink))))
            runs = sorted(s.exec(select(SyncRun)), key=lambda r: r.started_at)
        # the page runs, then the finishing run of the whole flow (the last to start)
        pages_s = (max(r.finished_at for r in runs[:-1]) - runs[0].started_at).total_seconds() \
            if len(runs) > 1 else 0.0
        finish_s = (runs[-1].finished_at - runs[-1].started_at).total_seconds() if runs else 0.0
        first_s = runs[0].started_at.replace(tzinfo=UTC).timestamp() - t0_wall if runs else 0.0
        # the most page runs at once (did the workers' tasks overlap?)
        edges = sorted([(r.started_at, 1) for r in runs[:-1]] + [(r.finished_at, -1) for r in runs[:-1]],
                       key=lambda e: (e[0], e[1]))
        at_once = peak = 0
        for _, step in edges:
            at_once += step
            peak = max(peak, at_once)
        busiest = max(stats["by_route"].values()) if stats["by_route"] else 0
        floor = busiest / args.rate_limit if args.rate_limit else 0.0
        return {"workers": n_workers, "wall": wall, "floor": floor, "requests": stats["total"],
                "throttled": stats["throttled"], "links": links,
                "creates": stats["by_route"].get("POST /product/202309/products", 0),
                "eco_cost": eco_cost, "eco_floor": eco_floor, "cpu": cpu,
                "sandbox_cpu": sandbox_cpu, "first": first_s, "read": split_at or 0.0,
                "rate": median_rate,
                "pages": pages_s, "finish": finish_s, "page_runs": len(runs) - 1, "at_once": peak, "error": job.last_error if job else None}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=60)
        eco_srv.stop()
        tt_srv.stop()
        db.reset_engines()
        _drop(handle)
        redis = coordination.redis_client()
        keys = list(redis.scan_iter(env["BRIDGE_REDIS_NAMESPACE"] + ":*"))
        if keys:
            redis.delete(*keys)


def _round(args: Any, n_workers: int, queue: Any) -> None:
    queue.put(one_round(args, n_workers))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--variants", type=int, default=10_000)
    ap.add_argument("--per-product", type=int, default=4)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--rate-limit", type=float, default=50.0, help="TikTok QPS per API per shop")
    ap.add_argument("--workers", default="1,2,4", help="worker process counts to measure")
    ap.add_argument("--tasks", type=int, default=2, help="tasks each worker runs at once")
    ap.add_argument("--concurrency", type=int, default=8, help="shop option products.concurrency")
    ap.add_argument("--database", default=os.environ.get("BRIDGE_TEST_DATABASE_URL"))
    ap.add_argument("--broker", default=os.environ.get("BRIDGE_TEST_AMQP_URL") or os.environ.get("BRIDGE_TEST_REDIS_URL"))
    ap.add_argument("--redis", default=os.environ.get("BRIDGE_TEST_REDIS_URL"))
    args = ap.parse_args()
    if not (args.database and args.broker and args.redis):
        sys.exit("needs PostgreSQL, a broker and Redis: set BRIDGE_TEST_DATABASE_URL, BRIDGE_TEST_AMQP_URL "
                 "(or only BRIDGE_TEST_REDIS_URL) and BRIDGE_TEST_REDIS_URL, or pass --database/--broker/--redis")
    rows = []
    spawn = multiprocessing.get_context("spawn")
    for n in (int(x) for x in args.workers.split(",")):
        # each round in a fresh process: its own database engine, broker connections and sandboxes
        queue = spawn.Queue()
        proc = spawn.Process(target=_round, args=(args, n, queue))
        proc.start()
        rows.append(queue.get(timeout=7200))
        proc.join()
        print(f"{n} worker(s) done", file=sys.stderr)
    print(f"one shop, {args.variants} variants ({args.per_product} per product), {args.latency_ms:g} ms "
          f"added per request, TikTok {args.rate_limit:g} req/s per API; {os.cpu_count()} CPUs")
    print("floor: TikTok's busiest API's requests / its rate; Shopify floor: the query cost Shopify charged "
          f"beyond its {SHOPIFY_BUCKET:g}-point bucket / {SHOPIFY_RESTORE:g} points/s (paged reads; a bulk "
          "export costs little)")
    print(f"{'workers':>7} {'wall s':>8} {'floor s':>8} {'ratio':>6} {'Shopify pts':>11} {'Shopify floor s':>15} "
          f"{'TikTok req':>10} {'429s':>5} {'listed':>7} {'creates':>7} {'pages':>5} {'at once':>7} {'1st read s':>10} {'1st page s':>10} {'pages s':>7} {'creates/s':>9} {'finish s':>8} {'worker CPU s':>12} {'ms/listing':>10} {'sandboxes CPU s':>15}")
    for r in rows:
        ratio = r["wall"] / r["floor"] if r["floor"] else float("nan")
        print(f"{r['workers']:>7} {r['wall']:>8.1f} {r['floor']:>8.1f} {ratio:>6.2f} {r['eco_cost']:>11} "
              f"{r['eco_floor']:>15.1f} {r['requests']:>10} "
              f"{r['throttled']:>5} {r['links']:>7} {r['creates']:>7} {r['page_runs']:>5} {r['at_once']:>7} {r['read']:>10.1f} {r['first']:>10.1f} "
              f"{r['pages']:>7.1f} {r['rate']:>9.1f} {r['finish']:>8.1f} {r['cpu']:>12.1f} "
              f"{1000 * r['cpu'] / max(1, r['creates']):>10.1f} {r['sandbox_cpu']:>15.1f}" + (f"  error: {r['error']}" if r["error"] else ""))


if __name__ == "__main__":
    main()

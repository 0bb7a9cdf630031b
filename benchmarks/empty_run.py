#!/usr/bin/env python3
"""The cost of a flow run that finds nothing to do, as a ``bridge worker`` runs it (issue 20:
1,000 idle store pairs), measured in one process: CPU, SQL statements and database sessions
(connections checked out of the pool) per run; and the scheduler's CPU per job queued.

    .venv/bin/python benchmarks/empty_run.py --pairs 20 --rounds 5
    .venv/bin/python benchmarks/empty_run.py --pairs 20 --rounds 5 --profile /tmp/empty.prof

The stores are those of ``benchmarks/scale_pairs.py`` (``--pairs`` Shopify sandboxes and one
TikTok Shop sandbox, served by processes of their own; a fresh PostgreSQL database and Redis
namespace: BRIDGE_TEST_DATABASE_URL, BRIDGE_TEST_REDIS_URL). Every job runs once first (the
initial sync); then, ``--rounds`` times, every job is leased as the scheduler leases it
(:meth:`bridge.queue_scheduler.QueueScheduler.step`, its ``send`` kept in a list) and run by
:func:`bridge.celery_app.job_task` in this process, one after the other — the worker's code
without Celery's own consumer, acknowledgement and events around it (those show in
``scale_pairs.py idle``, which runs the real processes). CPU is this process's (the sandboxes
are in theirs); ``--webhooks`` makes the stores' webhooks live (the idle back-off applies).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


class _Task:
    """What :func:`bridge.celery_app.job_task` reads of its Celery task (``self``)."""

    class request:  # noqa: N801 - Celery's attribute name
        id = "empty-run"


class Counting:
    """SQL statements and pool checkouts of an engine, by first word of the statement."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements: Counter[str] = Counter()
        self.checkouts = 0
        self.trace: list[str] | None = None
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements[statement.split(None, 1)[0].upper()] += 1
        if self.trace is not None:
            self.trace.append("    " + " ".join(statement.split())[:160])

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1
        if self.trace is not None:
            self.trace.append("  session")

    def reset(self) -> None:
        self.statements.clear()
        self.checkouts = 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=20)
    ap.add_argument("--products", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5, help="times every job is run empty")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--webhooks", action="store_true", help="the stores' webhooks live (idle back-off)")
    ap.add_argument("--flows", help="run these flows only (comma-separated; default all)")
    ap.add_argument("--show", action="store_true", help="print the SQL of one empty run of each flow")
    ap.add_argument("--profile", help="write a cProfile (CPU time of this thread) of the empty runs here")
    ap.add_argument("--database", default=os.environ.get("BRIDGE_TEST_DATABASE_URL"))
    ap.add_argument("--redis", default=os.environ.get("BRIDGE_TEST_REDIS_URL"))
    args = ap.parse_args()
    if not (args.database and args.redis):
        sys.exit("needs PostgreSQL and Redis: set BRIDGE_TEST_DATABASE_URL and BRIDGE_TEST_REDIS_URL")
    args.broker, args.per_product, args.rate_limit, args.idle_max = args.redis, 1, 50.0, None

    from sqlmodel import col, select, update

    from benchmarks.scale_pairs import Stack
    from bridge import celery_app, db, heap
    from bridge.queue_scheduler import QueueScheduler
    from bridge.tables import Job, utcnow

    stack = Stack(args)
    try:
        celery_app.configure()
        sent: list[tuple[int, str]] = []
        sched = QueueScheduler(send=lambda job_id, holder: sent.append((job_id, holder)))
        sched.refresh_jobs()

        def queue_all() -> list[tuple[int, str]]:
            """Every job due now, leased by the scheduler as it does; what it sent."""
            with db.session() as s:
                chosen = col(Job.flow).in_(only) if only else col(Job.key) != "scheduler"
                s.exec(update(Job).where(chosen)  # type: ignore[call-overload]
                       .values(next_run_at=utcnow() - timedelta(seconds=1)))
            sent.clear()
            while True:
                before = len(sent)
                sched.step()
                if len(sent) == before:
                    return list(sent)

        def run(jobs: list[tuple[int, str]]) -> None:
            for job_id, holder in jobs:
                celery_app.job_task(_Task(), job_id, holder, time.time())

        rt = celery_app.runtime()
        t0 = time.perf_counter()
        only: list[str] = []
        for _ in range(2):  # the initial sync (a products pass whole, not split), and one run after it
            for job_id, holder in queue_all():
                job = rt.take(job_id, holder)
                assert job is not None
                rt.run(job)
        print(f"initial sync of {args.pairs} pairs in-process: {time.perf_counter() - t0:.1f}s", file=sys.stderr)
        only = args.flows.split(",") if args.flows else []
        heap.freeze_startup()
        counting = Counting(db.get_engine())
        cpu_run = cpu_sched = 0.0
        runs = 0
        prof = cProfile.Profile(time.thread_time) if args.profile else None
        statements: Counter[str] = Counter()
        checkouts = sched_statements = 0
        for _ in range(args.rounds):
            counting.reset()
            c0 = time.process_time()
            jobs = queue_all()
            c1 = time.process_time()
            sched_statements += sum(counting.statements.values())
            counting.reset()
            if prof:
                prof.enable()
            run(jobs)
            if prof:
                prof.disable()
            cpu_sched += c1 - c0
            cpu_run += time.process_time() - c1
            statements += counting.statements
            checkouts += counting.checkouts
            runs += len(jobs)
        if args.show:
            shown: set[str] = set()
            jobs = queue_all()
            with db.session() as s:
                flows = dict(s.exec(select(Job.id, Job.flow)).all())
            for job_id, holder in jobs:
                if flows[job_id] in shown:
                    continue
                shown.add(flows[job_id])
                counting.trace = []
                run([(job_id, holder)])
                print(f"{flows[job_id]}:\n" + "\n".join(counting.trace))
            counting.trace = None
        with db.session() as s:
            by_flow = Counter(s.exec(select(Job.flow).where(col(Job.key) != "scheduler")).all())
        total = sum(statements.values())
        print(f"{args.pairs} pairs, {runs} empty runs ({dict(by_flow)} jobs), {args.latency_ms:g} ms per request, "
              f"webhooks {'live' if args.webhooks else 'off'}; load average {os.getloadavg()[0]:.1f}")
        print(f"  worker: {1000 * cpu_run / runs:.1f} ms CPU per run; {total / runs:.1f} SQL statements "
              f"({', '.join(f'{k} {v / runs:.1f}' for k, v in statements.most_common())}) and "
              f"{checkouts / runs:.1f} sessions per run")
        print(f"  scheduler: {1000 * cpu_sched / runs:.2f} ms CPU per job queued; {sched_statements / args.rounds:.0f} "
              f"statements to queue {len(jobs)} jobs")
        if prof:
            prof.dump_stats(args.profile)
            print(f"  profile: {args.profile}")
    finally:
        stack.close()


if __name__ == "__main__":
    main()

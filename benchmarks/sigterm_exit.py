#!/usr/bin/env python3
"""Time from SIGTERM to exit of `bridge run` while a flow is in progress.

    .venv/bin/python benchmarks/sigterm_exit.py [--platform bigcommerce] [--products 600] [--rounds 3]

Serves the eCommerce and TikTok Shop sandboxes on loopback (added latency per request, so the
initial products pass is long), connects both, starts `bridge run` in its own process, waits
until the products run is `running`, sends SIGTERM and measures until the process has exited.
Prints each round's seconds and exit status, and what was left behind (runs still `running`,
job leases held): both should be none.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bridge.sandboxing import free_port

BRIDGE = str(Path(sys.executable).with_name("bridge"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--platform", default="bigcommerce")
    ap.add_argument("--products", type=int, default=600)
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="bridge-sigterm-bench-")
    os.environ.update({"BRIDGE_DATA_DIR": data, "BRIDGE_CONFIG_DIR": os.path.join(data, "config")})

    from sqlmodel import select

    from bridge import db
    from bridge.plugins import get_manager
    from bridge.tables import Job, SyncRun, utcnow

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's tests package
    from tests.e2e.harness import Harness

    results = []
    with ExitStack() as stack:
        h = Harness(args.platform, stack, lambda k, v: os.environ.__setitem__(k, v), pm=get_manager())
        h.eco.seed_catalog(args.products, 1, seed=3)
        h.map_everything()
        h.eco.set_latency(args.latency_ms)
        h.tt.set_latency(args.latency_ms)
        for i in range(args.rounds):
            db.reset_engines()
            with db.session() as s:  # every job due at start, as on a first start
                for job in s.exec(select(Job)):
                    job.next_run_at = utcnow()
                    s.add(job)
            proc = subprocess.Popen([BRIDGE, "run", "--port", str(free_port())], env=dict(os.environ),
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 120
            while True:
                db.reset_engines()
                with db.session() as s:
                    running = s.exec(select(SyncRun).where(SyncRun.flow == "products",
                                                           SyncRun.status == "running")).first()
                if running is not None:
                    break
                if time.monotonic() > deadline or proc.poll() is not None:
                    proc.kill()
                    raise SystemExit("the products run never started")
                time.sleep(0.05)
            time.sleep(1.0)  # well inside the pass
            sent = time.perf_counter()
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(timeout=120)
            took = time.perf_counter() - sent
            err = proc.stderr.read() if proc.stderr else ""
            db.reset_engines()
            with db.session() as s:
                left_running = len(list(s.exec(select(SyncRun).where(SyncRun.status == "running"))))
                leases = len(list(s.exec(select(Job).where(Job.lease_owner != None))))  # noqa: E711
            listed = len(h.tiktok_products())
            results.append(took)
            print(f"round {i + 1}: SIGTERM -> exit {took:.2f} s, exit status {code}, "
                  f"'bridge stopped' {'printed' if 'bridge stopped' in err else 'MISSING'}, "
                  f"runs left running {left_running}, leases held {leases}, "
                  f"products on TikTok so far {listed}/{args.products}")
    print(f"platform: {args.platform}, {args.latency_ms:.0f} ms added latency per request")
    print(f"SIGTERM -> exit: max {max(results):.2f} s, mean {sum(results) / len(results):.2f} s")


if __name__ == "__main__":
    main()

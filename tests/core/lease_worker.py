"""A scheduler process for the lease tests: runs the 'probe' flow and logs each run's interval.

Usage: python lease_worker.py LOGFILE SECONDS
"""

from __future__ import annotations

import json
import os
import sys
import time

from bridge.plugins import set_manager
from bridge.scheduler import Scheduler
from bridge.sync import base as flows
from tests.conftest import fake_manager


def main() -> None:
    log_path, seconds = sys.argv[1], float(sys.argv[2])
    flows.BUILTIN_FLOW_MODULES = ()

    pause = float(os.environ.get("PROBE_SECONDS", "0.05"))

    def probe(ctx: flows.FlowContext) -> None:
        start = time.time()
        with open(log_path, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "org": ctx.org_id, "event": "start"}) + "\n")
        time.sleep(pause)
        with open(log_path, "a") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "org": ctx.org_id, "event": "end",
                                 "start": start, "end": time.time()}) + "\n")

    flows.register_flow("probe", probe, interval_key="interval.probe", per_channel=False)
    set_manager(fake_manager())
    sched = Scheduler(workers=2, tick=0.01)
    sched.install_signal_handlers()
    sched.run_forever(max_runtime=seconds)


if __name__ == "__main__":
    main()

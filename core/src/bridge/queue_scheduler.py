"""``bridge run --scheduler``: the scheduler of a scale-out, which queues due jobs for the
Celery workers (:mod:`bridge.celery_app`) instead of running them.

Exactly one scheduler is active: it holds the *scheduler lease*, a row of the ``jobs`` table
(key :data:`LEASE_KEY`, never due) taken and renewed by a conditional UPDATE like any job's
lease. Others started beside it (for the admin pages, or as stand-bys) wait and take over
within :data:`~bridge.scheduler.LEASE_SECONDS` of the active one ending.

Each due job is leased to a token of its own for :data:`QUEUED_LEASE` seconds and sent as a
task; the worker that receives it takes the lease from the token. A job whose task was lost
(broker restarted, no worker for that long) is due again once the token's lease runs out.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import col

from bridge import db
from bridge.scheduler import LEASE_SECONDS, Scheduler, recover_dead_owners
from bridge.tables import Job, utcnow

log = logging.getLogger("bridge.scheduler")

LEASE_KEY = "scheduler"
#: Seconds a queued job waits for a worker before it is queued again.
QUEUED_LEASE = 900.0
#: Most jobs queued per tick.
BATCH = 200


class QueueScheduler(Scheduler):
    """A :class:`~bridge.scheduler.Scheduler` that sends due jobs to the workers' queue."""

    def __init__(self, *, send: Any = None, tick: float = 0.5, **kw: Any) -> None:
        super().__init__(workers=1, tick=tick, **kw)
        if send is None:
            from bridge import celery_app

            celery_app.configure()
            send = celery_app.queue_job
        self.send = send
        self.active = False
        self.queued = 0
        self._last_lease = 0.0

    def hold_lease(self) -> bool:
        """Take or renew the scheduler lease; True while this process is the active one."""
        now = utcnow()
        with db.session() as s:
            db.insert_missing(s, Job, [Job(key=LEASE_KEY, flow=LEASE_KEY, paused=True)
                                       .model_dump(exclude={"id"})], keys=("key",))
            res = s.exec(update(Job).where(
                col(Job.key) == LEASE_KEY,
                or_(col(Job.lease_owner) == self.owner, col(Job.lease_until).is_(None),
                    col(Job.lease_until) < now))
                .values(lease_owner=self.owner, lease_until=now + timedelta(seconds=LEASE_SECONDS)))
            held = res.rowcount == 1
        if held != self.active:
            log.warning("scheduler %s: %s", self.owner, "active" if held else "standing by")
        self.active = held
        return held

    def step(self) -> int:
        """Hold the lease, then queue the due jobs (the active scheduler only); returns how
        many were queued."""
        if not self.active or time.monotonic() - self._last_lease > LEASE_SECONDS / 3:
            self._last_lease = time.monotonic()
            if not self.hold_lease():
                return 0
            recover_dead_owners()  # leases and runs of workers that ended on this host
        self.housekeeping()
        if self.stop_event.is_set():
            return 0
        jobs = self.claim(BATCH, owner=lambda: f"queued|{uuid.uuid4().hex}", lease=QUEUED_LEASE)
        for job in jobs:
            self.send(job.id, job.lease_owner)
        self.queued += len(jobs)
        return len(jobs)

    def shutdown(self, grace: float = 25.0) -> None:
        """Stop queueing and give the scheduler lease back (a stand-by takes over at once)."""
        super().shutdown(grace)
        with db.session() as s:
            s.exec(update(Job).where(col(Job.key) == LEASE_KEY, col(Job.lease_owner) == self.owner)
                   .values(lease_owner=None, lease_until=None))


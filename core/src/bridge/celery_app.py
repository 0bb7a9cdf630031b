"""The distributed engine: Celery tasks that run the flows (``bridge worker``).

The scheduler (``bridge run --scheduler``, :mod:`bridge.queue_scheduler`) leases each due job
to a *queued* token and sends :func:`job_task`. A worker takes the job's lease from that token
(a message the scheduler sent again after the token's lease ran out finds it gone and does
nothing) and runs it exactly as ``bridge run`` does (:meth:`bridge.scheduler.Scheduler.run_job`:
the same flow code, the same outcome handling: backoff, pausing, retry-after). A flow whose next
run is long (the products flow's full pass, :attr:`bridge.sync.base.FlowSpec.pages`) is cut into
page-sized :func:`page_task` s that any worker runs — the flow for those items, claims and
idempotency keys as always; the task completing the last page (counted in Redis,
:func:`last_page`) then runs the whole flow once (:func:`finish`): it finds them done, sweeps,
retries what waits and keeps the cursor.

Tasks are acknowledged late and rejected when their worker dies, so the broker hands the task
of a killed worker to another one; the killed worker's claims are taken over at once on its
host (:mod:`bridge.sync.links`) or expire elsewhere, its job leases expire too.

Requires PostgreSQL (every worker shares the state), a broker (``broker_url``: Redis or
RabbitMQ) and Redis (``redis_url``: shared rate limits, token refresh, the splits' pages done).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import col

from bridge import config, coordination, db, liveness, scale_metrics
from bridge.errors import BridgeError, Misconfigured, RateLimited, Transient

try:
    from celery import Celery
except ModuleNotFoundError:  # a plain install: bridge run works, scale-out needs the extra
    raise Misconfigured("scale-out (bridge worker, bridge run --scheduler) needs its extra: "
                        "pip install 'bridge-core[scale]'") from None
from bridge.scheduler import LEASE_SECONDS, Scheduler, backoff_seconds
from bridge.sync import base as flows
from bridge.tables import Job, utcnow

log = logging.getLogger("bridge.worker")

#: How long a job split into pages stays leased without news from its page tasks (each renews).
SPLIT_LEASE = 600.0
#: Redis broker: a task not acknowledged within this many seconds is handed out again.
VISIBILITY_TIMEOUT = 900
#: The tasks' names.
JOB, PAGE = "bridge.job", "bridge.page"
#: Page tasks: retries of a transient failure before the page is left to the finishing run.
PAGE_RETRIES = 5

app = Celery("bridge")
"""The configured app (:func:`configure` makes a new one for the settings of the moment)."""


def require_scale_out() -> config.Settings:
    """The settings, checked for scale-out: PostgreSQL, a broker and Redis.

    :raises Misconfigured: one line saying what to set.
    """
    settings = config.load()
    if not db.database_url().startswith("postgresql"):
        raise Misconfigured("scale-out needs PostgreSQL (SQLite serves one process): set "
                            "BRIDGE_DATABASE_URL=postgresql://USER@HOST/DB")
    if not settings.broker_url:
        raise Misconfigured("scale-out needs a broker: set BRIDGE_BROKER_URL=redis://HOST:6379/1 "
                            "or amqp://USER:PASSWORD@HOST:5672//")
    if not settings.redis_url:
        raise Misconfigured("scale-out needs Redis for the limits workers share: set "
                            "BRIDGE_REDIS_URL=redis://HOST:6379/0")
    return settings


def configure(settings: config.Settings | None = None) -> Celery:
    """A new :data:`app` for the configured broker and Redis (see :func:`require_scale_out`),
    with bridge's tasks (a new one: an app keeps the connections of its first broker)."""
    global app
    settings = settings or require_scale_out()
    new = Celery("bridge", set_as_current=False)
    new.conf.update(
        broker_url=settings.broker_url,
        task_ignore_result=True,  # outcomes are in the database; splits are counted in Redis
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT},
        task_default_queue=settings.redis_namespace,  # one queue per deployment
        task_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=True,
        task_send_sent_event=True,
    )
    new.task(name=JOB, bind=True)(job_task)
    new.task(name=PAGE, bind=True, max_retries=None)(page_task)
    app = new
    return new


def queue_job(job_id: int, holder: str) -> None:
    """Send a job leased to ``holder`` to the workers."""
    app.send_task(JOB, args=(job_id, holder, time.time()))


def workers(timeout: float = 1.0) -> list[dict[str, Any]]:
    """The workers answering now, each with the tasks it runs and the jobs those are of."""
    from sqlmodel import select

    active = app.control.inspect(timeout=timeout).active() or {}
    ids = {t["args"][0] for tasks in active.values() for t in tasks if t.get("args")}
    with db.session() as s:
        keys = {j.id: j.key for j in s.exec(select(Job).where(col(Job.id).in_(ids)))} if ids else {}
    return [{"worker": name, "tasks": len(tasks),
             "holds": ", ".join(f"{t['name'].split('.')[-1]} {keys.get(t['args'][0], '?')}"
                                for t in tasks if t.get("args"))}
            for name, tasks in sorted(active.items())]


class WorkerRuntime:
    """What one worker process keeps between tasks: its owner name, the job runner (the
    scheduler's outcome handling, running nothing of its own) and the thread renewing the
    leases of the jobs it runs."""

    def __init__(self) -> None:
        self.owner = liveness.identity("worker")
        self.runner = Scheduler(workers=1, owner=self.owner)
        self.running: dict[int, str] = {}
        self._lock = threading.Lock()
        self._renewer = threading.Thread(target=self._renew_forever, name="bridge-leases", daemon=True)
        self._renewer.start()

    def take(self, job_id: int, holder: str) -> Job | None:
        """The job, its lease moved from ``holder`` to this worker; None when ``holder`` no
        longer holds it (this message was superseded)."""
        with db.session() as s:
            res = s.exec(update(Job).where(col(Job.id) == job_id, col(Job.lease_owner) == holder)
                         .values(lease_owner=self.owner,
                                 lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS)))
            if res.rowcount != 1:
                return None
            job = s.get(Job, job_id)
            if job is not None:
                s.expunge(job)
            return job

    def run(self, job: Job) -> None:
        """Run a taken job as the embedded scheduler would (outcome, backoff, next run)."""
        assert job.id is not None
        with self._lock:
            self.running[job.id] = job.key
        try:
            self.runner.run_job(job)
        finally:
            with self._lock:
                self.running.pop(job.id, None)

    def hand_over(self, job_id: int, holder: str, seconds: float) -> None:
        """Lease the job to ``holder`` (a split's page tasks) for ``seconds``."""
        renew(job_id, holder, seconds, current=self.owner)

    def _renew_forever(self) -> None:
        while True:
            time.sleep(LEASE_SECONDS / 3)
            with self._lock:
                ids = list(self.running)
            if ids:
                try:
                    with db.session() as s:
                        s.exec(update(Job).where(col(Job.id).in_(ids), col(Job.lease_owner) == self.owner)
                               .values(lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS)))
                except Exception:  # noqa: BLE001 - the database away: the next round tries again
                    log.exception("renewing job leases failed")


def renew(job_id: int, holder: str, seconds: float, *, current: str | None = None) -> bool:
    """Extend ``holder``'s lease of a job (or move it from ``current`` to ``holder``)."""
    with db.session() as s:
        res = s.exec(update(Job).where(col(Job.id) == job_id, col(Job.lease_owner) == (current or holder))
                     .values(lease_owner=holder, lease_until=utcnow() + timedelta(seconds=seconds)))
        return bool(res.rowcount == 1)


_runtime: WorkerRuntime | None = None
_runtime_lock = threading.Lock()


def runtime() -> WorkerRuntime:
    """This worker process's :class:`WorkerRuntime` (made on the first task)."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = WorkerRuntime()
        return _runtime


def job_task(self: Any, job_id: int, holder: str, queued_at: float | None = None) -> str:
    """Run one job the scheduler queued under ``holder`` (or cut it into page tasks)."""
    scale_metrics.task_started(JOB, queued_at)
    rt = runtime()
    job = rt.take(job_id, holder)
    if job is None:
        return "superseded"
    if not (job.payload or {}).get("items"):
        try:
            pages = flows.flow_pages(job.flow, job.org_id, job.channel_store_id, pm=rt.runner.pm)  # type: ignore[arg-type]
            ids = [list(p) for p in pages] if pages is not None else []
        except Exception:  # noqa: BLE001 - the whole run reports it, with its outcome handling
            log.warning("job %s: listing its pages failed: running it whole", job.key, exc_info=True)
            ids = []
        if len(ids) > 1:
            split = f"split|{self.request.id}"
            rt.hand_over(job_id, split, SPLIT_LEASE)
            now = time.time()
            for index, page in enumerate(ids):
                self.app.send_task(PAGE, args=(job_id, split, job.flow, job.org_id, job.channel_store_id,
                                               page, index, len(ids), now))
            log.info("job %s cut into %d page tasks", job.key, len(ids))
            return f"split into {len(ids)} pages"
    rt.run(job)
    return "ran"


def page_task(self: Any, job_id: int, holder: str, flow: str, org_id: int,
              channel_store_id: int | None, items: list[str], index: int, total: int,
              queued_at: float | None = None) -> dict[str, Any]:
    """Run ``flow`` for one page of items (the flow's own code, claims and keys as always); the
    task that completes the split's last page then runs the whole flow (:func:`finish`).

    Waits of the platform are retried (as told); a transient failure a few times with backoff;
    any other outcome is reported, never raised: the finishing run meets and handles it."""
    if not self.request.retries:
        scale_metrics.task_started(PAGE, queued_at)
    renew(job_id, holder, SPLIT_LEASE)
    outcome: dict[str, Any] = {"items": len(items)}
    try:
        results = flows.run_flow(flow, org_id, channel_store_id, items=items, pm=runtime().runner.pm)
        outcome["counts"] = dict(sum((Counter(r.counts) for r in results), Counter()))
    except RateLimited as exc:
        raise self.retry(countdown=max(1.0, exc.retry_after)) from None
    except Transient as exc:
        if self.request.retries < PAGE_RETRIES:
            raise self.retry(countdown=backoff_seconds(self.request.retries + 1, base=1.0, cap=60.0)) from None
        outcome["error"] = str(exc)
    except BridgeError as exc:  # needs reconnecting, misconfigured: the finishing run decides
        outcome["error"] = str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug shows in the finishing run's outcome too
        log.exception("page of %s for job %s failed", flow, job_id)
        outcome["error"] = f"{type(exc).__name__}: {exc}"
    renew(job_id, holder, SPLIT_LEASE)
    if last_page(holder, index, total):
        finish(job_id, holder)
    return outcome


def last_page(holder: str, index: int, total: int) -> bool:
    """Record page ``index`` of the split ``holder`` done; True for exactly the call that
    completes all ``total`` (a page run again after its worker died counts once)."""
    client = coordination.redis_client()
    key = coordination.key("split", holder)
    pipe = client.pipeline(transaction=True)
    pipe.sadd(key, index)
    pipe.scard(key)
    pipe.expire(key, int(SPLIT_LEASE * 4))
    added, done, _ = pipe.execute()
    return bool(added) and int(done) == total


def finish(job_id: int, holder: str) -> str:
    """After a split's pages: run the whole flow once (it finds the pages done; sweeps, retries
    what waits, keeps the cursor) and schedule the job's next run."""
    rt = runtime()
    job = rt.take(job_id, holder)
    if job is None:
        return "superseded"
    log.info("job %s: pages done: finishing run", job.key)
    rt.run(job)
    return "ran"

"""The distributed engine: Celery tasks that run the flows (``bridge worker``).

The scheduler (``bridge run --scheduler``, :mod:`bridge.queue_scheduler`) leases each due job
to a *queued* token and sends :func:`job_task`. A worker takes the job's lease from that token
(a message the scheduler sent again after the token's lease ran out finds it gone and does
nothing) and runs it exactly as ``bridge run`` does (:meth:`bridge.scheduler.Scheduler.run_job`:
the same flow code, the same outcome handling: backoff, pausing, retry-after). A flow whose next
run is long (the products flow's full pass, :attr:`bridge.sync.base.FlowSpec.pages`) is read once
by its job task (:func:`read_split`), which sends each page as read as a :func:`page_task` any
worker runs — the flow for that page's products, claims and idempotency keys as always; the task
completing the last page (counted in Redis, :class:`SplitKeys`) then finishes the pass
(:func:`finish`): the products of pages that gave up, the cursor, the sweep, the retries, without
reading the pages again.

Tasks are acknowledged late and rejected when their worker dies, so the broker hands the task
of a killed worker to another one; the killed worker's claims are taken over at once on its
host (:mod:`bridge.sync.links`) or expire elsewhere, its job leases expire too.

Requires PostgreSQL (every worker shares the state), a broker (``broker_url``: Redis or
RabbitMQ) and Redis (``redis_url``: shared rate limits, token refresh, the splits' pages done).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, update
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
from bridge.tables import Job, Store, utcnow

log = logging.getLogger("bridge.worker")

#: How long a job split into pages stays leased without news from its page tasks (each renews).
SPLIT_LEASE = 600.0
#: Redis broker: a task not acknowledged within this many seconds is handed out again.
VISIBILITY_TIMEOUT = 900
#: The tasks' names.
JOB, PAGE = "bridge.job", "bridge.page"
#: Page tasks: retries of a transient failure before the page is left to the finishing run.
PAGE_RETRIES = 5
#: Seconds a split's Redis keys outlive their last use.
SPLIT_KEEP = int(SPLIT_LEASE * 4)

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
        # no task events: nothing of bridge reads them (/metrics asks the broker for the queue's
        # depth and counts each task's wait in Redis, scale_metrics; `bridge status` asks the
        # workers), and each task cost its worker three messages and the scheduler one more
        worker_send_task_events=False,
        task_send_sent_event=False,
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


#: A queued job taken from its token (the SET clause: the parameters' columns), built once.
_TAKE = (update(Job).where(col(Job.id) == bindparam("job_id"), col(Job.lease_owner) == bindparam("holder"))
         .returning(*Job.__table__.columns))  # type: ignore[attr-defined]


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

    def take(self, job_id: int, holder: str, *, prefix: bool = False) -> Job | None:
        """The job, its lease moved from ``holder`` (``prefix``: any holder starting so) to this
        worker; None when ``holder`` no longer holds it (this message was superseded)."""
        until = utcnow() + timedelta(seconds=LEASE_SECONDS)
        if not prefix:  # one statement, built once: the lease moved and the row read back
            with db.get_engine().begin() as conn:
                row = conn.execute(_TAKE, {"job_id": job_id, "holder": holder, "lease_owner": self.owner,
                                           "lease_until": until}).first()
            return None if row is None else Job(**row._mapping)
        with db.session() as s:
            job = s.exec(update(Job).where(col(Job.id) == job_id,
                                           col(Job.lease_owner).startswith(holder, autoescape=True))
                         .values(lease_owner=self.owner, lease_until=until).returning(Job)).scalars().first()
            if job is not None:
                s.expunge(job)
            return job

    def run(self, job: Job, finishing: flows.Finishing | None = None, stores: list[Store] | None = None,
            memo: dict[str, Any] | None = None) -> None:
        """Run a taken job as the embedded scheduler would (outcome, backoff, next run);
        ``stores``, ``memo``: what this task read already (the organization's stores, the
        flow's position: :meth:`bridge.scheduler.Scheduler.run_job`)."""
        assert job.id is not None
        with self._lock:
            self.running[job.id] = job.key
        try:
            self.runner.run_job(job, finishing, stores, memo)
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


def warm_up() -> None:
    """Make this worker's runtime (plugins loaded) and import the flows before any task: a new
    worker's first task spent seconds importing them, the first page of a pass waiting meanwhile."""
    flows.load_builtin_flows()
    runtime()


def job_task(self: Any, job_id: int, holder: str, queued_at: float | None = None) -> str:
    """Run one job the scheduler queued under ``holder``, or, for a full pass, read it once and
    send each page read as a :func:`page_task` (:func:`read_split`)."""
    scale_metrics.task_started(JOB, queued_at)
    rt = runtime()
    # this task again after its worker died while reading a split: the split's lease is its own
    job = rt.take(job_id, holder) or rt.take(job_id, f"split|{self.request.id}|", prefix=True)
    if job is None:
        return "superseded"
    try:  # read once for the task: the position, the run and its outcome all use them
        stores: list[Store] | None = flows.org_stores(job.org_id)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - the run reads them again and handles its outcome
        log.warning("job %s: reading its stores failed", job.key, exc_info=True)
        stores = None
    memo: dict[str, Any] = {}  # what reading the position found, for the run that follows
    if not (job.payload or {}).get("items"):
        try:
            split = flows.flow_pages(job.flow, job.org_id, job.channel_store_id,  # type: ignore[arg-type]
                                     pm=rt.runner.pm, stores=stores, memo=memo)
        except Exception:  # noqa: BLE001 - the whole run reports it, with its outcome handling
            log.warning("job %s: reading its position failed: running it whole", job.key, exc_info=True)
            split, memo = None, {}
        if split is not None:
            return read_split(self.app, rt, job, split, f"split|{self.request.id}|{uuid.uuid4().hex[:8]}")
    rt.run(job, stores=stores, memo=memo)
    return "ran"


def read_split(celery: Celery, rt: WorkerRuntime, job: Job, split: flows.Split, holder: str) -> str:
    """Read a full pass once, sending each page as a :func:`page_task` as soon as it is read
    (other workers handle it meanwhile); the job is leased to the split (``holder``) from the
    first page on. A read failing half-way gives the job back to this worker, which runs it
    whole with the usual outcome handling (the pages sent stay harmless: claims)."""
    assert job.id is not None
    keys = SplitKeys(holder)
    sent, renewed, handed = 0, time.monotonic(), False
    try:
        for index, page in enumerate(split.pages):
            if not handed:
                rt.hand_over(job.id, holder, SPLIT_LEASE)
                handed = True
            keys.seen.add_many(page["items"])
            celery.send_task(PAGE, args=(job.id, holder, job.flow, job.org_id, job.channel_store_id,
                                         page, index, time.time()))
            sent += 1
            if time.monotonic() - renewed > SPLIT_LEASE / 10:  # no page task may be running yet
                renew(job.id, holder, SPLIT_LEASE)
                renewed = time.monotonic()
        end = split.end()
    except Exception:  # noqa: BLE001 - the whole run meets it again and handles its outcome
        log.warning("job %s: reading its pages failed after %d: running it whole", job.key, sent,
                    exc_info=True)
        if handed and rt.take(job.id, holder) is None:  # back from the split (even with no page sent)
            return "superseded"
        rt.run(job)
        return "ran"
    if not sent:
        rt.run(job)
        return "ran"
    log.info("job %s cut into %d page tasks", job.key, sent)
    if keys.read(sent, end):
        finish(job.id, holder)
    return f"split into {sent} pages"


def page_task(self: Any, job_id: int, holder: str, flow: str, org_id: int,
              channel_store_id: int | None, page: dict[str, Any], index: int,
              queued_at: float | None = None) -> dict[str, Any]:
    """Run ``flow`` for one page of a split as it was read (the flow's own code, claims and keys
    as always); the task that completes the split's last page then finishes the pass
    (:func:`finish`).

    Waits of the platform are retried (as told); a transient failure a few times with backoff;
    any other outcome is reported, never raised: the page's items go to the finishing run."""
    if not self.request.retries:
        scale_metrics.task_started(PAGE, queued_at)
    renew(job_id, holder, SPLIT_LEASE)
    items = list(page.get("items") or [])
    outcome: dict[str, Any] = {"items": len(items)}
    try:
        results = flows.run_flow(flow, org_id, channel_store_id, page=page, pm=runtime().runner.pm)
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
    keys = SplitKeys(holder)
    if "error" in outcome and items:
        keys.failed.add_many(items)
    renew(job_id, holder, SPLIT_LEASE)
    if keys.done(index):
        finish(job_id, holder)
    return outcome


class RedisSeen:
    """A set of ids in Redis (:class:`bridge.sync.base.Seen`), shared by a split's tasks."""

    def __init__(self, client: Any, key: str) -> None:
        self.client, self.key = client, key

    def add_many(self, ids: Iterable[str]) -> None:
        """Add ``ids`` (kept as long as the split's other keys)."""
        ids = list(ids)
        if ids:
            pipe = self.client.pipeline(transaction=False)
            pipe.sadd(self.key, *ids)
            pipe.expire(self.key, SPLIT_KEEP)
            pipe.execute()

    def missing(self, ids: list[str]) -> list[str]:
        """Those of ``ids`` not in the set."""
        if not ids:
            return []
        return [i for i, known in zip(ids, self.client.smismember(self.key, ids), strict=True) if not known]

    def members(self) -> list[str]:
        """Every id of the set."""
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in self.client.sscan_iter(self.key))


class SplitKeys:
    """A split's state in Redis: the pages done (indexes), its items, the items of pages that
    gave up, and, once read, the number of pages and the :attr:`bridge.sync.base.Split.end`."""

    def __init__(self, holder: str) -> None:
        self.client = coordination.redis_client()
        self.done_key = coordination.key("split", holder, "done")
        self.total_key = coordination.key("split", holder, "total")
        self.end_key = coordination.key("split", holder, "end")
        self.seen = RedisSeen(self.client, coordination.key("split", holder, "seen"))
        self.failed = RedisSeen(self.client, coordination.key("split", holder, "failed"))

    def done(self, index: int) -> bool:
        """Record page ``index`` done; True when every page is now done and all were read (a
        page run again after its worker died counts once; :func:`finish` lets one finish)."""
        pipe = self.client.pipeline(transaction=True)
        pipe.sadd(self.done_key, index)
        pipe.scard(self.done_key)
        pipe.get(self.total_key)
        pipe.expire(self.done_key, SPLIT_KEEP)
        _, done, total, _ = pipe.execute()
        return total is not None and int(done) == int(total)

    def read(self, total: int, end: dict[str, Any]) -> bool:
        """Record the split read whole: ``total`` pages, its ``end``; True when they are all
        done already."""
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.end_key, json.dumps(end), ex=SPLIT_KEEP)
        pipe.set(self.total_key, total, ex=SPLIT_KEEP)
        pipe.scard(self.done_key)
        _, _, done = pipe.execute()[:3]
        return int(done) == total

    def finishing(self) -> flows.Finishing | None:
        """What the finishing run needs (None: the split's keys are gone, e.g. expired)."""
        raw = self.client.get(self.end_key)
        if raw is None:
            return None
        return flows.Finishing(end=json.loads(raw), seen=self.seen, failed=self.failed.members())

    def drop(self) -> None:
        """Remove the split's keys (finished)."""
        self.client.delete(self.done_key, self.total_key, self.end_key, self.seen.key, self.failed.key)


def finish(job_id: int, holder: str) -> str:
    """After a split's pages: finish the pass once (:attr:`bridge.sync.base.FlowContext.finishing`:
    the items of pages that gave up, the cursor, the sweep, the retries; nothing read again) and
    schedule the job's next run. The first caller takes the job from the split; others find it
    gone."""
    rt = runtime()
    job = rt.take(job_id, holder)
    if job is None:
        return "superseded"
    keys = SplitKeys(holder)
    try:
        done = keys.finishing()
        if done is None:  # what the pages saw is lost: the whole flow again (it finds them done)
            log.warning("job %s: the split's state is gone from Redis: running the flow whole", job.key)
        else:
            log.info("job %s: pages done: finishing the pass", job.key)
        rt.run(job, done)
    finally:
        keys.drop()
    return "ran"

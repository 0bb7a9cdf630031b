"""What is due, leases, backoff — knows no platform.

Jobs live in the ``jobs`` table (one per flow and store pair). A process claims a due job by a
conditional UPDATE on its lease, so two ``bridge run`` processes on one database never run the
same job at the same time. Failures back off exponentially with jitter (capped);
``NeedsReconnect`` pauses the store's jobs; ``RateLimited`` waits as told.

Idle back-off: a polled run that finds nothing to do, for a store pair whose webhooks are live,
doubles the wait before the next run (``interval x 2`` per idle run in a row, capped at
``interval.idle_max``, 900 s by default); the webhooks bring changes at once meanwhile. A run
that did something, a webhook's trigger, a manual ``bridge sync`` or webhooks found not live
brings the job back to its interval. The count of idle runs is kept in the job's payload
(``idle``). Without live webhooks polling is the only way to see changes: nothing is stretched.
"""

from __future__ import annotations

import contextlib
import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import String, bindparam, cast, or_, update
from sqlmodel import col, select

from bridge import config, db, journal, liveness
from bridge.errors import Misconfigured, NeedsReconnect, RateLimited, Transient
from bridge.plugins import PluginManager, get_manager
from bridge.shutdown import stopping
from bridge.statuses import RunStatus, StoreStatus
from bridge.stores import auth_accepted, judge_auth_refusal
from bridge.sync import base as flows
from bridge.tables import Job, Store, utcnow

log = logging.getLogger("bridge.scheduler")

#: Held while a job's payload (the items webhooks named) is read and changed: a trigger arriving
#: as a run ends must not be cleared with the payload that run handled (in one process; across
#: processes a trigger in that window waits for the next run of the flow).
_payload_lock = threading.Lock()

LEASE_SECONDS = 60
BACKOFF_BASE = 5.0
BACKOFF_CAP = 900.0
MISCONFIGURED_RETRY = 300.0
AUTH_WARNING_DAYS = (30, 7, 1)
#: Seconds between reconciles of the stores' webhook subscriptions (the first runs at start).
RECONCILE_EVERY = 24 * 3600.0
#: Seconds between alert checks (conditions found, alerts sent; the first runs at start).
ALERTS_EVERY = 60.0


#: Statements of a run's end, built once: the SET clause is the parameters' columns (building
#: a statement anew for every run cost a worker more CPU than running it).
_PAYLOAD_OF = select(Job.payload).where(col(Job.id) == bindparam("job_id")).with_for_update()
_JOB = update(Job).where(col(Job.id) == bindparam("job_id"))
_JOB_HELD = _JOB.where(col(Job.lease_owner) == bindparam("holder"))

#: :meth:`Scheduler.claim`'s statement, built once: the due jobs still unleased (the longest
#: due first, those another process is leasing skipped), leased to one owner or each to a
#: token of its own (a prefix and the job's id), the rows returned.
_FREE = or_(col(Job.lease_until).is_(None), col(Job.lease_until) < bindparam("now"))
_DUE = (select(Job.id).where(col(Job.paused) == False, col(Job.next_run_at) <= bindparam("now"), _FREE)  # noqa: E712
        .order_by(col(Job.next_run_at)).limit(bindparam("limit")).with_for_update(skip_locked=True))
_CLAIM = (update(Job).where(col(Job.id).in_(_DUE.scalar_subquery()), _FREE)
          .returning(*Job.__table__.columns))  # type: ignore[attr-defined]
_CLAIM_AS = _CLAIM.values(lease_owner=bindparam("owner"), lease_until=bindparam("until"))
_CLAIM_TOKENS = _CLAIM.values(lease_owner=bindparam("prefix", type_=String) + cast(col(Job.id), String),
                              lease_until=bindparam("until"))

#: Most idle runs counted in a row (2**20 times any interval is past any cap).
IDLE_RUNS_MAX = 20


def idle_delay(interval: int, idle: int, cap: int) -> int:
    """Seconds to the next run of a job with ``interval`` after ``idle`` idle runs in a row
    (webhooks live): ``interval x 2**idle`` capped at ``cap``, never below ``interval``."""
    if idle <= 0:
        return interval
    return max(interval, min(cap, interval * 2 ** min(idle, IDLE_RUNS_MAX)))


def idle_cap(retried: bool = True) -> int:
    """The longest an idle job's interval is stretched to: ``interval.idle_max`` when every
    platform of the pair delivers a notification again after a failed delivery (``retried``),
    else at most ``interval.idle_max_unretried`` (a lost delivery is then only seen by polling)."""
    settings = config.load()
    if retried:
        return settings.interval_idle_max
    return min(settings.interval_idle_max, settings.interval_idle_max_unretried)


def found_nothing(results: list[flows.RunResult]) -> bool:
    """True when every run succeeded and decided no action (nothing written, nothing failed)."""
    return all(r.status == RunStatus.OK and not r.errors and not r.counts.get("failed")
               and not any(k.startswith("plan.") and v for k, v in r.counts.items())
               for r in results)


def webhooks_live(stores: list[Store]) -> bool:
    """True when every store is subscribed to all the topics its flows need (as the last
    reconcile of :mod:`bridge.subscriptions` found): changes then arrive by webhook."""
    if not stores:
        return False
    for st in stores:
        hooks = (st.details or {}).get("webhooks") or {}
        if hooks.get("mode") != "webhooks" or hooks.get("missing"):
            return False
    return True


def reset_idle(org_id: int, flow: str | None = None, channel_store_id: int | None = None) -> int:
    """Bring an organization's idle-stretched jobs (one flow's, one shop's, when given) back to
    their interval: due at most ``interval`` seconds from now. Returns the jobs changed."""
    now = utcnow()
    with _payload_lock, db.session() as s:
        q = select(Job).where(Job.org_id == org_id, Job.paused == False)  # noqa: E712
        if flow is not None:
            q = q.where(Job.flow == flow)
        if channel_store_id is not None:
            q = q.where(or_(Job.channel_store_id == channel_store_id, Job.channel_store_id == None))  # noqa: E711
        changed = 0
        for job in s.exec(q):
            if not (job.payload or {}).get("idle"):
                continue
            payload = dict(job.payload or {})
            payload.pop("idle", None)
            job.payload = payload
            job.next_run_at = min(job.next_run_at, now + timedelta(seconds=job.interval_s))
            s.add(job)
            changed += 1
    return changed


def backoff_seconds(failures: int, *, base: float = BACKOFF_BASE, cap: float = BACKOFF_CAP) -> float:
    """Exponential backoff with full jitter in [50%, 100%] of the capped delay."""
    delay = min(cap, base * 2 ** max(0, failures - 1))
    return delay * (0.5 + random.random() / 2)


class Scheduler:
    """Claims due jobs and runs them on a pool of worker threads."""

    def __init__(self, *, workers: int = 4, pm: PluginManager | None = None,
                 owner: str | None = None, tick: float = 0.5) -> None:
        self.workers = workers
        self.pm = pm or get_manager()
        self.owner = owner or liveness.identity(f"{id(self):x}")
        self.tick = tick
        self.stop_event = threading.Event()
        stopping.clear()  # a scheduler made after an earlier one shut down starts un-stopped
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bridge-worker")
        self.running: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._last_refresh = 0.0
        self._last_reconcile: float | None = None
        self._last_alerts: float | None = None
        self.alerts_thread: threading.Thread | None = None
        self.runs = 0

    # ------------------------------------------------------------------ job table

    def refresh_jobs(self) -> None:
        """Create jobs for every organization's store pairs; drop jobs that no longer apply.

        Two reads whatever the number of organizations (their connected stores, the jobs), and
        writes only what differs: the scheduler runs it every 30 seconds."""
        intervals = flows.flow_intervals()
        with db.session() as s:  # the columns the jobs depend on, not whole stores (credentials, details)
            by_org: dict[int, list[Any]] = {}
            for st in s.exec(select(Store.id, Store.org_id, Store.kind, Store.options)
                             .where(col(Store.status) != StoreStatus.DISCONNECTED).order_by(col(Store.id))):
                by_org.setdefault(st.org_id, []).append(st)
        wanted: dict[str, tuple[str, int, int | None, int]] = {}
        for org_id, stores in by_org.items():
            for key, flow, channel_id, interval in flows.jobs_for_stores(org_id, stores, intervals):
                wanted[key] = (flow, org_id, channel_id, interval)
        with db.session() as s:
            existing = {key: (job_id, interval, paused, owner) for key, job_id, interval, paused, owner in s.exec(
                select(Job.key, Job.id, Job.interval_s, Job.paused, Job.lease_owner))}
            new: list[dict[str, Any]] = []
            for key, (flow, org_id, channel_id, interval) in wanted.items():
                have = existing.get(key)
                if have is None:
                    new.append(Job(key=key, flow=flow, org_id=org_id, channel_store_id=channel_id,
                                   interval_s=interval).model_dump(exclude={"id"}))
                elif have[1] != interval:
                    s.exec(update(Job).where(Job.id == have[0]).values(interval_s=interval))  # type: ignore[call-overload]
            gone = [job_id for key, (job_id, _, paused, owner) in existing.items()
                    if key not in wanted and not paused and owner is None]
            if gone:
                s.exec(update(Job).where(Job.id.in_(gone)).values(paused=True))  # type: ignore[attr-defined,call-overload]
            db.insert_missing(s, Job, new, keys=("key",))
        self._last_refresh = time.monotonic()

    def recover(self) -> dict[str, int]:
        """Give back what a killed process held: job leases and ``running`` runs whose owner is
        known to be dead (:mod:`bridge.liveness`) are released / marked aborted at once."""
        return recover_dead_owners()

    def claim(self, limit: int, *, owner: Callable[[], str] | None = None,
              lease: float = LEASE_SECONDS) -> list[Job]:
        """Lease up to ``limit`` due jobs (the longest due first) for ``lease`` seconds, in one
        statement: an UPDATE of the due jobs still unleased, returning them (a job another
        process leases meanwhile is skipped, never taken twice). Each job's lease holder is this
        scheduler, or, with ``owner``, a token of its own: ``owner()`` (called once per claim)
        followed by ``|`` and the job's id."""
        now = utcnow()
        params: dict[str, Any] = {"now": now, "limit": limit, "until": now + timedelta(seconds=lease)}
        if owner is None:
            stmt, params["owner"] = _CLAIM_AS, self.owner
        else:
            stmt, params["prefix"] = _CLAIM_TOKENS, owner() + "|"
        with db.get_engine().begin() as conn:
            claimed = [Job(**row._mapping) for row in conn.execute(stmt, params)]
        claimed.sort(key=lambda j: (j.next_run_at, j.id or 0))
        return claimed

    def renew_leases(self) -> None:
        with self._lock:
            ids = list(self.running)
        if not ids:
            return
        with db.session() as s:
            s.exec(update(Job).where(Job.id.in_(ids), Job.lease_owner == self.owner)  # type: ignore[attr-defined,call-overload]
                   .values(lease_until=utcnow() + timedelta(seconds=LEASE_SECONDS)))

    def _finish(self, job_id: int, *, delay: float, failures: int | None = None,
                error: str | None = None, paused: bool | None = None) -> None:
        values: dict[str, Any] = {
            "lease_owner": None, "lease_until": None, "last_run_at": utcnow(),
            "next_run_at": utcnow() + timedelta(seconds=delay), "last_error": error,
        }
        if failures is not None:
            values["failures"] = failures
        if paused is not None:
            values["paused"] = paused
        with db.session() as s:
            s.exec(update(Job).where(Job.id == job_id, Job.lease_owner == self.owner).values(**values))  # type: ignore[call-overload]

    # ------------------------------------------------------------------ running

    def run_job(self, job: Job, finishing: flows.Finishing | None = None,
                stores: list[Store] | None = None, memo: dict[str, Any] | None = None) -> None:
        """Run one claimed job and schedule its next run according to the outcome
        (``finishing``: only finish a full pass whose pages workers did, scale-out;
        ``stores``: the organization's stores as :func:`bridge.sync.base.org_stores` read them
        for this run, else read here; ``memo``: what the task read to find the flow's position,
        :attr:`bridge.sync.base.FlowContext.memo`)."""
        assert job.id is not None
        items = (job.payload or {}).get("items")
        try:
            results = flows.run_flow(job.flow, job.org_id, job.channel_store_id,  # type: ignore[arg-type]
                                     pm=self.pm, items=items, finishing=finishing, stores=stores, memo=memo)
        except NeedsReconnect as exc:
            if judge_auth_refusal(exc):  # the platform's final word, or refused again and again
                self._finish(job.id, delay=job.interval_s, error=str(exc), paused=True)
            else:  # one refusal may be transient: retried with backoff, the store not marked
                self._finish(job.id, delay=backoff_seconds(job.failures + 1),
                             failures=job.failures + 1, error=str(exc))
        except RateLimited as exc:
            self._finish(job.id, delay=exc.retry_after, error=str(exc))
        except Misconfigured as exc:
            self._finish(job.id, delay=MISCONFIGURED_RETRY, failures=job.failures + 1, error=str(exc))
        except Transient as exc:
            self._finish(job.id, delay=backoff_seconds(job.failures + 1),
                         failures=job.failures + 1, error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug in one flow must not kill the daemon
            log.exception("job %s failed", job.key)
            self._finish(job.id, delay=backoff_seconds(job.failures + 1),
                         failures=job.failures + 1, error=f"{type(exc).__name__}: {exc}")
        else:
            idle, cap = (0, 0) if finishing is not None else self._idle_runs(job, results, stores)
            self._finish_ok(job, delay=idle_delay(job.interval_s, idle, cap), idle=idle)
            if job.failures:
                auth_accepted(self._job_store_ids(job))
            if idle and idle_delay(job.interval_s, idle, cap) == cap > idle_delay(job.interval_s, idle - 1, cap):
                journal.record("job.idle", f"{job.flow}: nothing to do and webhooks live, polled every "
                               f"{cap} s instead of {job.interval_s} s until something changes",
                               org_id=job.org_id, store_id=job.channel_store_id, flow=job.flow,
                               data={"interval": job.interval_s, "effective": cap, "idle_runs": idle})
        finally:
            self.runs += 1

    def _finish_ok(self, job: Job, *, delay: float, idle: int) -> None:
        """Schedule a successful run's next one (as :meth:`_finish`, failures reset) and keep
        its idle count, in one transaction: the job's row is read (locked where the database
        can) and written once. A webhook's trigger is never cleared unseen: one that came while
        the job ran (``triggered_at`` changed) keeps its payload and makes the job due now."""
        assert job.id is not None
        now = utcnow()
        with _payload_lock, db.get_engine().begin() as conn:
            payload = conn.execute(_PAYLOAD_OF, {"job_id": job.id}).scalar()
            seen = (job.payload or {}).get("triggered_at")
            again: dict[str, Any]
            if (payload or {}).get("triggered_at") not in (None, seen):
                again = {"next_run_at": now}  # triggered again while running: run again now
            else:
                again = {"payload": {"idle": idle} if idle else {}}
            finish = {"lease_owner": None, "lease_until": None, "last_run_at": now,
                      "next_run_at": now + timedelta(seconds=delay), "last_error": None, "failures": 0}
            res = conn.execute(_JOB_HELD, {"job_id": job.id, "holder": self.owner, **finish, **again})
            if res.rowcount != 1:  # the lease went elsewhere meanwhile: the payload all the same
                conn.execute(_JOB, {"job_id": job.id, **again})

    def _idle_runs(self, job: Job, results: list[flows.RunResult],
                   stores: list[Store] | None = None) -> tuple[int, int]:
        """(idle runs in a row after this one, the cap of the stretched interval): 0 when the
        run was triggered by a webhook, did something, or the pair's webhooks are not live (a
        split's finishing run never counts: its pages' work is not in its results)."""
        payload = job.payload or {}
        if payload.get("triggered_at") or payload.get("items") or not found_nothing(results):
            return 0, 0
        pair = self._job_stores(job, stores)
        cap = idle_cap(retried=all(self._retries_deliveries(st.platform) for st in pair))
        if cap <= job.interval_s or not webhooks_live(pair):
            return 0, cap
        return min(int(payload.get("idle") or 0) + 1, IDLE_RUNS_MAX), cap

    def _retries_deliveries(self, platform: str) -> bool:
        """True when ``platform``'s plugin says it delivers a notification again after a failed
        delivery (:attr:`bridge.models.PlatformInfo.webhook_retries`); False when it does not
        or is not installed."""
        loaded = self.pm.platform_plugin(platform, strict=False)
        return bool(loaded is not None and loaded.platform is not None and loaded.platform.webhook_retries)

    def _job_stores(self, job: Job, stores: list[Store] | None = None) -> list[Store]:
        """The stores a job works with: its channel store and the eCommerce store, or, for a
        per-organization job, every active store of the organization (of ``stores``, the
        organization's stores as read for the run, when given)."""
        if stores is None:
            with db.session() as s:
                q = select(Store).where(Store.org_id == job.org_id, Store.status == StoreStatus.ACTIVE)
                stores = list(s.exec(q))
        return [st for st in stores if st.status == StoreStatus.ACTIVE and st.org_id == job.org_id
                and (job.channel_store_id is None or st.kind == "ecommerce" or st.id == job.channel_store_id)]

    def _job_store_ids(self, job: Job) -> list[int]:
        """The ids of :meth:`_job_stores`."""
        return [st.id for st in self._job_stores(job)]  # type: ignore[misc]

    def _done(self, job_id: int, _fut: Future) -> None:
        with self._lock:
            self.running.pop(job_id, None)

    def step(self) -> int:
        """Claim and start as many due jobs as there are free workers; returns how many."""
        self.housekeeping()
        with self._lock:
            free = self.workers - len(self.running)
        if free <= 0 or self.stop_event.is_set():
            return 0
        jobs = self.claim(free)
        for job in jobs:
            fut = self.pool.submit(self.run_job, job)
            with self._lock:
                self.running[job.id] = fut  # type: ignore[index]
            fut.add_done_callback(lambda f, jid=job.id: self._done(jid, f))  # type: ignore[misc]
        return len(jobs)

    def housekeeping(self) -> None:
        """What the scheduler does besides jobs, each when due: the job table refreshed and
        authorization ends checked (30 s), subscriptions reconciled (daily), alerts (a minute)."""
        if time.monotonic() - self._last_refresh > 30:
            self.refresh_jobs()
            check_auth_expiry()
        if self._last_reconcile is None or time.monotonic() - self._last_reconcile > RECONCILE_EVERY:
            self._last_reconcile = time.monotonic()
            self.reconcile_subscriptions()
        if self._last_alerts is None or time.monotonic() - self._last_alerts > ALERTS_EVERY:
            self._last_alerts = time.monotonic()
            self.check_alerts()

    def reconcile_subscriptions(self) -> threading.Thread:
        """Reconcile every store's webhook subscriptions (at start, then daily) in a thread of
        its own: a slow platform never delays the jobs."""
        from bridge import subscriptions

        t = threading.Thread(target=subscriptions.reconcile_all, kwargs={"pm": self.pm},
                             name="bridge-subscriptions", daemon=True)
        t.start()
        self.reconcile_thread = t
        return t

    def check_alerts(self) -> threading.Thread | None:
        """Send the alerts due (:mod:`bridge.alerts`) in a thread of its own: a slow or dead
        SMTP server or webhook never holds a job; a check still going is not doubled."""
        from bridge import alerts

        if self.alerts_thread is not None and self.alerts_thread.is_alive():
            return None
        t = threading.Thread(target=alerts.check_quietly, kwargs={"owner": self.owner},
                             name="bridge-alerts", daemon=True)
        t.start()
        self.alerts_thread = t
        return t

    def run_forever(self, *, max_runtime: float | None = None) -> None:
        """Loop until :meth:`stop`; renews leases of running jobs as it goes."""
        self.refresh_jobs()
        started = time.monotonic()
        last_renew = time.monotonic()
        while not self.stop_event.is_set():
            self.step()
            if time.monotonic() - last_renew > LEASE_SECONDS / 3:
                self.renew_leases()
                last_renew = time.monotonic()
            if max_runtime is not None and time.monotonic() - started > max_runtime:
                break
            self.stop_event.wait(self.tick)
        self.shutdown()

    def stop(self) -> None:
        self.stop_event.set()

    def install_signal_handlers(self, then: Callable[[], None] | None = None) -> None:
        """SIGINT/SIGTERM: take no new jobs, let running ones finish their item, then exit;
        ``then`` stops what else the process serves (the admin pages' server)."""

        def on_signal(signum: int, _frame: object) -> None:
            log.warning("signal %s: finishing running jobs, then stopping", signum)
            stopping.set()
            self.stop()
            if then is not None:
                then()

        signal.signal(signal.SIGINT, on_signal)
        signal.signal(signal.SIGTERM, on_signal)

    def shutdown(self, grace: float = 25.0) -> None:
        """Take no new jobs; let running ones finish their current item; release leases.

        The process-wide ``stopping`` signal is cleared again once every running job has finished:
        a flow run later in the same process (an embedding program, the next test) is not told
        to stop. It stays set while a job outlives ``grace``, so that job still stops."""
        self.stop_event.set()
        stopping.set()
        deadline = time.monotonic() + grace
        with self._lock:
            futures = list(self.running.values())
        for fut in futures:
            with contextlib.suppress(Exception):  # already recorded by run_job
                fut.result(timeout=max(0.1, deadline - time.monotonic()))
        self.pool.shutdown(wait=False, cancel_futures=True)
        if all(fut.done() for fut in futures):
            stopping.clear()
        with db.session() as s:
            s.exec(update(Job).where(Job.lease_owner == self.owner)  # type: ignore[call-overload]
                   .values(lease_owner=None, lease_until=None))


def recover_dead_owners() -> dict[str, int]:
    """Release job leases and abort ``running`` runs of processes known to be dead; returns
    how many of each. Runs from before owners were recorded count as dead after an hour."""
    from bridge.tables import SyncRun

    now = utcnow()
    with db.session() as s:
        jobs = [j for j in s.exec(select(Job).where(Job.lease_owner != None))  # noqa: E711
                if liveness.is_dead(j.lease_owner)]
        for j in jobs:
            s.exec(update(Job).where(Job.id == j.id, Job.lease_owner == j.lease_owner)  # type: ignore[call-overload]
                   .values(lease_owner=None, lease_until=None, next_run_at=now))
        runs = [r for r in s.exec(select(SyncRun).where(SyncRun.status == RunStatus.RUNNING))
                if liveness.is_dead(r.owner)
                or (r.owner is None and r.started_at < now - timedelta(hours=1))]
        for r in runs:
            r.status = RunStatus.ABORTED
            r.finished_at = now
            r.error = "the process running it ended before it finished (killed or crashed); " \
                      "the next run picks up from the saved cursor"
            s.add(r)
    for r in runs:
        journal.record("run.aborted", f"{r.flow} run {r.id} was left running by a process that "
                       "ended: marked aborted", org_id=r.org_id, store_id=r.channel_store_id or r.store_id,
                       flow=r.flow, level="warning")
    if jobs or runs:
        log.warning("recovered %d job lease(s) and %d run(s) of ended processes", len(jobs), len(runs))
    return {"leases": len(jobs), "runs": len(runs)}


def trigger(flow: str, org_id: int, channel_store_id: int | None = None,
            items: list[str] | None = None) -> int:
    """Make a flow's jobs due now (a webhook named changed items); returns jobs touched."""
    with _payload_lock, db.session() as s:
        q = select(Job).where(Job.flow == flow, Job.org_id == org_id, Job.paused == False)  # noqa: E712
        if channel_store_id is not None:
            q = q.where(Job.channel_store_id == channel_store_id)
        jobs = list(s.exec(q))
        for job in jobs:
            payload = dict(job.payload or {})
            if items is not None:
                merged = set(payload.get("items") or []) | set(items)
                payload["items"] = sorted(merged)
            else:
                payload.pop("items", None)
            payload.pop("idle", None)  # a change arrived: back to the flow's interval
            payload["triggered_at"] = utcnow().isoformat()
            job.payload = payload
            job.next_run_at = utcnow()
            s.add(job)
    return len(jobs)


def check_auth_expiry() -> None:
    """Journal a warning 30, 7 and 1 days before a store's authorization ends: once per
    threshold, and once only when several thresholds are crossed at the same check."""
    now = utcnow()
    with db.session() as s:  # only those within the longest warning: the others cross nothing
        stores = list(s.exec(select(Store).where(
            col(Store.auth_expires_at).is_not(None), col(Store.status) == StoreStatus.ACTIVE,
            col(Store.auth_expires_at) <= now + timedelta(days=max(AUTH_WARNING_DAYS)))))
        for st in stores:
            left = (st.auth_expires_at - now).total_seconds() / 86400  # type: ignore[operator]
            warned = set((st.details or {}).get("auth_warned", []))
            crossed = [d for d in AUTH_WARNING_DAYS if left <= d and d not in warned]
            # thresholds crossed at once (a store connected 5 days before its end) warn once
            if crossed:
                journal.record(
                    "store.auth_expiring",
                    f"authorization of '{st.name}' ends in {max(0, int(left))} day(s): "
                    "reconnect the store to renew it",
                    org_id=st.org_id, store_id=st.id, level="warning", data={"days": min(crossed)},
                    session=s,
                )
            warned |= set(crossed)
            if warned != set((st.details or {}).get("auth_warned", [])):
                st.details = {**(st.details or {}), "auth_warned": sorted(warned)}
                s.add(st)

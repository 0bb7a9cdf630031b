"""What a worker's flow run that finds nothing costs the database (issue 20: 1,000 idle store
pairs): the organization's stores read once per task, the job's row taken and finished in one
statement / one transaction, an unchanged cursor not written again, pooled connections pinged
only after idling; and no Celery task events (nothing reads them)."""

from __future__ import annotations

import time
from typing import Any

import pytest


class _Task:
    class request:  # noqa: N801 - Celery's attribute name
        id = "test-empty-run"


class _Statements:
    """The SQL statements an engine runs, and its pool checkouts (sessions)."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.engine = engine
        self.statements: list[str] = []
        self.checkouts = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine.pool, "checkout", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split()))

    def _checkout(self, *_: Any) -> None:
        self.checkouts += 1

    def count(self, start: str, table: str) -> int:
        return sum(1 for s in self.statements if s.startswith(start) and f" {table} " in f"{s} ")

    def close(self) -> None:
        from sqlalchemy import event

        event.remove(self.engine, "before_cursor_execute", self._statement)
        event.remove(self.engine.pool, "checkout", self._checkout)


def _queue_all(sched: Any, sent: list[tuple[int, str]]) -> list[tuple[int, str]]:
    from sqlmodel import col, update

    from bridge import db
    from bridge.tables import Job, utcnow

    with db.session() as s:
        s.exec(update(Job).where(col(Job.key) != "scheduler").values(next_run_at=utcnow()))
    sent.clear()
    sched.step()
    return list(sent)


@pytest.mark.postgres
def test_an_empty_run_reads_its_stores_once_and_writes_its_job_once(pg_url, redis_url, fake_pair, monkeypatch):
    from bridge import celery_app, db
    from bridge.queue_scheduler import QueueScheduler

    monkeypatch.setenv("BRIDGE_BROKER_URL", redis_url)
    monkeypatch.setattr(celery_app, "_runtime", None)
    celery_app.configure()
    sent: list[tuple[int, str]] = []
    sched = QueueScheduler(send=lambda job_id, holder: sent.append((job_id, holder)), pm=fake_pair.pm)
    rt = celery_app.runtime()
    rt.runner.pm = fake_pair.pm
    for job_id, holder in _queue_all(sched, sent):  # the initial sync, whole (not split)
        job = rt.take(job_id, holder)
        assert job is not None
        rt.run(job)
    jobs = _queue_all(sched, sent)
    assert len(jobs) >= 5
    for job_id, holder in jobs:
        seen = _Statements(db.get_engine())
        try:
            assert celery_app.job_task(_Task(), job_id, holder, time.time()) == "ran"
        finally:
            seen.close()
        what = f"job {job_id}:\n" + "\n".join(seen.statements)
        assert seen.count("SELECT", "stores") == 1, what  # flow_pages, run_flow, the outcome: one read
        assert seen.count("UPDATE", "jobs") == 2, what  # taken (RETURNING the row), then finished
        assert seen.count("SELECT", "jobs") == 1, what  # the payload, read as it is finished
        assert seen.count("INSERT", "sync_runs") == seen.count("UPDATE", "sync_runs") == 1, what
        assert seen.count("SELECT", "sync_runs") == 0, what
        assert seen.count("INSERT", "sync_cursors") == 0, what  # no cursor moved: none written
        assert seen.checkouts <= 9, what  # 12 to 20 before (issue 20)


@pytest.mark.postgres
def test_a_pooled_connection_is_pinged_only_after_idling_and_replaced_when_dead(pg_url, monkeypatch):
    from sqlalchemy import create_engine, event, text
    from sqlalchemy.pool import NullPool

    from bridge import db

    engine = db.get_engine()
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def ping(conn: Any) -> bool:
        pings.append(1)
        return bool(real_ping(conn))

    monkeypatch.setattr(engine.dialect, "do_ping", ping)
    with db.session() as s:
        first = s.exec(text("SELECT pg_backend_pid()")).scalar_one()
    with db.session() as s:  # back in the pool a moment ago: used as it is
        assert s.exec(text("SELECT pg_backend_pid()")).scalar_one() == first
    assert pings == []
    monkeypatch.setattr(db, "PING_IDLE_S", 0.0)
    with db.session() as s:  # idled "long": tried first
        assert s.exec(text("SELECT pg_backend_pid()")).scalar_one() == first
    assert len(pings) == 1
    admin = create_engine("postgresql+psycopg://" + pg_url.split("://", 1)[1], poolclass=NullPool)
    with admin.connect() as other:  # the server drops the pooled connection
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
        other.commit()
    admin.dispose()
    replaced: list[int] = []
    event.listen(engine.pool, "connect", lambda *_: replaced.append(1))
    with db.session() as s:  # found dead by the ping: another connection, no error
        assert s.exec(text("SELECT pg_backend_pid()")).scalar_one() != first
    assert replaced


def test_the_workers_send_no_task_events(monkeypatch):
    pytest.importorskip("celery", reason="bridge-core[scale] is not installed")
    from bridge import celery_app, config

    monkeypatch.setenv("BRIDGE_BROKER_URL", "redis://127.0.0.1:1/0")
    app = celery_app.configure(config.load())
    assert app.conf.worker_send_task_events is False and app.conf.task_send_sent_event is False


@pytest.mark.postgres
def test_the_scheduler_leases_the_due_jobs_in_one_statement(pg_url, fake_pair):
    from sqlmodel import col, update

    from bridge import db
    from bridge.queue_scheduler import QueueScheduler
    from bridge.tables import Job, utcnow

    sched = QueueScheduler(send=lambda *_: None, pm=fake_pair.pm)
    sched.step()  # the scheduler lease, the jobs made (and queued)
    sched.reconcile_thread.join(30)  # its threads done: the statements counted are the claim's
    if sched.alerts_thread is not None:
        sched.alerts_thread.join(30)
    with db.session() as s:  # every job due and free again
        s.exec(update(Job).where(col(Job.key) != "scheduler")
               .values(lease_owner=None, lease_until=None, next_run_at=utcnow()))
    seen = _Statements(db.get_engine())
    try:
        claimed = sched.claim(100, owner=lambda: "queued|batch")
    finally:
        seen.close()
    assert [s.split()[0] for s in seen.statements] == ["UPDATE"], seen.statements  # a SELECT + one each before
    assert len(claimed) >= 5
    assert all(job.lease_owner == f"queued|batch|{job.id}" for job in claimed)  # a token per job
    assert sched.claim(100) == []  # leased: not claimed twice


@pytest.mark.postgres
def test_a_split_whose_first_page_cannot_be_sent_is_run_whole_and_finished(pg_url, redis_url, fake_pair, monkeypatch):
    """The job is handed to its split before the first page is sent; when that send fails (the
    broker away) the worker takes the job back and runs it whole: its lease is not left to the
    split until it expires."""
    from sqlmodel import col, select

    from bridge import celery_app, db
    from bridge.queue_scheduler import QueueScheduler
    from bridge.sync import base as flows
    from bridge.tables import Job

    monkeypatch.setenv("BRIDGE_BROKER_URL", redis_url)
    monkeypatch.setattr(celery_app, "_runtime", None)
    sent: list[tuple[int, str]] = []
    sched = QueueScheduler(send=lambda job_id, holder: sent.append((job_id, holder)), pm=fake_pair.pm)
    rt = celery_app.runtime()
    rt.runner.pm = fake_pair.pm
    sched.step()
    with db.session() as s:
        products = s.exec(select(Job.id).where(col(Job.flow) == "products")).one()
    job = rt.take(products, dict(sent)[products])
    assert job is not None

    class Broker:
        def send_task(self, *_: Any, **__: Any) -> None:
            raise ConnectionError("broker away")

    split = flows.Split(pages=iter([{"items": ["p1"]}]), end=dict)
    assert celery_app.read_split(Broker(), rt, job, split, "split|t|0") == "ran"  # type: ignore[arg-type]
    with db.session() as s:
        row = s.get(Job, products)
        assert row is not None and row.lease_owner is None and row.last_run_at is not None

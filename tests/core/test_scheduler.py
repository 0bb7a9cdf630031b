"""Scheduler: leases across processes, backoff, error handling, graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlmodel import select

from bridge import db, scheduler, stores
from bridge.errors import NeedsReconnect, RateLimited, Transient
from bridge.models import StoreInfo
from bridge.sync import base as flows
from bridge.tables import Job, Store, utcnow

ROOT = Path(__file__).resolve().parents[2]


def make_orgs(pm, n: int) -> list[int]:
    ids = []
    for i in range(n):
        org = stores.create_org(f"org{i}")
        stores.save_store(org, "fakeshop", StoreInfo(remote_id=f"s{i}", name=f"s{i}", currency="GBP"), pm)
        stores.save_store(org, "fakechannel", StoreInfo(remote_id=f"c{i}", name=f"c{i}", currency="GBP",
                                                        region="GB"), pm)
        ids.append(org.id)
    return ids


@pytest.fixture()
def probe_flow(monkeypatch):
    calls: list[int] = []
    behaviour: dict[str, BaseException | None] = {"raise": None}

    def probe(ctx):  # type: ignore[no-untyped-def]
        calls.append(ctx.org_id)
        if behaviour["raise"] is not None:
            raise behaviour["raise"]

    monkeypatch.setattr(flows, "BUILTIN_FLOW_MODULES", ())
    monkeypatch.setattr(flows, "FLOWS", {})
    flows.register_flow("probe", probe, interval_key="interval.probe", per_channel=False)
    return calls, behaviour


def test_backoff_grows_and_is_capped():
    assert 2.5 <= scheduler.backoff_seconds(1) <= 5
    assert 20 <= scheduler.backoff_seconds(4) <= 40
    assert scheduler.backoff_seconds(50) <= scheduler.BACKOFF_CAP


def test_jobs_run_and_reschedule(fake_pm, probe_flow):
    calls, _ = probe_flow
    make_orgs(fake_pm, 2)
    s = scheduler.Scheduler(workers=2, pm=fake_pm)
    s.refresh_jobs()
    for job in s.claim(5):
        s.run_job(job)
    assert sorted(calls) == [1, 2]
    assert s.claim(5) == []  # not due again before the interval
    with db.session() as ses:
        for job in ses.exec(select(Job)):
            assert job.failures == 0 and job.lease_owner is None
            assert job.next_run_at > utcnow()


def test_a_finished_shutdown_does_not_leave_later_flows_told_to_stop(fake_pm, probe_flow):
    calls, _ = probe_flow
    make_orgs(fake_pm, 1)
    first = scheduler.Scheduler(workers=1, pm=fake_pm)
    first.refresh_jobs()
    for job in first.claim(5):
        first.run_job(job)
    first.shutdown(grace=1)
    # nothing was left running: the signal is down again, so a flow run later in this process
    # (an embedding program, the next test) goes through its items
    assert not flows.FlowContext.stopping(None)  # type: ignore[arg-type]
    flows.stopping.set()  # as a signal handler leaves it
    scheduler.Scheduler(workers=1, pm=fake_pm).shutdown(grace=1)
    assert not flows.stopping.is_set()
    assert calls == [1]


@pytest.mark.parametrize(("error", "paused", "failures"), [
    (Transient("down"), False, 1),
    (RateLimited("slow", retry_after=42), False, 0),
    (NeedsReconnect("token revoked"), True, 0),
])
def test_errors_decide_what_happens_next(fake_pm, probe_flow, error, paused, failures):
    _, behaviour = probe_flow
    make_orgs(fake_pm, 1)
    if isinstance(error, NeedsReconnect):  # the platform's definitive word, from one store
        error.store_id = stores.list_stores()[1].id  # type: ignore[attr-defined]
    behaviour["raise"] = error
    s = scheduler.Scheduler(workers=1, pm=fake_pm)
    s.refresh_jobs()
    [job] = s.claim(1)
    before = utcnow()
    s.run_job(job)
    with db.session() as ses:
        job = ses.exec(select(Job)).one()
        assert job.paused is paused and job.failures == failures
        assert str(error) in (job.last_error or "")
        if isinstance(error, RateLimited):
            assert 40 <= (job.next_run_at - before).total_seconds() <= 44
        if isinstance(error, NeedsReconnect):  # that store only: the other one is healthy
            assert {st.id: st.status for st in ses.exec(select(Store))} == {
                stores.list_stores()[0].id: "active", error.store_id: "needs_reconnect"}  # type: ignore[attr-defined]


def test_a_refused_token_is_judged_before_the_store_is_paused(fake_pm, probe_flow):
    """One 401 (a candidate, not the platform's final word) retries with backoff and marks
    nothing; refused again and again, only the refusing store is marked; an untagged error marks
    no store at all."""
    _, behaviour = probe_flow
    make_orgs(fake_pm, 1)
    eco, channel = stores.list_stores()
    s = scheduler.Scheduler(workers=1, pm=fake_pm)
    s.refresh_jobs()

    def run(error: NeedsReconnect) -> Job:
        behaviour["raise"] = error
        with db.session() as ses:  # due now
            for row in ses.exec(select(Job)):
                row.next_run_at = utcnow()
                ses.add(row)
        [job] = s.claim(1)
        s.run_job(job)
        with db.session() as ses:
            return ses.exec(select(Job)).one()

    untagged = run(NeedsReconnect("refused", definitive=False))
    assert untagged.paused is False and untagged.failures == 1
    for n in range(1, stores.AUTH_REFUSALS_TO_MARK + 1):
        err = NeedsReconnect("401", definitive=False)
        err.store_id = channel.id  # type: ignore[attr-defined]
        job = run(err)
        marked = n == stores.AUTH_REFUSALS_TO_MARK
        assert job.paused is marked, n
        assert stores.get_store(channel.id).status == ("needs_reconnect" if marked else "active"), n
    assert stores.get_store(eco.id).status == "active"


def test_reconnect_resumes_paused_jobs(fake_pm, probe_flow):
    make_orgs(fake_pm, 1)
    s = scheduler.Scheduler(workers=1, pm=fake_pm)
    s.refresh_jobs()
    store = stores.list_stores()[1]
    stores.mark_needs_reconnect(store.id, "expired")
    with db.session() as ses:
        assert ses.exec(select(Job)).one().paused is False  # per-org job: store pair not named
    stores.disconnect(store.id)
    stores.save_store(stores.get_org(1), "fakechannel",
                      StoreInfo(remote_id="c0", name="c0", currency="GBP", region="GB"), fake_pm)
    with db.session() as ses:
        assert ses.exec(select(Store).where(Store.id == store.id)).one().status == "active"


def _statements(run) -> list[str]:  # type: ignore[no-untyped-def]
    """The SQL statements ``run()`` sends (their first word)."""
    from sqlalchemy import event

    sent: list[str] = []

    def seen(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        sent.append(statement.split(None, 1)[0].upper())

    engine = db.get_engine()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return sent


def test_refreshing_jobs_reads_the_same_for_any_number_of_organizations(fake_pm, probe_flow, monkeypatch):
    """The scheduler refreshes the job table every 30 s: two reads whether there is one
    organization or many (it read each organization's stores: 2.7 s of CPU per refresh with
    1,000 pairs), nothing written when nothing changed, and still what changed written."""
    make_orgs(fake_pm, 1)
    s = scheduler.Scheduler(workers=1, pm=fake_pm)
    s.refresh_jobs()
    one = _statements(s.refresh_jobs)
    first = len(stores.list_orgs())
    for i in range(12):
        org = stores.create_org(f"more{i}")
        stores.save_store(org, "fakeshop", StoreInfo(remote_id=f"ms{i}", name="s", currency="GBP"), fake_pm)
        stores.save_store(org, "fakechannel", StoreInfo(remote_id=f"mc{i}", name="c", currency="GBP",
                                                        region="GB"), fake_pm)
    s.refresh_jobs()
    with db.session() as ses:
        assert len(ses.exec(select(Job)).all()) == first + 12
    many = _statements(s.refresh_jobs)
    assert many == one and set(many) == {"SELECT"}, many
    monkeypatch.setenv("BRIDGE_INTERVAL_PROBE", "77")  # a changed interval, a disconnected pair
    stores.disconnect(stores.list_stores()[-1].id)
    s.refresh_jobs()
    with db.session() as ses:
        jobs = {j.key: j for j in ses.exec(select(Job))}
    assert {j.interval_s for j in jobs.values() if not j.paused} == {77}
    assert [k for k, j in jobs.items() if j.paused] == [f"probe:{first + 12}"]


def test_claim_is_exclusive_between_schedulers(fake_pm, probe_flow):
    make_orgs(fake_pm, 3)
    a = scheduler.Scheduler(workers=5, pm=fake_pm, owner="a")
    b = scheduler.Scheduler(workers=5, pm=fake_pm, owner="b")
    a.refresh_jobs()
    got_a = {j.id for j in a.claim(5)}
    got_b = {j.id for j in b.claim(5)}
    assert len(got_a) == 3 and got_b == set()


def _spawn(log: Path, seconds: float, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "tests/core/lease_worker.py"), str(log), str(seconds)],
                            env=env, cwd=ROOT)


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), BRIDGE_INTERVAL_PROBE="0")


@pytest.mark.slow
def test_two_processes_never_run_the_same_job_at_once(fake_pm, tmp_path):
    make_orgs(fake_pm, 3)
    db.reset_engines()
    log = tmp_path / "runs.jsonl"
    procs = [_spawn(log, 3.0, _env()) for _ in range(2)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    runs = [r for r in map(json.loads, log.read_text().splitlines()) if r["event"] == "end"]
    assert len({r["pid"] for r in runs}) == 2, "both processes should have run jobs"
    by_org: dict[int, list[dict]] = {}
    for r in runs:
        by_org.setdefault(r["org"], []).append(r)
    assert set(by_org) == {1, 2, 3}
    for org_runs in by_org.values():
        org_runs.sort(key=lambda r: r["start"])
        for prev, nxt in zip(org_runs, org_runs[1:], strict=False):
            assert nxt["start"] >= prev["end"], f"job of org overlapped: {prev} / {nxt}"


@pytest.mark.slow
def test_sigterm_lets_running_jobs_finish_then_exits(fake_pm, tmp_path):
    make_orgs(fake_pm, 2)
    db.reset_engines()
    log = tmp_path / "runs.jsonl"
    proc = _spawn(log, 600.0, dict(_env(), PROBE_SECONDS="2"))
    deadline = time.time() + 30
    while not (log.exists() and '"start"' in log.read_text()):
        assert time.time() < deadline, "the worker never ran a job"
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    started = time.time()
    assert proc.wait(timeout=35) == 0
    assert time.time() - started < 30
    events = [json.loads(line) for line in log.read_text().splitlines()]
    starts = sum(e["event"] == "start" for e in events)
    ends = sum(e["event"] == "end" for e in events)
    assert starts == ends >= 1, "a running job was cut off"
    with db.session() as ses:
        assert all(j.lease_owner is None for j in ses.exec(select(Job)))

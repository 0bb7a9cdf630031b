"""`bridge run --scheduler` (issue 20 item 1): what scale-out requires, refused with one line,
and exactly one active scheduler through the database lease."""

from __future__ import annotations

import pytest

from bridge.cli import main


def run(capsys, *args: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    return int(exc.value.code or 0), capsys.readouterr().err


def test_scale_out_refuses_sqlite_with_one_line(capsys):
    code, err = run(capsys, "worker")
    assert code == 1 and err.count("\n") == 1
    assert "scale-out needs PostgreSQL" in err and "BRIDGE_DATABASE_URL" in err
    code, err = run(capsys, "run", "--scheduler", "--no-web")
    assert code == 1 and "scale-out needs PostgreSQL" in err


def test_scale_out_names_the_broker_then_redis(capsys, monkeypatch):
    monkeypatch.setenv("BRIDGE_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")  # not reached
    code, err = run(capsys, "worker")
    assert code == 1 and "BRIDGE_BROKER_URL" in err
    monkeypatch.setenv("BRIDGE_BROKER_URL", "amqp://guest:guest@127.0.0.1:1//")
    code, err = run(capsys, "run", "--scheduler")
    assert code == 1 and "BRIDGE_REDIS_URL" in err


def test_a_bad_broker_url_is_refused_naming_the_variable(capsys, monkeypatch):
    monkeypatch.setenv("BRIDGE_BROKER_URL", "http://127.0.0.1:5672")
    code, err = run(capsys, "worker")
    assert code == 1 and "BRIDGE_BROKER_URL is invalid" in err


@pytest.mark.postgres
def test_one_scheduler_queues_the_other_stands_by_then_takes_over(pg_url, fake_pair):
    from sqlmodel import select

    from bridge import db
    from bridge.queue_scheduler import QueueScheduler
    from bridge.tables import Job

    sent: list[tuple[int, str]] = []
    first = QueueScheduler(send=lambda *a: sent.append(a), owner="first")
    second = QueueScheduler(send=lambda *a: sent.append(a), owner="second")
    assert first.step() > 0 and first.active
    assert second.step() == 0 and not second.active  # the lease is held: nothing queued twice
    with db.session() as s:
        leased = {j.id: j.lease_owner for j in s.exec(select(Job).where(Job.flow != "scheduler"))}
    assert {job_id for job_id, _ in sent} == set(leased)
    assert all(owner == holder for job_id, holder in sent for owner in [leased[job_id]])
    assert all(holder.startswith("queued|") for _, holder in sent)
    first.shutdown(grace=0)  # gives the scheduler lease back
    assert second.step() == 0 and second.active  # active at once; the jobs stay queued

"""Idle back-off: a polled run that finds nothing, with the pair's webhooks live, waits longer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

import pytest
from click.testing import CliRunner
from sqlmodel import select

from bridge import db, journal, scheduler, stores, subscriptions
from bridge.models import StoreInfo
from bridge.sync import base as flows
from bridge.sync.actions import Action, Applier, applies
from bridge.tables import Job, Store, utcnow


@dataclass(frozen=True)
class Touch(Action):
    kind: ClassVar[str] = "touch"


class TouchApplier(Applier):
    written: ClassVar[list[str]] = []

    @applies(Touch)
    def touch(self, a: Touch) -> None:
        TouchApplier.written.append(a.item)
        self.ctx.count("updated")


@pytest.fixture()
def probe(monkeypatch):  # type: ignore[no-untyped-def]
    """A flow ``probe`` (interval 60 s) deciding ``state["act"]`` actions each run."""
    state = {"act": 0}

    def probe_flow(ctx):  # type: ignore[no-untyped-def]
        ctx.note("unchanged", 3)  # items seen and left alone are not "doing something"
        ctx.act([Touch(item=f"i{n}") for n in range(state["act"])])

    monkeypatch.setattr(flows, "BUILTIN_FLOW_MODULES", ())
    monkeypatch.setattr(flows, "FLOWS", {})
    flows.register_flow("probe", probe_flow, interval_key="interval.probe", per_channel=True,
                        applier=TouchApplier)
    TouchApplier.written = []
    return state


def make_pair(pm) -> int:  # type: ignore[no-untyped-def]
    org = stores.create_org("o")
    stores.save_store(org, "fakeshop", StoreInfo(remote_id="s", name="s", currency="GBP"), pm)
    stores.save_store(org, "fakechannel", StoreInfo(remote_id="c", name="c", currency="GBP", region="GB"), pm)
    return org.id  # type: ignore[return-value]


def set_webhooks(org_id: int, mode: str, missing: list[str] | None = None) -> None:
    with db.session() as s:
        for st in s.exec(select(Store).where(Store.org_id == org_id)):
            st.details = {**(st.details or {}), "webhooks": {"mode": mode, "missing": missing or []}}
            s.add(st)


def job_row() -> Job:
    with db.session() as s:
        return s.exec(select(Job).where(Job.flow == "probe")).one()


def run_once(sch: scheduler.Scheduler) -> float:
    """Make the probe job due, run it; the seconds until its next run."""
    with db.session() as s:
        job = s.exec(select(Job).where(Job.flow == "probe")).one()
        job.next_run_at = utcnow() - timedelta(seconds=1)
        s.add(job)
    (job,) = sch.claim(5)
    before = utcnow()
    sch.run_job(job)
    return (job_row().next_run_at - before).total_seconds()


def started(pm, *, webhooks: bool = False) -> tuple[int, scheduler.Scheduler]:  # type: ignore[no-untyped-def]
    """A store pair (its webhooks live when ``webhooks``) and a scheduler with its jobs."""
    org = make_pair(pm)
    if webhooks:
        set_webhooks(org, "webhooks")
    sch = scheduler.Scheduler(workers=1, pm=pm)
    sch.refresh_jobs()
    return org, sch


def test_idle_runs_with_live_webhooks_stretch_the_interval_up_to_the_cap(fake_pm, probe):
    org, sch = started(fake_pm, webhooks=True)
    waits = [run_once(sch) for _ in range(6)]
    assert [round(w / 10) * 10 for w in waits] == [120, 240, 480, 900, 900, 900]
    assert job_row().payload == {"idle": 6}
    (entry,) = list(journal.entries(kind="job.idle"))
    assert "900 s instead of 60 s" in entry.message


def test_the_cap_is_the_idle_max_setting(fake_pm, probe, monkeypatch):
    monkeypatch.setenv("BRIDGE_INTERVAL_IDLE_MAX", "200")
    org, sch = started(fake_pm, webhooks=True)
    assert [round(run_once(sch)) for _ in range(3)] == [120, 200, 200]


def retrying(pm, *platforms: str) -> None:  # type: ignore[no-untyped-def]
    """Make the fake ``platforms`` say they deliver a notification again after a failure."""
    for name in platforms:
        loaded = pm.platform_plugin(name)
        loaded.platform = loaded.platform.model_copy(update={"webhook_retries": True})


def test_a_pair_whose_platforms_retry_deliveries_stretches_up_to_idle_max(fake_pm, probe):
    retrying(fake_pm, "fakeshop", "fakechannel")
    org, sch = started(fake_pm, webhooks=True)
    waits = [round(run_once(sch) / 10) * 10 for _ in range(8)]
    assert waits == [120, 240, 480, 960, 1920, 3600, 3600, 3600]  # interval.idle_max, 3600 s by default
    (entry,) = list(journal.entries(kind="job.idle"))
    assert "3600 s instead of 60 s" in entry.message
    from bridge.cli.system import status

    assert "3600s (idle, base 60s)" in CliRunner().invoke(status, []).output


def test_one_platform_that_does_not_retry_keeps_the_pair_within_idle_max_unretried(fake_pm, probe, monkeypatch):
    retrying(fake_pm, "fakechannel")  # the store's deliveries are not sent again (as WooCommerce's)
    org, sch = started(fake_pm, webhooks=True)
    assert [round(run_once(sch) / 10) * 10 for _ in range(6)] == [120, 240, 480, 900, 900, 900]
    monkeypatch.setenv("BRIDGE_INTERVAL_IDLE_MAX_UNRETRIED", "300")
    assert round(run_once(sch)) == 300
    monkeypatch.setenv("BRIDGE_INTERVAL_IDLE_MAX", "200")  # the lower of the two
    assert round(run_once(sch)) == 200


def test_a_run_that_writes_resets_to_the_interval(fake_pm, probe):
    org, sch = started(fake_pm, webhooks=True)
    for _ in range(3):
        run_once(sch)
    assert job_row().payload == {"idle": 3}
    probe["act"] = 2
    assert round(run_once(sch)) == 60
    assert TouchApplier.written == ["i0", "i1"] and job_row().payload == {}
    probe["act"] = 0
    assert round(run_once(sch)) == 120  # idle again: stretching starts over


def test_a_webhook_resets_to_the_interval(fake_pm, probe):
    org, sch = started(fake_pm, webhooks=True)
    for _ in range(4):
        run_once(sch)
    assert (job_row().next_run_at - utcnow()).total_seconds() > 800
    assert scheduler.trigger("probe", org, None, ["i9"]) == 1
    row = job_row()
    assert "idle" not in row.payload and row.next_run_at <= utcnow()
    (job,) = sch.claim(5)
    before = utcnow()
    sch.run_job(job)  # the triggered run finds nothing to write: still back to the interval
    assert round((job_row().next_run_at - before).total_seconds()) == 60
    assert job_row().payload == {}


def test_no_live_webhooks_keeps_the_interval(fake_pm, probe):
    org, sch = started(fake_pm)
    assert [round(run_once(sch)) for _ in range(3)] == [60, 60, 60]  # never subscribed
    set_webhooks(org, "polling")
    assert [round(run_once(sch)) for _ in range(2)] == [60, 60]
    set_webhooks(org, "webhooks", missing=["orders"])  # a topic not subscribed: not live
    assert [round(run_once(sch)) for _ in range(2)] == [60, 60]
    assert job_row().payload == {}


def test_webhooks_found_not_live_bring_stretched_jobs_back(fake_pm, probe):
    org, sch = started(fake_pm, webhooks=True)
    for _ in range(4):
        run_once(sch)
    assert job_row().payload == {"idle": 4}
    with db.session() as s:
        shop = s.exec(select(Store).where(Store.org_id == org, Store.kind == "channel")).one()
    subscriptions._record(shop, subscriptions.Report(shop.id, "polling", reason="no public URL"))  # type: ignore[arg-type]
    row = job_row()
    assert "idle" not in row.payload
    assert (row.next_run_at - utcnow()).total_seconds() <= 60
    assert round(run_once(sch)) == 60  # and polling stays at the interval


def test_manual_sync_resets_and_status_shows_the_effective_interval(fake_pm, probe):
    from bridge.cli.system import status

    org, sch = started(fake_pm, webhooks=True)
    for _ in range(2):
        run_once(sch)
    out = CliRunner().invoke(status, [])
    assert out.exit_code == 0, out.output
    assert "240s (idle, base 60s)" in out.output
    assert scheduler.reset_idle(org, "probe") == 1
    row = job_row()
    assert "idle" not in row.payload and (row.next_run_at - utcnow()).total_seconds() <= 60
    assert "idle, base" not in CliRunner().invoke(status, []).output

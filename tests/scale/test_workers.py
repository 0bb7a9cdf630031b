"""Scale-out on Celery (issue 20 items 1, 2 and 4): three `bridge worker` processes on
PostgreSQL, a real broker and Redis share one shop's initial sync, cut into page tasks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import col, select, update

from bridge import cli, db, metrics
from bridge.statuses import RunStatus
from bridge.tables import Job, ListingLink, Store, SyncRun
from tests.e2e import harness

BRIDGE = Path(sys.executable).parent / "bridge"
PRODUCTS = 36  # three pages of the Shopify plugin's 12
QPS = 20  # TikTok's limit per shop, in the sandbox and in the shop's setting


@pytest.fixture()
def broker(request, monkeypatch) -> str:
    """The broker named by the test's parameter (skipped when its variable is unset)."""
    url = os.environ.get({"amqp": "BRIDGE_TEST_AMQP_URL", "redis": "BRIDGE_TEST_REDIS_URL"}[request.param])
    if not url:
        pytest.skip(f"no {request.param} broker: set BRIDGE_TEST_{request.param.upper()}_URL")
    monkeypatch.setenv("BRIDGE_BROKER_URL", url)
    return url


@contextmanager
def workers(n: int, logs: Path) -> Any:
    """``n`` `bridge worker` processes (one task at a time each, output to ``logs``), killed at
    the end."""
    out = logs.open("a")
    procs = [subprocess.Popen([str(BRIDGE), "worker", "--concurrency", "1", "--name", f"w{i}@test"],
                              stdout=out, stderr=subprocess.STDOUT) for i in range(n)]
    try:
        from bridge import celery_app

        deadline = time.monotonic() + 60
        while len(celery_app.app.control.ping(timeout=0.5)) < n:
            assert time.monotonic() < deadline, [p.poll() for p in procs]
            assert all(p.poll() is None for p in procs), logs.read_text()[-3000:]
        yield procs
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
            p.wait(timeout=30)
        out.close()


def shop_ready(h: harness.Harness) -> tuple[int, int]:
    """The shop mapped and limited to :data:`QPS`; how many products the plan creates and the
    Shopify query cost of the plan (one read of the catalog)."""
    h.map_everything()
    h.tt.set_rate_limit(QPS)
    with db.session() as s:
        shop = s.get(Store, h.shop.id)
        shop.settings = {**shop.settings, "rate_limit": QPS}  # type: ignore[union-attr]
        s.add(shop)
    h.reset_stats()
    planned = int(h.sync("products", dry_run=True).counts["plan.create"])
    one_read = int(h.eco.stats.snapshot()["actual_query_cost"])
    h.reset_stats()
    return planned, one_read


def queue_products(sched: Any) -> int:
    """Jobs made, every flow but products paused; the products job queued."""
    sched.refresh_jobs()
    with db.session() as s:
        s.exec(update(Job).where(Job.flow != "products").values(paused=True))  # type: ignore[call-overload]
        job = s.exec(select(Job).where(Job.flow == "products")).one()
    assert sched.step() == 1
    return job.id  # type: ignore[return-value]


def wait_done(sched: Any, job_id: int, on_progress: Any = None, timeout: float = 120) -> Job:
    deadline = time.monotonic() + timeout
    while True:
        sched.step()
        with db.session() as s:
            job = s.get(Job, job_id)
            assert job is not None
            if job.last_run_at is not None and job.lease_owner is None:
                return job
        if on_progress is not None:
            on_progress()
        assert time.monotonic() < deadline, "the products job did not finish"
        time.sleep(0.2)


def assert_listed_once(h: harness.Harness, planned: int) -> None:
    """Every product the plan showed to create is listed once, no request was refused."""
    listed = h.tiktok_products()
    assert len(listed) == planned
    skus = Counter(s["seller_sku"] for p in listed for s in p["skus"])
    assert skus and max(skus.values()) == 1, "a product was listed twice"
    assert h.tt.stats.snapshot()["throttled"] == 0, "TikTok answered 'too many requests'"
    with db.session() as s:
        links = list(s.exec(select(ListingLink)))
    assert len(links) == planned and all(ln.remote_product_id for ln in links)


def page_owners() -> set[str]:
    """The worker processes that ran page tasks (runs for named items)."""
    with db.session() as s:
        runs = list(s.exec(select(SyncRun).where(SyncRun.flow == "products")))
    return {r.owner.split("|")[2] for r in runs if r.owner}  # type: ignore[union-attr]


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["redis"], indirect=True)
def test_three_workers_share_one_shops_initial_sync(pg_url, redis_url, broker, monkeypatch, tmp_path):
    from bridge.queue_scheduler import QueueScheduler

    with contextmanager(harness.running)("shopify", monkeypatch.setenv,
                                         eco_options={"seed": PRODUCTS, "variants": 2}) as h:
        planned, one_read = shop_ready(h)
        sched = QueueScheduler(tick=0.1)
        job_id = queue_products(sched)
        depth = f'bridge_queue_depth{{queue="{os.environ["BRIDGE_REDIS_NAMESPACE"]}"}}'
        assert f"{depth} 1.0" in metrics.render()  # queued, no worker yet
        with workers(3, tmp_path / "workers.log"):
            job = wait_done(sched, job_id)
            status = CliRunner().invoke(cli.cli, ["status"], prog_name="bridge")
        assert job.failures == 0 and job.last_error is None
        assert_listed_once(h, planned)
        # the catalog is read once: page tasks get their page as read, the finishing run only
        # sweeps (it was read three times: to cut it, by id in each page, by the finishing run)
        assert h.eco.stats.snapshot()["actual_query_cost"] <= one_read * 1.1
        # TikTok's shop is searched once when the pass starts and once by each worker's first
        # page, not by each page (nor by each create of a worker that never read the shop)
        searches = h.tt.stats.snapshot()["by_route"].get("POST /product/202309/products/search", 0)
        assert searches <= 1 + 3, searches
        assert len(page_owners()) >= 2, "the pages were not shared between workers"
        assert status.exit_code == 0 and all(f"w{i}@test" in status.output for i in range(3))
        # the scheduler's lease is told as such, not listed as a paused job
        assert f"scheduler: {sched.owner}, lease until " in status.output
        assert not any(line.startswith("scheduler ") for line in status.output.splitlines())
        scraped = metrics.render()
        assert 'bridge_tasks_started{task="bridge.page"} 3.0' in scraped
        assert 'bridge_task_queued_seconds{task="bridge.job"}' in scraped
        assert f"{depth} 0.0" in scraped


@pytest.mark.slow
@pytest.mark.parametrize("broker", ["amqp"], indirect=True)
def test_a_worker_killed_mid_sync_loses_nothing(pg_url, redis_url, broker, monkeypatch, tmp_path):
    from bridge.queue_scheduler import QueueScheduler

    with contextmanager(harness.running)("shopify", monkeypatch.setenv,
                                         eco_options={"seed": PRODUCTS, "variants": 2}) as h:
        planned, _ = shop_ready(h)
        sched = QueueScheduler(tick=0.1)
        killed: list[int] = []

        def kill_one_mid_page() -> None:
            if killed:
                return
            with db.session() as s:
                created = len(list(s.exec(select(ListingLink).where(
                    col(ListingLink.remote_product_id).is_not(None)))))
                running = [r for r in s.exec(select(SyncRun).where(SyncRun.status == RunStatus.RUNNING))
                           if r.owner]
            pids = {int(r.owner.split("|")[2]) for r in running}  # type: ignore[union-attr]
            victims = [p for p in procs if p.pid in pids]
            if created >= 3 and victims:
                victims[0].send_signal(signal.SIGKILL)
                victims[0].wait()  # reaped, as its supervisor (systemd) would: no zombie left
                killed.append(victims[0].pid)

        with workers(3, tmp_path / "workers.log") as procs:
            job_id = queue_products(sched)
            job = wait_done(sched, job_id, kill_one_mid_page)
        assert killed, "no worker was killed mid-page"
        assert job.failures == 0
        assert_listed_once(h, planned)


def test_a_split_whose_state_expired_is_finished_by_a_whole_run(redis_url, monkeypatch):
    """The task completing a split finds its Redis state gone (expired): it runs the flow whole
    (which finds the pages done) instead of failing with the job's lease taken."""
    from bridge import celery_app

    ran: list[Any] = []

    class Runtime:
        def take(self, job_id: int, holder: str) -> Job:
            return Job(id=job_id, key="products:1:2", flow="products", org_id=1)

        def run(self, job: Job, finishing: Any = None) -> None:
            ran.append((job.id, finishing))

    monkeypatch.setattr(celery_app, "runtime", Runtime)
    assert celery_app.finish(7, "split|gone|0") == "ran"
    assert ran == [(7, None)]

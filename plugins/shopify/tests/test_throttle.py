"""Against a small cost bucket the client paces itself: no request is answered THROTTLED."""

from __future__ import annotations

import pytest

from bridge_shopify import catalog
from bridge_shopify.throttle import CostBucket


def test_reading_paces_by_cost_and_is_never_throttled(served_factory) -> None:
    # A bucket of one page's requested cost (590) plus the client's reserve (50): after each page
    # the client needs the page's actual cost (~330 points) back, 0.65 s at 500 points/s, so it
    # waits unless a request takes longer than that (a refill at 2000/s of a 1200-point bucket
    # was quicker than a request on a loaded machine, and the client then never had to wait).
    s = served_factory(seed=48, variants=2, bucket_size=640, restore_rate=500)
    conn = s.connection()
    products = [p for page in catalog.list_products(conn, None) for p in page.products]
    assert len(products) == 48
    snap = s.sandbox.stats.snapshot()
    assert snap["throttled"] == 0
    assert snap["total"] >= 5
    assert conn.pacer("cost", CostBucket).waited > 0, "the client must have waited for the bucket"


def test_a_throttled_answer_is_waited_out_and_sent_again(served_factory) -> None:
    s = served_factory(seed=2)
    s.sandbox.throttle_next(1)
    pages = list(catalog.list_products(s.connection(), None))  # not a failure
    assert sum(len(p.products) for p in pages) == 2
    assert s.sandbox.stats.snapshot()["throttled"] == 1


def test_the_last_known_budget_is_kept_for_the_next_process() -> None:
    from bridge_shopify.throttle import CostBucket

    spent = CostBucket()
    spent.update("Q", {"requestedQueryCost": 10, "throttleStatus": {
        "maximumAvailable": 1000.0, "currentlyAvailable": 30.0, "restoreRate": 50.0}})
    kept = spent.snapshot()
    assert kept is not None and kept["available"] == pytest.approx(30.0, abs=1.0)
    fresh = CostBucket()  # a new process: starts from what was kept, not from a full bucket
    fresh.load(kept)
    assert fresh.maximum == 1000.0 and fresh.available < 100.0
    assert fresh.wait_time("Q") > 0

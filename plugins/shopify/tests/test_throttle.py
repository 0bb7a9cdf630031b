"""Against a small cost bucket the client paces itself: no request is answered THROTTLED."""

from __future__ import annotations

import pytest

from bridge.errors import RateLimited
from bridge_shopify import catalog
from bridge_shopify.throttle import CostBucket


def test_reading_paces_by_cost_and_is_never_throttled(served_factory) -> None:
    s = served_factory(seed=48, variants=2, bucket_size=1200, restore_rate=2000)
    conn = s.connection()
    products = [p for page in catalog.list_products(conn, None) for p in page.products]
    assert len(products) == 48
    snap = s.sandbox.stats.snapshot()
    assert snap["throttled"] == 0
    assert snap["total"] >= 5
    assert conn.pacer("cost", CostBucket).waited > 0, "the client must have waited for the bucket"


def test_a_throttled_answer_becomes_rate_limited(served_factory) -> None:
    s = served_factory(seed=2)
    s.sandbox.throttle_next(1)
    with pytest.raises(RateLimited):
        list(catalog.list_products(s.connection(), None))
    assert s.sandbox.stats.snapshot()["throttled"] == 1

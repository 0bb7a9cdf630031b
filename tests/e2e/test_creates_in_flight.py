"""Creates for one shop are kept in flight together (``products.concurrency`` workers, two
pages overlapping), and TikTok's limit still holds: at the sandbox, no sliding second of one API sees
more than its limit, and nothing is answered 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.harness import Harness, running

ECO = "bigcommerce"
LIMIT = 50  # TikTok's documented QPS per API per shop; the sandbox enforces it too
CREATE = ("POST", "/product/202309/products")


class InFlight:
    """An ASGI middleware in front of the TikTok sandbox: the arrival time of every create and
    the most creates in flight at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.now = self.most = 0
        self.arrivals: list[float] = []

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or (scope["method"], scope["path"]) != CREATE:
            await self.app(scope, receive, send)
            return
        with self.lock:
            self.arrivals.append(time.monotonic())
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            with self.lock:
                self.now -= 1


def busiest_second(arrivals: list[float]) -> int:
    """The most arrivals in any one-second sliding window."""
    times, most, start = sorted(arrivals), 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


@pytest.fixture()
def flight(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Harness, InFlight]]:
    held: dict[str, InFlight] = {}

    def wrap(sb: Any) -> Any:
        if type(sb).__name__ != "TikTokSandbox":
            return sb.app
        held["tt"] = InFlight(sb.app)
        return held["tt"]

    for h in running(ECO, monkeypatch.setenv, tt_options={"rate_limit": LIMIT}, wrap=wrap):
        yield h, held["tt"]


def test_creates_overlap_in_flight_and_no_second_of_one_api_passes_the_limit(flight) -> None:
    h, tt = flight
    n = LIMIT + 30  # more than one second's worth of creates
    h.eco.seed_catalog(n, 1, seed=31)
    h.map_everything()
    h.set_options({"products": {"concurrency": 16}})
    # each request takes 100 ms: keeping up with 50 a second needs about five creates in flight
    h.tt.set_latency(100)
    h.reset_stats()
    r = h.sync("products")
    created = r.counts.get("created", 0)
    assert created == r.counts["plan.create"] > LIMIT, r.counts  # every listable one, in one run
    stats = h.tt.stats.snapshot()
    assert stats["throttled"] == 0, stats
    assert stats["by_route"]["POST /product/202309/products"] == created
    assert tt.most >= 4, f"at most {tt.most} create(s) in flight at once"
    assert busiest_second(tt.arrivals) <= LIMIT
    # paced, not merely lucky: the creates past the first second's worth waited for the window
    assert max(tt.arrivals) - min(tt.arrivals) >= 1.0

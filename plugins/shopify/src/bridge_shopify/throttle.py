"""Pacing by GraphQL query cost: Shopify's leaky bucket, mirrored on the client side.

Shopify limits the Admin GraphQL API per app and store by *calculated query cost*: a bucket of
``maximumAvailable`` points restored at ``restoreRate`` points per second; a query whose
requested cost exceeds what is available is answered ``THROTTLED`` without running. Every
response reports ``extensions.cost.throttleStatus``; :class:`CostBucket` keeps the last report
per store, refills it with the elapsed time and, before each query, waits just long enough that
the query's estimated cost (the last ``requestedQueryCost`` of the same operation) fits, keeping a
small reserve, so that in normal operation no request is ever answered THROTTLED.

This is the cost-based counterpart of the request-count :class:`bridge.http.RateLimit` buckets of
the shared HTTP layer: it paces *before* a request; it never retries. A wait longer than
:data:`bridge.http.MAX_INLINE_WAIT` is not taken inline: :class:`bridge.errors.RateLimited` hands
it to the scheduler instead.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from bridge.errors import RateLimited
from bridge.http import MAX_INLINE_WAIT

#: Until the first response says otherwise: the standard plan's documented restore rate and
#: the commonly reported bucket of 20 × that rate (re-read from every response).
DEFAULT_MAXIMUM = 2000.0
DEFAULT_RESTORE = 100.0
#: Points kept in the bucket as a margin for requests of other workers of the same store.
RESERVE = 50.0
#: Seconds between saves of the bucket's state for the next process (``connection.state``).
SAVE_EVERY = 2.0
#: THROTTLED answers waited out and sent again within one call before the wait goes to the
#: scheduler as :class:`~bridge.errors.RateLimited`.
THROTTLED_RETRIES = 5
#: Cost assumed for an operation never sent before (Shopify's ceiling for a single query).
UNKNOWN_COST = 1000.0


@dataclass
class CostBucket:
    """The last known state of one store's cost bucket."""

    maximum: float = DEFAULT_MAXIMUM
    available: float = DEFAULT_MAXIMUM
    restore_rate: float = DEFAULT_RESTORE
    stamp: float = field(default_factory=time.monotonic)
    costs: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    waited: float = 0.0
    loaded: bool = False
    """Seeded from the last state a process kept (:meth:`load`)."""
    saved_at: float = 0.0

    def load(self, kept: Any) -> None:
        """Start from the last ``throttleStatus`` a process kept (``kept``: :meth:`snapshot`),
        refilled for the time since, instead of assuming a full bucket."""
        with self.lock:
            self.loaded = True
            if not isinstance(kept, dict):
                return
            try:
                maximum, available = float(kept["maximum"]), float(kept["available"])
                rate, at = float(kept["restore_rate"]) or DEFAULT_RESTORE, float(kept["at"])
            except (KeyError, TypeError, ValueError):
                return
            self.maximum, self.restore_rate = maximum, rate
            self.available = min(maximum, available + max(0.0, time.time() - at) * rate)
            self.stamp = time.monotonic()

    def snapshot(self) -> dict[str, float] | None:
        """What to keep for the next process, at most every :data:`SAVE_EVERY` seconds (None:
        not yet)."""
        with self.lock:
            now = time.monotonic()
            if now - self.saved_at < SAVE_EVERY:
                return None
            self.saved_at = now
            self._refill(now)
            return {"maximum": self.maximum, "available": self.available,
                    "restore_rate": self.restore_rate, "at": time.time()}

    def _refill(self, now: float) -> None:
        self.available = min(self.maximum, self.available + (now - self.stamp) * self.restore_rate)
        self.stamp = now

    def delay(self, operation: str, keep: float = 0.0) -> float:
        """Seconds ``operation`` would wait if sent now (nothing is reserved), leaving ``keep``
        points in the bucket after it for other work."""
        with self.lock:
            self._refill(time.monotonic())
            cost = min(self.costs.get(operation, UNKNOWN_COST), self.maximum - RESERVE)
            keep = min(keep, self.maximum - RESERVE - cost)
            return max(0.0, (cost + RESERVE + keep - self.available) / self.restore_rate)

    def wait_time(self, operation: str) -> float:
        """Seconds to wait before ``operation`` fits in the bucket; reserves its cost."""
        with self.lock:
            now = time.monotonic()
            self._refill(now)
            cost = min(self.costs.get(operation, UNKNOWN_COST), self.maximum - RESERVE)
            missing = cost + RESERVE - self.available
            self.available -= cost
            return max(0.0, missing / self.restore_rate)

    def before(self, operation: str, platform: str = "shopify") -> None:
        """Wait until ``operation`` fits; too long a wait goes to the scheduler."""
        wait = self.wait_time(operation)
        if wait <= 0:
            return
        if wait > MAX_INLINE_WAIT:
            raise RateLimited(
                f"{platform}: the API cost budget is spent, retry in {wait:.0f}s", retry_after=wait
            )
        self.waited += wait
        time.sleep(wait)

    def update(self, operation: str, cost: dict[str, Any] | None) -> None:
        """Take in a response's ``extensions.cost`` (the server's word replaces the estimate)."""
        if not cost:
            return
        with self.lock:
            requested = cost.get("requestedQueryCost")
            if isinstance(requested, int | float):
                self.costs[operation] = float(requested)
            status = cost.get("throttleStatus") or {}
            if status:
                self.maximum = float(status.get("maximumAvailable", self.maximum))
                self.available = float(status.get("currentlyAvailable", self.available))
                self.restore_rate = float(status.get("restoreRate", self.restore_rate)) or DEFAULT_RESTORE
                self.stamp = time.monotonic()

    def retry_after(self, cost: dict[str, Any] | None) -> float:
        """How long a THROTTLED query must wait: (requested - available) / restore rate."""
        cost = cost or {}
        status = cost.get("throttleStatus") or {}
        requested = float(cost.get("requestedQueryCost") or 0)
        available = float(status.get("currentlyAvailable", self.available))
        rate = float(status.get("restoreRate", self.restore_rate)) or DEFAULT_RESTORE
        return max(1.0, (requested - available) / rate)

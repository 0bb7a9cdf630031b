"""Pace requests from BigCommerce's ``X-Rate-Limit-*`` headers so the quota is never spent.

Every response carries the store-wide quota (shared by every app of the store) of the current
window: ``X-Rate-Limit-Requests-Quota``, ``-Requests-Left``, ``-Time-Reset-Ms`` and
``-Time-Window-Ms``. :class:`QuotaPacer` (a :class:`bridge.pacing.Pacer`, one per store) remembers
the last figures and, before a request, waits for the window to reset when only a small reserve
is left — so bridge slows down *before* a 429 — and spaces requests with a token bucket tuned to
the quota the headers report. A 429 itself is handled by the shared HTTP layer, which waits
``X-Rate-Limit-Time-Reset-Ms``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from bridge.errors import RateLimited
from bridge.pacing import MAX_INLINE_WAIT, BucketPacer, RateLimit

#: Standard & Plus plans: 150 requests per 30 s window (the documented floor).
DEFAULT_QUOTA = 150
DEFAULT_WINDOW_S = 30.0


@dataclass
class Quota:
    quota: int
    left: int
    reset_at: float
    window_s: float


class QuotaPacer:
    """Remembers the last quota figures of one store and paces before it runs out."""

    def __init__(self, reserve_fraction: float = 0.05, min_reserve: int = 2,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.reserve_fraction = reserve_fraction
        self.min_reserve = min_reserve
        self.clock = clock
        self.sleep = sleep
        self.state: Quota | None = None
        self.waited = 0.0
        self._lock = threading.Lock()
        self.buckets = BucketPacer({"default": default_rate_limit()}, "bigcommerce", sleep=sleep)

    # the bridge.pacing.Pacer protocol
    def before(self, rate_key: str) -> float:
        """Wait for the quota window when it is nearly spent, then for the bucket."""
        return self.before_request() + self.buckets.before(rate_key)

    def after(self, rate_key: str, response: httpx.Response) -> None:
        """Read the quota headers; retune the bucket to the quota they report."""
        bucket = self.observe(response)
        if bucket is not None and self.buckets.limits.get("default") != bucket:
            self.buckets.configure({"default": bucket})

    def reserve(self, quota: int) -> int:
        return max(self.min_reserve, int(quota * self.reserve_fraction))

    def before_request(self) -> float:
        """Wait until the window resets if the quota is nearly spent; returns seconds waited.

        :raises RateLimited: the wait is longer than the HTTP layer waits inline.
        """
        with self._lock:
            st = self.state
            if st is None:
                return 0.0
            wait = st.reset_at - self.clock()
            if wait <= 0:
                self.state = None
                return 0.0
            if st.left > self.reserve(st.quota):
                st.left -= 1
                return 0.0
            if wait > MAX_INLINE_WAIT:
                raise RateLimited("BigCommerce quota nearly spent: retry after the window resets",
                                  retry_after=wait)
            self.state = None
        self.sleep(wait)
        self.waited += wait
        return wait

    def observe(self, response: httpx.Response) -> RateLimit | None:
        """Record a response's quota headers; returns the bucket the figures imply, if any."""
        h = response.headers
        try:
            quota = int(h["x-rate-limit-requests-quota"])
            left = int(h["x-rate-limit-requests-left"])
            reset_ms = float(h["x-rate-limit-time-reset-ms"])
        except (KeyError, ValueError):
            return None
        try:
            window_s = float(h.get("x-rate-limit-time-window-ms", DEFAULT_WINDOW_S * 1000)) / 1000
        except ValueError:
            window_s = DEFAULT_WINDOW_S
        with self._lock:
            self.state = Quota(quota=quota, left=left, reset_at=self.clock() + reset_ms / 1000,
                               window_s=window_s)
        if quota <= 0 or window_s <= 0:
            return None
        return RateLimit(rate=quota / window_s, burst=max(1, quota - self.reserve(quota)))


def default_rate_limit() -> RateLimit:
    """The bucket before any header was seen: the documented Standard plan quota."""
    return RateLimit(rate=DEFAULT_QUOTA / DEFAULT_WINDOW_S, burst=DEFAULT_QUOTA - 10)

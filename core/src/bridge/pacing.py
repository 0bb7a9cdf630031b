"""Pacing requests under a platform's limits: the :class:`Pacer` protocol and its in-process home.

A pacer is asked before every request (:meth:`Pacer.before`: wait, or hand a long wait to the
scheduler as :class:`~bridge.errors.RateLimited`) and told every answer (:meth:`Pacer.after`:
learn from quota headers). The shared HTTP layer calls both; a plugin only chooses or builds the
pacer of its platform and passes it to :meth:`bridge.connection.Connection.http_client`:

- :class:`BucketPacer` — request-count token buckets from documented limits (one per rate key),
  and, where the platform counts requests in a sliding window (:attr:`RateLimit.window`), an
  :class:`AnsweredWindow` that lets it pace at the full rate without ever going over;
- a plugin's own class (a quota read from response headers, a cost budget) implementing the
  protocol.

Pacers are shared by every client of one store: :meth:`bridge.connection.Connection.pacer`
keeps them in the :class:`PacerRegistry` of the process. The registry is the seam for sharing
limits across processes (a Redis-backed registry installs itself with :func:`set_registry`);
nothing else in bridge keeps pacing state.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

import httpx

from bridge import metrics
from bridge.errors import RateLimited

#: Longest wait the HTTP layer spends inline; longer waits go to the scheduler.
MAX_INLINE_WAIT = 30.0


@runtime_checkable
class Pacer(Protocol):
    """Paces one store's requests. Implementations are thread-safe."""

    def before(self, rate_key: str) -> float:
        """Wait until a request spending ``rate_key`` may go; return the seconds waited.

        :raises RateLimited: the wait is longer than :data:`MAX_INLINE_WAIT`.
        """

    def after(self, rate_key: str, response: httpx.Response) -> None:
        """Learn from an answer (quota headers); called for every response received."""


def unanswered(pacer: Pacer, rate_key: str) -> None:
    """Tell ``pacer`` that a request it let go got no answer (a reset, a timeout, an error
    before the response): a pacer counting requests until their answer (:class:`BucketPacer`
    with a :attr:`RateLimit.window`) offers ``unanswered(rate_key)``; others need not."""
    lost = getattr(pacer, "unanswered", None)
    if lost is not None:
        lost(rate_key)


#: Share of a windowed limit's rate kept by a pacer that cannot see the answers of every request
#: it counts (the Redis-shared GCRA of several processes): headroom for the jitter between a
#: request's slot and its arrival (at 100% and 95% of TikTok's limit the 10,000-variant
#: benchmark met a few 429s, at 90% none).
BLIND_SHARE = 0.9


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second on average, bursts up to ``burst``."""

    rate: float
    burst: int = 1
    window: float = 0.0
    """The platform counts requests in a sliding window of this many seconds as they reach it,
    ``rate * window`` at most (0: not documented). Then :class:`BucketPacer` spaces requests at
    the full ``rate`` and also holds one while ``rate * window`` others are unanswered or were
    answered less than ``window`` seconds ago (:class:`AnsweredWindow`); a pacer that cannot see
    every answer keeps :data:`BLIND_SHARE` of the rate (:attr:`blind_rate`)."""

    @property
    def blind_rate(self) -> float:
        """The rate for a pacer that does not see the answers (see :attr:`window`)."""
        return self.rate * BLIND_SHARE if self.window > 0 else self.rate


class AnsweredWindow:
    """At most ``count`` requests in any ``seconds`` as the platform receives them, counted
    from what this process sees: a request counts from the moment it may go until ``seconds``
    after its answer came back. The platform received it between the two, so a request let go
    when the one ``count`` before it was answered ``seconds`` ago reaches the platform at least
    ``seconds`` after that one did, however late either was sent, scheduled or delivered —
    which a margin under the rate only makes unlikely. The cost is a round trip per window
    (about 2% at 20 ms), not a fixed share."""

    def __init__(self, count: int, seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = max(1, count)
        self.seconds = seconds
        self.clock = clock
        self.in_flight = 0
        self.answered: deque[float] = deque()
        self.cond = threading.Condition()

    def enter(self, longest: float) -> float:
        """Take a place, waiting up to ``longest`` seconds for one; returns the seconds waited.

        :raises TimeoutError: no place within ``longest`` (requests that are not answered).
        """
        start = self.clock()
        with self.cond:
            while True:
                now = self.clock()
                while self.answered and now - self.answered[0] >= self.seconds:
                    self.answered.popleft()
                if self.in_flight + len(self.answered) < self.count:
                    self.in_flight += 1
                    return now - start
                left = start + longest - now
                if left <= 0:
                    raise TimeoutError(f"{self.count} requests unanswered for {longest:.0f}s")
                # the oldest answer leaving the window, or a new answer (then look again)
                until = self.answered[0] + self.seconds - now if self.answered else left
                self.cond.wait(min(until, left))

    def leave(self) -> None:
        """The request's answer came back (or it failed): it counts for ``seconds`` more."""
        with self.cond:
            if self.in_flight > 0:
                self.in_flight -= 1
                self.answered.append(self.clock())
                self.cond.notify_all()

    def resize(self, count: int, seconds: float) -> None:
        with self.cond:
            self.count, self.seconds = max(1, count), seconds
            self.cond.notify_all()


class TokenBucket:
    """One :class:`RateLimit` in motion."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.clock = clock
        self.tokens = float(limit.burst)
        self.stamp = clock()
        self.lock = threading.Lock()
        self.window = _window(limit, clock)

    def reserve(self) -> float:
        """Take a token; return how long to wait before using it."""
        with self.lock:
            now = self.clock()
            self.tokens = min(self.limit.burst, self.tokens + (now - self.stamp) * self.limit.rate)
            self.stamp = now
            self.tokens -= 1
            if self.tokens >= 0:
                return 0.0
            return -self.tokens / self.limit.rate

    def retune(self, limit: RateLimit) -> None:
        """Move to another limit (learned from the platform), keeping the tokens in hand."""
        with self.lock:
            if limit != self.limit:
                self.limit = limit
                self.tokens = min(self.tokens, float(limit.burst))
                if self.window is None or limit.window <= 0:
                    self.window = _window(limit, self.clock)
                else:  # requests in flight stay counted
                    self.window.resize(int(limit.rate * limit.window), limit.window)


def _window(limit: RateLimit, clock: Callable[[], float]) -> AnsweredWindow | None:
    if limit.window <= 0 or limit.rate <= 0:
        return None
    return AnsweredWindow(int(limit.rate * limit.window), limit.window, clock)


class BucketPacer:
    """Token buckets per rate key (``"default"`` covers keys without their own limit)."""

    def __init__(self, limits: dict[str, RateLimit], platform: str = "",
                 sleep: Callable[[float], None] | None = None) -> None:
        self.platform = platform
        self.sleep = sleep
        self.buckets: dict[str, TokenBucket] = {}
        self.limits: dict[str, RateLimit] = {}
        self._lock = threading.Lock()
        self.configure(limits)

    def configure(self, limits: dict[str, RateLimit]) -> None:
        """Set the limits (a changed setting or what the platform reported)."""
        with self._lock:
            self.limits = dict(limits)
            for key, bucket in list(self.buckets.items()):
                limit = self.limits.get(key) or self.limits.get("default")
                if limit is None:
                    del self.buckets[key]
                else:
                    bucket.retune(limit)

    def _bucket(self, rate_key: str) -> TokenBucket | None:
        with self._lock:
            bucket = self.buckets.get(rate_key)
            if bucket is None:
                limit = self.limits.get(rate_key) or self.limits.get("default")
                if limit is None:
                    return None
                bucket = self.buckets[rate_key] = TokenBucket(limit)
            return bucket

    def reserve(self, rate_key: str) -> float:
        """Take the next slot of ``rate_key``'s bucket; the seconds until it."""
        bucket = self._bucket(rate_key)
        return bucket.reserve() if bucket is not None else 0.0

    def _reserve_entering(self, rate_key: str) -> tuple[float, bool]:
        """:meth:`reserve`, and whether the request's place in the window (if any) was taken
        with it (a shared pacer takes both in one round trip when the slot is now)."""
        return self.reserve(rate_key), False

    def before(self, rate_key: str) -> float:
        wait, entered = self._reserve_entering(rate_key)
        if wait > MAX_INLINE_WAIT:
            raise RateLimited(f"{self.platform or 'platform'}: request budget spent, retry in "
                              f"{wait:.0f}s", retry_after=wait)
        if wait > 0:
            (self.sleep or time.sleep)(wait)
        else:
            wait = 0.0
        window = None if entered else self._window(rate_key)
        if window is not None:
            try:
                wait += window.enter(MAX_INLINE_WAIT)
            except TimeoutError:
                raise RateLimited(f"{self.platform or 'platform'}: {window.count} requests still "
                                  "unanswered: retried later", retry_after=window.seconds) from None
        if wait > 0:
            metrics.inc("bridge_rate_limit_waits_total", platform=self.platform)
            metrics.inc("bridge_rate_limit_wait_seconds_total", wait, platform=self.platform or "")
        return wait

    def _window(self, rate_key: str) -> AnsweredWindow | None:
        with self._lock:
            bucket = self.buckets.get(rate_key)
        return bucket.window if bucket is not None else None

    def after(self, rate_key: str, response: httpx.Response) -> None:
        self._over(rate_key)

    def unanswered(self, rate_key: str) -> None:
        """A request :meth:`before` let go got no answer (see :func:`unanswered`)."""
        self._over(rate_key)

    def _over(self, rate_key: str) -> None:
        window = self._window(rate_key)
        if window is not None:
            window.leave()


P = TypeVar("P")


class PacerRegistry:
    """The pacers of this process, one per (store, name): every client of a store shares them."""

    def __init__(self) -> None:
        self._pacers: dict[tuple[str, str], object] = {}
        self._lock = threading.Lock()

    def get(self, store_key: str, name: str, factory: Callable[[], P]) -> P:
        """The store's pacer called ``name``, made by ``factory`` on first use."""
        with self._lock:
            pacer = self._pacers.get((store_key, name))
            if pacer is None:
                pacer = self._pacers[(store_key, name)] = factory()
            return pacer  # type: ignore[return-value]

    def forget(self, store_key: str) -> None:
        """Drop a store's pacers (disconnected)."""
        with self._lock:
            for key in [k for k in self._pacers if k[0] == store_key]:
                del self._pacers[key]


_registry: PacerRegistry | None = None
_registry_lock = threading.Lock()


def registry() -> PacerRegistry:
    """The registry in use: one installed with :func:`set_registry`, else, made on first use,
    the Redis-shared one when ``redis_url`` is set (:mod:`bridge.shared_pacing`), else one of
    this process."""
    global _registry
    with _registry_lock:
        if _registry is None:
            from bridge import coordination

            if coordination.redis_url():
                from bridge.shared_pacing import SharedPacerRegistry

                _registry = SharedPacerRegistry(coordination.redis_client())
            else:
                _registry = PacerRegistry()
        return _registry


def set_registry(new: PacerRegistry | None) -> PacerRegistry | None:
    """Install another registry (None: choose again from the settings on next use); returns
    the old."""
    global _registry
    old, _registry = _registry, new
    return old

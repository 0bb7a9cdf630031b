"""Rate limits shared by every process through Redis: GCRA behind the :class:`~bridge.pacing.Pacer`
protocol.

:class:`SharedPacerRegistry` is the :class:`~bridge.pacing.PacerRegistry` installed when
``redis_url`` is set (:func:`bridge.pacing.registry`): the request-count buckets a plugin asks
for (``Connection.http_client(rate_limits=...)``, a :class:`~bridge.pacing.BucketPacer`) become
:class:`SharedBucketPacer`, whose slots are handed out by one Lua script in Redis (GCRA, the
generic cell rate algorithm: one timestamp per bucket, the *theoretical arrival time*), so N
workers on N machines together send at most the documented rate of one (app, shop, API).
Redis's own clock is the only clock: machines need not agree on the time.

Where the platform counts requests in a sliding window (:attr:`~bridge.pacing.RateLimit.window`,
TikTok's second), the window is shared too (:class:`SharedWindow`, a sorted set in Redis): a
request holds a place from the moment it may go until ``window`` seconds after its answer, in
whichever process, so the slots go at the full rate and no lateness of sending or delivery can
put one too many into the platform's window (the in-process :class:`~bridge.pacing.AnsweredWindow`
shared by every process).

Pacers that are not request-count buckets (a quota read from headers, a cost budget) stay per
process unless their plugin shares them (:meth:`SharedPacerRegistry.shared_key`).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from bridge import coordination
from bridge.errors import Transient
from bridge.pacing import MAX_INLINE_WAIT, BucketPacer, PacerRegistry, RateLimit

P = TypeVar("P")

#: Redis hash (in the deployment's namespace) of the seconds waited per store by all processes,
#: read by ``/metrics``.
WAITS = "limiter:waits"

# KEYS[1] the bucket's theoretical arrival time; KEYS[2] the waits hash.
# ARGV: seconds per request, burst tolerance (seconds), longest wait taken, the waits field.
# Returns the wait (seconds, as a string: Lua numbers are truncated to integers in replies);
# a wait longer than the longest taken reserves nothing.
GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return tostring(wait) end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
if wait > 0 then redis.call('HINCRBYFLOAT', KEYS[2], ARGV[4], string.format('%.6f', wait)) end
return tostring(wait)
"""


# KEYS[1] the window's sorted set (member: a request, score: when its place frees).
# ARGV: places, seconds an unanswered request holds its place (a process killed mid-request),
# the member. Returns '0' with the place taken, else the seconds until the earliest place frees.
ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2]) * 1000) + 1000)
  return '0'
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tostring(tonumber(first[2]) - now)
"""
# KEYS[1] as above; ARGV: the member, the window's seconds: its place frees a window after now.
LEAVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
return 1
"""
# GCRA and ENTER in one round trip: the slot, and when it is now, the window's place too.
# KEYS[1], KEYS[2] and ARGV[1..4] as GCRA's; KEYS[3] and ARGV[5..7] as ENTER's KEYS[1] and ARGV.
# Returns 'wait|-' (a slot later than now: nothing entered, the caller waits and enters then),
# '0|0' (slot and place taken) or '0|seconds' (the slot taken, the window full: as ENTER says).
GCRA_ENTER = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return tostring(wait) .. '|-' end
local new = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1000)
if wait > 0 then
  redis.call('HINCRBYFLOAT', KEYS[2], ARGV[4], string.format('%.6f', wait))
  return tostring(wait) .. '|-'
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
if redis.call('ZCARD', KEYS[3]) < tonumber(ARGV[5]) then
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[6]), ARGV[7])
  redis.call('PEXPIRE', KEYS[3], math.ceil(tonumber(ARGV[6]) * 1000) + 1000)
  return '0|0'
end
local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
return '0|' .. tostring(tonumber(first[2]) - now)
"""
#: Seconds a place stays held beyond the window after its answer: Redis's clock as a script reads
#: it may lag a few milliseconds behind (its cached time), which freed places that much early.
WINDOW_MARGIN = 0.01
#: Seconds a request without an answer keeps its place (longer than any request waits for one).
UNANSWERED_HOLD = 300.0
#: Longest sleep between looks at a window whose places are all held by unanswered requests.
POLL = 0.01
_members = itertools.count()
_process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"


class SharedWindow:
    """:class:`~bridge.pacing.AnsweredWindow` across processes: at most ``count`` requests held
    in any ``seconds``, each from the moment it may go until ``seconds`` after its answer,
    counted in a Redis sorted set every process of the deployment uses."""

    def __init__(self, client: Any, key: str, count: int, seconds: float,
                 sleep: Callable[[float], None] | None = None, platform: str = "") -> None:
        self.client, self.key = client, key
        self.count, self.seconds = max(1, count), seconds
        self.sleep = sleep or time.sleep
        self.platform = platform
        self.enter_script = client.register_script(ENTER)
        self.leave_script = client.register_script(LEAVE)
        self._mine: deque[str] = deque()
        self._lock = threading.Lock()
        self._local = threading.local()

    def enter(self, longest: float) -> float:
        """Take a place, waiting up to ``longest`` seconds; returns the seconds waited.

        :raises TimeoutError: no place within ``longest``.
        :raises Transient: Redis is unreachable.
        """
        member = self.member()
        start = time.monotonic()
        while True:
            wait = float(self._call(self.enter_script, [self.count, UNANSWERED_HOLD, member]))
            if wait <= 0:
                self.entered(member)
                return time.monotonic() - start
            left = start + longest - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.count} requests unanswered for {longest:.0f}s")
            # an answered request leaving the window (exact), or a look again for an answer
            self.sleep(min(wait if wait <= self.seconds else POLL, left))

    @staticmethod
    def member() -> str:
        """A new request's name in the window (unique across processes)."""
        return f"{_process}-{next(_members)}"

    def entered(self, member: str) -> None:
        """``member`` has taken its place (here or with its slot: :meth:`SharedBucketPacer._reserve_entering`)."""
        with self._lock:
            self._mine.append(member)
        self._local.member = member  # its answer comes back on this thread

    def leave(self) -> None:
        """This thread's request is answered (or failed): its place frees a window from now.
        (Its own place: freeing another request's, still on its way, could let one go a window
        after that one's stand-in, but less than a window after it reached the platform.)"""
        member = getattr(self._local, "member", None)
        self._local.member = None
        with self._lock:
            if member is not None and member in self._mine:
                self._mine.remove(member)
            else:  # not this thread's: the oldest this process holds
                member = self._mine.popleft() if self._mine else None
        if member is not None:
            self._call(self.leave_script, [member, self.seconds + WINDOW_MARGIN])

    def resize(self, count: int, seconds: float) -> None:
        self.count, self.seconds = max(1, count), seconds

    def _call(self, script: Any, args: list[Any]) -> Any:
        try:
            return script(keys=[self.key], args=[repr(a) if isinstance(a, float) else a for a in args])
        except coordination.redis_errors() as exc:
            raise Transient(f"{self.platform or 'platform'}: the shared rate limiter (Redis) is "
                            f"unreachable ({type(exc).__name__}): retried later") from None


class SharedBucketPacer(BucketPacer):
    """A :class:`~bridge.pacing.BucketPacer` whose buckets live in Redis (one per rate key)."""

    def __init__(self, client: Any, key: str, limits: dict[str, RateLimit], platform: str = "",
                 sleep: Callable[[float], None] | None = None, store_key: str = "") -> None:
        super().__init__(limits, platform, sleep)
        self.client = client
        self.key = key
        self.store_key = store_key or key
        self.script = client.register_script(GCRA)
        self.both_script = client.register_script(GCRA_ENTER)
        self.windows: dict[str, SharedWindow] = {}
        self._keys: dict[str, str] = {}

    def _window(self, rate_key: str) -> SharedWindow | None:  # type: ignore[override]
        """The rate key's window shared by every process (None: the limit has no window)."""
        with self._lock:
            limit = self.limits.get(rate_key) or self.limits.get("default")
            if limit is None or limit.window <= 0 or limit.rate <= 0:
                return None
            count = int(limit.rate * limit.window)
            window = self.windows.get(rate_key)
            if window is None:
                window = self.windows[rate_key] = SharedWindow(
                    self.client, coordination.key("window", self.key, rate_key), count, limit.window,
                    self.sleep, self.platform)
            elif (window.count, window.seconds) != (count, limit.window):
                window.resize(count, limit.window)
            return window

    def reserve(self, rate_key: str) -> float:
        """Take the next slot of ``rate_key``'s bucket; the seconds until it (nothing is taken
        when that is longer than :data:`~bridge.pacing.MAX_INLINE_WAIT`)."""
        with self._lock:
            limit = self.limits.get(rate_key) or self.limits.get("default")
        if limit is None or limit.rate <= 0:
            return 0.0
        # a windowed limit's slots go at the full rate: the shared window (SharedWindow) sees
        # every process's answers
        interval = 1.0 / limit.rate
        try:  # one bucket per rate key (an API), as in-process: "default" is the limit, not a bucket
            wait = self.script(keys=self._bucket_keys(rate_key),
                               args=[repr(interval), repr(interval * (limit.burst - 1)),
                                     repr(MAX_INLINE_WAIT), self.store_key])
        except coordination.redis_errors() as exc:
            raise Transient(f"{self.platform or 'platform'}: the shared rate limiter (Redis) is "
                            f"unreachable ({type(exc).__name__}): retried later") from None
        return float(wait)

    def _bucket_keys(self, rate_key: str) -> list[str]:
        """The Redis keys of ``rate_key``'s bucket and of the waits (made once a rate key)."""
        key = self._keys.get(rate_key)
        if key is None:
            key = self._keys[rate_key] = coordination.key("rate", self.key, rate_key)
        return [key, coordination.key(WAITS)]

    def _reserve_entering(self, rate_key: str) -> tuple[float, bool]:
        """The slot and, when it is now, the place in the shared window in one round trip
        (one script: the two took a round trip each, as many as the request itself)."""
        window = self._window(rate_key)
        with self._lock:
            limit = self.limits.get(rate_key) or self.limits.get("default")
        if window is None or limit is None or limit.rate <= 0:
            return self.reserve(rate_key), False
        interval = 1.0 / limit.rate
        member = window.member()
        try:
            answer = self.both_script(
                keys=[*self._bucket_keys(rate_key), window.key],
                args=[repr(interval), repr(interval * (limit.burst - 1)), repr(MAX_INLINE_WAIT),
                      self.store_key, window.count, repr(UNANSWERED_HOLD), member])
        except coordination.redis_errors() as exc:
            raise Transient(f"{self.platform or 'platform'}: the shared rate limiter (Redis) is "
                            f"unreachable ({type(exc).__name__}): retried later") from None
        wait, _, place = (answer.decode() if isinstance(answer, bytes) else str(answer)).partition("|")
        if place == "0":
            window.entered(member)
            return 0.0, True
        return float(wait), False  # a later slot, or the window full: entered as before


class SharedPacerRegistry(PacerRegistry):
    """The pacers of this process, request-count buckets shared with every process via Redis."""

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = client

    def get(self, store_key: str, name: str, factory: Callable[[], P]) -> P:
        def shared() -> Any:
            made: Any = factory()
            if type(made) is BucketPacer:  # the plugin's own kinds of pacer stay its own
                return SharedBucketPacer(self.client, self.shared_key(store_key, name), made.limits,
                                         made.platform, made.sleep, store_key=store_key)
            return made

        return super().get(store_key, name, shared)

    @staticmethod
    def shared_key(store_key: str, name: str) -> str:
        """The Redis name of a store's pacer (under the deployment's ``redis_namespace``)."""
        return f"{store_key}:{name}"


def limiter_waits(client: Any) -> dict[str, float]:
    """Seconds waited on the shared limits, per store, by every process since Redis started."""
    try:
        raw = client.hgetall(coordination.key(WAITS))
    except coordination.redis_errors():
        return {}
    return {k.decode(): float(v) for k, v in raw.items()}

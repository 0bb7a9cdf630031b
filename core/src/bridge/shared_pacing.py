"""Rate limits shared by every process through Redis: GCRA behind the :class:`~bridge.pacing.Pacer`
protocol.

:class:`SharedPacerRegistry` is the :class:`~bridge.pacing.PacerRegistry` installed when
``redis_url`` is set (:func:`bridge.pacing.registry`): the request-count buckets a plugin asks
for (``Connection.http_client(rate_limits=...)``, a :class:`~bridge.pacing.BucketPacer`) become
:class:`SharedBucketPacer`, whose slots are handed out by one Lua script in Redis (GCRA, the
generic cell rate algorithm: one timestamp per bucket, the *theoretical arrival time*), so N
workers on N machines together send at most the documented rate of one (app, shop, API).
Redis's own clock is the only clock: machines need not agree on the time.

Pacers that are not request-count buckets (a quota read from headers, a cost budget) stay per
process unless their plugin shares them (:meth:`SharedPacerRegistry.shared_key`).
"""

from __future__ import annotations

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


class SharedBucketPacer(BucketPacer):
    """A :class:`~bridge.pacing.BucketPacer` whose buckets live in Redis (one per rate key)."""

    def __init__(self, client: Any, key: str, limits: dict[str, RateLimit], platform: str = "",
                 sleep: Callable[[float], None] | None = None, store_key: str = "") -> None:
        super().__init__(limits, platform, sleep)
        self.client = client
        self.key = key
        self.store_key = store_key or key
        self.script = client.register_script(GCRA)

    def reserve(self, rate_key: str) -> float:
        """Take the next slot of ``rate_key``'s bucket; the seconds until it (nothing is taken
        when that is longer than :data:`~bridge.pacing.MAX_INLINE_WAIT`)."""
        with self._lock:
            limit = self.limits.get(rate_key) or self.limits.get("default")
        if limit is None or limit.rate <= 0:
            return 0.0
        # the answers of the other processes' requests are not seen here: a windowed limit keeps
        # its headroom (RateLimit.blind_rate) instead of counting answers
        interval = 1.0 / limit.blind_rate
        try:  # one bucket per rate key (an API), as in-process: "default" is the limit, not a bucket
            wait = self.script(keys=[coordination.key("rate", self.key, rate_key), coordination.key(WAITS)],
                               args=[repr(interval), repr(interval * (limit.burst - 1)),
                                     repr(MAX_INLINE_WAIT), self.store_key])
        except coordination.redis_errors() as exc:
            raise Transient(f"{self.platform or 'platform'}: the shared rate limiter (Redis) is "
                            f"unreachable ({type(exc).__name__}): retried later") from None
        return float(wait)


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

"""The one HTTP layer shared by every plugin.

:func:`make_client` returns an :class:`HttpClient` (a thin wrapper over ``httpx.Client``) with
connection reuse, timeouts, bounded retries with backoff on transient failures and on 429/503
honouring ``Retry-After``, a per-store token-bucket rate limiter configured by the plugin from
the platform's documented limits, a User-Agent naming bridge, and logs with secrets redacted.

Status codes other than the retried ones are returned to the plugin, which maps them to
:mod:`bridge.errors` (it knows the platform's error shapes).
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx

from bridge import __version__, metrics
from bridge.errors import RateLimited, Transient
from bridge.outbound import check_base_url, is_loopback  # noqa: F401 - the policy, re-exported

log = logging.getLogger("bridge.http")

USER_AGENT = f"bridge/{__version__} (+https://github.com/bridge-commerce/bridge)"
RETRY_STATUSES = {429, 502, 503, 504}
#: Longest Retry-After the HTTP layer waits inline; longer waits go to the scheduler.
MAX_INLINE_WAIT = 30.0
SECRET_PARAM = re.compile(r"(token|secret|sign|signature|password|key|code|hmac)", re.I)


def redact_url(url: str | httpx.URL) -> str:
    """The URL with secret-looking query parameters masked."""
    u = httpx.URL(str(url))
    if not u.query:
        return str(u)
    params = [(k, "***" if SECRET_PARAM.search(k) else v) for k, v in u.params.multi_items()]
    return str(u.copy_with(params=params))


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ***."""
    for s in secrets:
        if s and len(s) >= 4:
            text = text.replace(s, "***")
    return text


@dataclass(frozen=True)
class RateLimit:
    """A token bucket: ``rate`` requests per second on average, bursts up to ``burst``."""

    rate: float
    burst: int = 1


class _Bucket:
    def __init__(self, limit: RateLimit) -> None:
        self.limit = limit
        self.tokens = float(limit.burst)
        self.stamp = time.monotonic()
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take a token; return how long to wait before using it."""
        with self.lock:
            now = time.monotonic()
            self.tokens = min(self.limit.burst, self.tokens + (now - self.stamp) * self.limit.rate)
            self.stamp = now
            self.tokens -= 1
            if self.tokens >= 0:
                return 0.0
            return -self.tokens / self.limit.rate


_buckets: dict[tuple[str, str], _Bucket] = {}
_buckets_lock = threading.Lock()


def _bucket(store_key: str, rate_key: str, limit: RateLimit) -> _Bucket:
    with _buckets_lock:
        b = _buckets.get((store_key, rate_key))
        if b is None or b.limit != limit:
            b = _buckets[(store_key, rate_key)] = _Bucket(limit)
        return b


def throttle(store_key: str, rate_key: str, limit: RateLimit, platform: str = "") -> float:
    """Wait for a token of the (store, key) bucket; returns the seconds waited."""
    wait = _bucket(store_key, rate_key, limit).reserve()
    if wait > 0:
        metrics.inc("bridge_rate_limit_waits_total", platform=platform)
        time.sleep(wait)
    return wait


def retry_after_seconds(response: httpx.Response, default: float = 1.0) -> float:
    """Read Retry-After (seconds or ms headers some platforms use) from a response."""
    for name in ("retry-after", "x-rate-limit-time-reset-ms"):
        value = response.headers.get(name)
        if value:
            try:
                secs = float(value)
            except ValueError:
                continue
            return secs / 1000.0 if name.endswith("-ms") else secs
    return default


class HttpClient:
    """An httpx client bound to one store of one platform. Use :func:`make_client`."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        platform: str,
        store_key: str,
        rate_limits: dict[str, RateLimit],
        secrets: list[str],
        max_retries: int,
    ) -> None:
        self.client = client
        self.platform = platform
        self.store_key = store_key
        self.rate_limits = rate_limits
        self.secrets = secrets
        self.max_retries = max_retries
        self.request_count = 0

    @property
    def base_url(self) -> httpx.URL:
        return self.client.base_url

    def add_secret(self, value: str | None) -> None:
        """Redact ``value`` from this client's logs from now on."""
        if value and value not in self.secrets:
            self.secrets.append(value)

    def request(
        self, method: str, url: str, *, rate_key: str = "default", **kwargs: Any
    ) -> httpx.Response:
        """Send a request; retry transient failures and 429/503 a bounded number of times.

        :param rate_key: which of the plugin's rate limits this call spends (``"default"``
            when the platform has a single limit).
        :raises Transient: network failure or 5xx after the retries.
        :raises RateLimited: 429 after the retries, or a Retry-After too long to wait inline.
        """
        limit = self.rate_limits.get(rate_key) or self.rate_limits.get("default")
        attempt = 0
        while True:
            attempt += 1
            if limit:
                throttle(self.store_key, rate_key, limit, self.platform)
            started = time.perf_counter()
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.TransportError as exc:
                metrics.inc("bridge_api_errors_total", platform=self.platform)
                if attempt <= self.max_retries:
                    time.sleep(_backoff(attempt))
                    continue
                raise Transient(
                    f"{self.platform}: cannot reach {self.client.base_url.host or url}: {type(exc).__name__}",
                    detail=redact(str(exc), self.secrets),
                ) from None
            self.request_count += 1
            metrics.inc("bridge_api_calls_total", platform=self.platform)
            elapsed = (time.perf_counter() - started) * 1000
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s -> %s (%.0f ms)",
                    method,
                    redact(redact_url(response.request.url), self.secrets),
                    response.status_code,
                    elapsed,
                )
            if response.status_code not in RETRY_STATUSES:
                return response
            wait = retry_after_seconds(response, default=_backoff(attempt))
            if response.status_code == 429:
                metrics.inc("bridge_rate_limit_waits_total", platform=self.platform)
            if attempt <= self.max_retries and wait <= MAX_INLINE_WAIT:
                time.sleep(wait)
                continue
            if response.status_code == 429:
                raise RateLimited(
                    f"{self.platform}: rate limited, retry in {wait:.0f}s", retry_after=wait
                )
            return response

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def patch(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PATCH", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def close(self) -> None:
        self.client.close()


def _backoff(attempt: int) -> float:
    return min(8.0, 0.25 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)


def make_client(
    base_url: str,
    *,
    platform: str,
    store_key: str = "",
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    rate_limits: dict[str, RateLimit] | None = None,
    secrets: list[str] | None = None,
    timeout: float = 30.0,
    max_retries: int = 3,
    transport: httpx.BaseTransport | None = None,
    follow_redirects: bool = False,
) -> HttpClient:
    """Build the HTTP client a plugin uses for one store.

    :param base_url: the platform host, or a sandbox's (checked: https, or http on loopback).
    :param store_key: groups rate limiting; requests of one store share the buckets.
    :param rate_limits: rate key → :class:`RateLimit`, from the platform's documented limits.
    :param secrets: values to redact from logs (tokens, keys).
    """
    base = check_base_url(base_url)
    h = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    h.update(headers or {})
    client = httpx.Client(
        base_url=base,
        headers=h,
        auth=auth,
        timeout=httpx.Timeout(timeout, connect=10.0),
        transport=transport,
        follow_redirects=follow_redirects,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )
    return HttpClient(
        client,
        platform=platform,
        store_key=store_key or base,
        rate_limits=dict(rate_limits or {}),
        secrets=list(secrets or []),
        max_retries=max_retries,
    )

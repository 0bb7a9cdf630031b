"""The one HTTP layer shared by every plugin.

:func:`make_client` returns an :class:`HttpClient` (a thin wrapper over ``httpx.Client``) with
connection reuse, timeouts, a :class:`~bridge.pacing.Pacer` asked before every request, a
User-Agent naming bridge, and logs with secrets redacted.

Retries (:class:`RetryPolicy`): reads and idempotent writes are sent again after a timeout, a
connection reset, 429 (after its ``Retry-After``) and 500/502/503/504, with exponential backoff
and jitter, bounded in count and in time. A write that is not idempotent (``POST``/``PATCH``
unless the caller says ``idempotent=True``) is **never sent twice** once it may have reached the
platform: a timeout, a reset, a 5xx, or a 2xx whose body cannot be read raise
:class:`~bridge.errors.OutcomeUnknown`, and the flow looks the write up before writing again.
Only failures that prove the request was not processed are retried for such a write: a refused
connection and 429.

:class:`ErrorTable` is the default status → error table (401 → a candidate
:class:`~bridge.errors.NeedsReconnect`, 429 → :class:`~bridge.errors.RateLimited` with its wait,
5xx → :class:`~bridge.errors.Transient`, other 4xx → :class:`~bridge.errors.Rejected`); a plugin
overrides only the statuses where its platform differs.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from bridge import __version__, metrics
from bridge.errors import (
    BridgeError,
    NeedsReconnect,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)
from bridge.outbound import check_base_url, is_loopback  # noqa: F401 - the policy, re-exported
from bridge.pacing import MAX_INLINE_WAIT, BucketPacer, Pacer, RateLimit, unanswered

log = logging.getLogger("bridge.http")

USER_AGENT = f"bridge/{__version__} (+https://github.com/bridge-commerce/bridge)"
#: Statuses that are retried (for reads and idempotent writes; 429 for every request).
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Methods that may be sent again without a second effect.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
#: Transport errors raised before the request left this machine (safe to send again).
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
__all__ = ["MAX_INLINE_WAIT", "RateLimit", "Pacer"]  # re-exported for plugins
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


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the HTTP layer tries before it gives an error to the flow.

    ``attempts`` sends at most (the first included); the waits between them grow from ``base``
    by doubling up to ``cap`` with full jitter (a wait is drawn from half to all of the step), and
    all waits of one request together stay under ``budget`` seconds.
    """

    attempts: int = 4
    base: float = 0.25
    cap: float = 8.0
    budget: float = 45.0

    def backoff(self, attempt: int, rng: Callable[[], float] = random.random) -> float:
        """The wait after failed attempt number ``attempt`` (1-based)."""
        return min(self.cap, self.base * 2 ** (attempt - 1)) * (0.5 + rng() / 2)


# --------------------------------------------------------------------------- the error table

@dataclass(frozen=True)
class Answer:
    """What a plugin read from an error answer, handed to the error table."""

    response: httpx.Response
    platform: str
    message: str = ""
    code: str | int | None = None
    request_id: str | None = None
    item: str | None = None

    @property
    def status(self) -> int:
        return self.response.status_code

    def words(self) -> str:
        """The platform's words, or the HTTP status when it said none."""
        return self.message or f"HTTP {self.status}"


Override = Callable[[Answer], BridgeError | None]


def default_error(answer: Answer, *, retry_after_default: float = 1.0) -> BridgeError:
    """The core's reading of an error status, for every platform alike."""
    status, name = answer.status, answer.platform
    if status == 401:
        return NeedsReconnect(
            f"{name} refused bridge's credentials ({answer.words()}): if this persists, connect "
            "the store again", definitive=False, detail=f"HTTP 401 request {answer.request_id}")
    if status == 429:
        wait = retry_after_seconds(answer.response, default=retry_after_default)
        return RateLimited(f"{name}: rate limited, retry in {wait:.0f}s", retry_after=wait,
                           detail=answer.message or None)
    if status >= 500:
        return Transient(f"{name} answered {status} ({answer.words()}): retried later",
                         detail=f"request {answer.request_id}" if answer.request_id else None)
    return Rejected(f"{name}: {answer.words()}", code=answer.code if answer.code is not None else status,
                    request_id=answer.request_id, item=answer.item)


@dataclass(frozen=True)
class ErrorTable:
    """Status → error, the core's defaults plus a platform's overrides.

    ``overrides`` maps a status (``403``) or a class (``"5xx"``) to a function of the
    :class:`Answer` returning the error, or None to fall back to the default.
    """

    platform: str
    overrides: Mapping[int | str, Override] = field(default_factory=dict)
    retry_after_default: float = 1.0

    def error(self, response: httpx.Response, *, message: str = "", code: str | int | None = None,
              request_id: str | None = None, item: str | None = None) -> BridgeError | None:
        """The error ``response`` means, or None for a success (below 400)."""
        status = response.status_code
        if status < 400:
            return None
        answer = Answer(response, self.platform, message.strip(), code, request_id, item)
        for key in (status, f"{status // 100}xx"):
            override = self.overrides.get(key)
            if override is not None:
                err = override(answer)
                if err is not None:
                    return err
        return default_error(answer, retry_after_default=self.retry_after_default)

    def raise_for(self, response: httpx.Response, **kw: Any) -> None:
        """Raise :meth:`error` of ``response`` if it is an error."""
        err = self.error(response, **kw)
        if err is not None:
            raise err


# --------------------------------------------------------------------------- the client

class HttpClient:
    """An httpx client bound to one store of one platform. Use :func:`make_client`."""

    def __init__(
        self,
        client: httpx.Client,
        *,
        platform: str,
        store_key: str,
        pacer: Pacer | None,
        secrets: list[str],
        retry: RetryPolicy,
    ) -> None:
        self.client = client
        self.platform = platform
        self.store_key = store_key
        self.pacer = pacer
        self.secrets = secrets
        self.retry = retry
        self.request_count = 0
        self.retries = 0
        """Requests sent again by this client (reads and idempotent writes)."""

    @property
    def base_url(self) -> httpx.URL:
        return self.client.base_url

    @property
    def max_retries(self) -> int:
        return self.retry.attempts - 1

    def add_secret(self, value: str | None) -> None:
        """Redact ``value`` from this client's logs from now on."""
        if value and value not in self.secrets:
            self.secrets.append(value)

    def _where(self, url: str) -> str:
        """Host and port of a request, for messages that say where bridge could not reach."""
        target = self.client.base_url.join(url) if self.client.base_url.host else httpx.URL(url)
        port = target.port or (443 if target.scheme == "https" else 80)
        return f"{target.host}:{port}" if target.host else url

    def request(
        self, method: str, url: str, *, rate_key: str = "default", idempotent: bool | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send a request; retry what is safe to retry (see the module's docstring).

        :param rate_key: which of the pacer's limits this call spends (``"default"`` when the
            platform has a single limit).
        :param idempotent: True when sending the request twice has the effect of sending it once
            (an absolute set, a search by POST, a create with an idempotency key); the default
            follows the method (GET, HEAD, OPTIONS, PUT, DELETE).
        :returns: the response, also a 4xx, or a 5xx of an idempotent request after the retries.
        :raises OutcomeUnknown: a non-idempotent write may have been processed; not sent again.
        :raises Transient: the platform could not be reached within the retries.
        :raises RateLimited: 429 after the retries, or a wait too long to spend inline.
        """
        idem = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        policy = self.retry
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            if self.pacer is not None:
                self.pacer.before(rate_key)
            started = time.perf_counter()
            try:
                response = self.client.request(method, url, **kwargs)
            except BaseException as exc:
                if self.pacer is not None:
                    unanswered(self.pacer, rate_key)
                if not isinstance(exc, httpx.TransportError):
                    raise
                metrics.inc("bridge_api_errors_total", platform=self.platform)
                kind = type(exc).__name__
                if not idem and not isinstance(exc, NOT_SENT):
                    raise OutcomeUnknown(
                        f"{self.platform}: the answer to {method} {httpx.URL(url).path} was lost "
                        f"({kind}): bridge looks it up before writing again",
                        detail=redact(str(exc), self.secrets)) from None
                wait = policy.backoff(attempt)
                if attempt < policy.attempts and waited + wait <= policy.budget:
                    waited += self.pause_before_retry(wait)
                    continue
                raise Transient(
                    f"{self.platform}: cannot reach {self._where(url)}: {kind}: check the host and "
                    "port (a base URL setting or BRIDGE_<PLATFORM>_BASE_URL) and that the server "
                    "is up and reachable from here",
                    detail=redact(str(exc), self.secrets),
                ) from None
            self.request_count += 1
            metrics.inc("bridge_api_calls_total", platform=self.platform, status=str(response.status_code))
            if self.pacer is not None:
                self.pacer.after(rate_key, response)
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s -> %s (%.0f ms)",
                    method,
                    redact(redact_url(response.request.url), self.secrets),
                    response.status_code,
                    (time.perf_counter() - started) * 1000,
                )
            status = response.status_code
            if status not in RETRY_STATUSES:
                return response
            if status != 429 and not idem:
                metrics.inc("bridge_api_errors_total", platform=self.platform)
                raise OutcomeUnknown(
                    f"{self.platform} answered {status} to {method} {httpx.URL(url).path}: whether "
                    "it was done is unknown; bridge looks it up before writing again", status=status)
            wait = retry_after_seconds(response, default=policy.backoff(attempt))
            if status == 429:
                metrics.inc("bridge_rate_limit_waits_total", platform=self.platform)
            if attempt < policy.attempts and wait <= MAX_INLINE_WAIT and waited + wait <= policy.budget:
                if status == 429:
                    metrics.inc("bridge_rate_limit_wait_seconds_total", wait, platform=self.platform)
                waited += self.pause_before_retry(wait)
                continue
            if status == 429:
                raise RateLimited(
                    f"{self.platform}: rate limited, retry in {wait:.0f}s", retry_after=wait
                )
            return response

    def pause_before_retry(self, wait: float) -> float:
        """Wait ``wait`` seconds before sending a request again, counted as a retry (this
        client's ``retries``, ``bridge_api_retries_total``); also for a caller that retries a
        request it sends through ``client`` itself (a streamed download). Returns ``wait``."""
        self.retries += 1
        metrics.inc("bridge_api_retries_total", platform=self.platform)
        time.sleep(wait)
        return wait

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


def read_json(response: httpx.Response, *, platform: str, write: bool = False) -> Any:
    """A success's JSON body. A body that cannot be read is a lost answer: for a write
    :class:`OutcomeUnknown` (it may have been done), for a read :class:`Transient`."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        req = response.request
        what = f"{req.method} {req.url.path}"
        if write:
            raise OutcomeUnknown(f"{platform}: the answer to {what} could not be read: bridge looks "
                                 "it up before writing again", status=response.status_code) from None
        raise Transient(f"{platform}: the answer to {what} could not be read (not JSON): "
                        "retried later") from None


def make_client(
    base_url: str,
    *,
    platform: str,
    store_key: str = "",
    headers: dict[str, str] | None = None,
    auth: httpx.Auth | None = None,
    pacer: Pacer | None = None,
    rate_limits: dict[str, RateLimit] | None = None,
    secrets: list[str] | None = None,
    timeout: float = 30.0,
    max_retries: int | None = None,
    retry: RetryPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
    follow_redirects: bool = False,
) -> HttpClient:
    """Build the HTTP client a plugin uses for one store.

    :param base_url: the platform host, or a sandbox's (checked: https, or http on loopback).
    :param store_key: names the store in logs and metrics.
    :param pacer: paces requests (shared by the store's clients: see
        :meth:`bridge.connection.Connection.http_client`); ``rate_limits`` builds a private
        :class:`~bridge.pacing.BucketPacer` when no pacer is given.
    :param secrets: values to redact from logs (tokens, keys).
    :param max_retries: shorthand for a :class:`RetryPolicy` with ``max_retries + 1`` attempts.
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
    policy = retry or RetryPolicy()
    if max_retries is not None:
        policy = RetryPolicy(attempts=max_retries + 1, base=policy.base, cap=policy.cap,
                             budget=policy.budget)
    if pacer is None and rate_limits:
        pacer = BucketPacer(rate_limits, platform)
    return HttpClient(
        client,
        platform=platform,
        store_key=store_key or base,
        pacer=pacer,
        secrets=list(secrets or []),
        retry=policy,
    )

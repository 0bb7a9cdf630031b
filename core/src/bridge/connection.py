"""What a platform operation receives: :class:`Connection` (one store) and :class:`AppContext`
(the platform's bridge-wide app settings)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from bridge import pacing
from bridge.errors import Misconfigured
from bridge.http import HttpClient, make_client
from bridge.pacing import BucketPacer, Pacer, RateLimit

P = TypeVar("P")


class MemoryState(dict):
    """A per-store key-value store kept in memory (tests, ``bridge connect`` before saving)."""

    def get_many(self, keys: Iterable[str]) -> dict[str, Any]:
        """The values of those of ``keys`` that are kept (as :meth:`bridge.stores.DbState.get_many`)."""
        return {k: self[k] for k in keys if k in self}


@dataclass
class AppContext:
    """The bridge-wide settings of one platform (an OAuth app's key and secret, ...)."""

    platform: str
    settings: dict[str, Any] = field(default_factory=dict)
    public_url: str = "http://127.0.0.1:8765"
    transport: httpx.BaseTransport | None = None
    _clients: dict[str, HttpClient] = field(default_factory=dict, repr=False)

    def require(self, name: str) -> Any:
        """An app setting, or a clear error that says how to set it."""
        value = self.settings.get(name)
        if value in (None, ""):
            env = f"BRIDGE_{self.platform.upper()}_{name.upper()}"
            raise Misconfigured(
                f"{self.platform}: app setting '{name}' is not set: export {env}=... or run "
                f"`bridge config set {self.platform}.{name} ...`"
            )
        return value

    def http_client(self, base_url: str, **kwargs: Any) -> HttpClient:
        """A shared client for app-level calls (token exchange) to ``base_url``."""
        key = base_url
        if key not in self._clients:
            kwargs.setdefault("transport", self.transport)
            self._clients[key] = make_client(base_url, platform=self.platform, **kwargs)
        return self._clients[key]


@dataclass
class Connection:
    """One connected (or being-connected) store, as a plugin sees it.

    ``settings`` are the non-secret settings (including ``base_url`` when pointed at a sandbox),
    ``credentials`` the decrypted secrets. Call :meth:`save_credentials` after a token refresh so
    the core stores the new tokens (encrypted). ``state`` is a small persistent key-value store
    for caches (image uploads, category trees, webhook secrets); the core's kinds of it also
    answer ``get_many(keys)`` (several values, one read).
    """

    platform: str
    settings: dict[str, Any]
    credentials: dict[str, Any]
    app: AppContext
    store_id: int | None = None
    remote_id: str | None = None
    state: MutableMapping[str, Any] = field(default_factory=MemoryState)
    on_credentials: Callable[[dict[str, Any]], None] | None = None
    load_credentials: Callable[[], dict[str, Any]] | None = None
    """Reads the credentials as stored now (another process may have refreshed them)."""
    transport: httpx.BaseTransport | None = None
    _clients: dict[str, HttpClient] = field(default_factory=dict, repr=False)
    _pacers: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _flights: dict[str, list[Any]] = field(default_factory=dict, repr=False)

    @property
    def base_url(self) -> str | None:
        """The base URL override (a sandbox), or None for the platform's real host: the store's
        own setting, else the bridge-wide ``BRIDGE_<PLATFORM>_BASE_URL``."""
        return self.settings.get("base_url") or self.app.settings.get("base_url") or None

    @property
    def store_key(self) -> str:
        return f"{self.platform}:{self.store_id or self.remote_id or id(self)}"

    def setting(self, name: str, default: Any = None) -> Any:
        value = self.settings.get(name)
        return default if value in (None, "") else value

    def secret(self, name: str) -> Any:
        """A credential, or a clear error naming it."""
        value = self.credentials.get(name)
        if value in (None, ""):
            raise Misconfigured(
                f"{self.platform}: credential '{name}' is missing: run `bridge connect {self.platform}` again"
            )
        return value

    def save_credentials(self, new: dict[str, Any]) -> None:
        """Merge refreshed secrets into ``credentials`` and have the core keep them."""
        with self._lock:
            self.credentials.update(new)
        self._redact(new)
        if self.on_credentials:
            self.on_credentials(dict(self.credentials))

    def renew_credentials(self, field: str, stale: Any,
                          renew: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
        """Renew the credentials once across every thread and process of the deployment.

        ``stale`` is the value of ``field`` (the access token) the caller found wanting. Under
        the store's refresh lock (:func:`bridge.coordination.named_lock`: Redis, else a
        PostgreSQL advisory lock) the stored credentials are read again: when ``field`` has
        changed since, another worker has renewed them and they are taken as they are;
        otherwise ``renew(credentials)`` asks the platform and its answer is kept
        (:meth:`save_credentials`). Returns the credentials now in use.
        """
        from bridge import coordination

        with coordination.named_lock(f"refresh:{self.store_key}", local=self.store_id is None):
            with self._lock:
                current = dict(self.credentials)
            if self.load_credentials is not None:
                current.update(self.load_credentials())
            with self._lock:
                self.credentials.update(current)
            self._redact(current)
            if current.get(field) and current.get(field) != stale:  # renewed by another worker
                return self.credentials
            self.save_credentials(renew(current))
            return self.credentials

    def _redact(self, secrets: dict[str, Any]) -> None:
        with self._lock:
            for client in self._clients.values():
                for v in secrets.values():
                    if isinstance(v, str):
                        client.add_secret(v)

    @contextlib.contextmanager
    def single_flight(self, key: str) -> Iterator[None]:
        """Hold this store's lock ``key`` among the threads of this process: a plugin filling
        a cache (a shop's warehouses, an uploaded image) looks again under it, so that tasks
        of one store running at once fetch or upload a thing once, not once each. The lock
        lives while someone holds or waits for it."""
        with self._lock:
            entry = self._flights.get(key)
            if entry is None:
                entry = self._flights[key] = [threading.Lock(), 0]
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._lock:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._flights[key]

    def pacer(self, name: str, factory: Callable[[], P]) -> P:
        """The store's shared pacer called ``name`` (every client and worker of this store in
        the process shares it; see :mod:`bridge.pacing`), made by ``factory`` on first use.
        A connection not yet tied to a store (no id: being connected, a test) keeps its own."""
        if self.store_id is None and self.remote_id is None:
            with self._lock:
                if name not in self._pacers:
                    self._pacers[name] = factory()
                return self._pacers[name]  # type: ignore[no-any-return]
        return pacing.registry().get(self.store_key, name, factory)

    def http_client(
        self,
        base_url: str,
        *,
        name: str = "default",
        pacer: Pacer | None = None,
        rate_limits: dict[str, RateLimit] | None = None,
        **kwargs: Any,
    ) -> HttpClient:
        """The store's HTTP client for ``base_url`` (created once, then reused).

        :param pacer: paces the client's requests (a :class:`~bridge.pacing.Pacer`, usually from
            :meth:`pacer` so that it is shared by the store's clients).
        :param rate_limits: documented limits per rate key: the store's shared
            :class:`~bridge.pacing.BucketPacer` named after the client, set to these limits.
        Credentials of this connection are redacted from its logs.
        """
        if pacer is None and rate_limits:
            platform = self.platform
            pacer = self.pacer(f"buckets:{name}", lambda: BucketPacer(rate_limits, platform))
            if pacer.limits != rate_limits:
                pacer.configure(rate_limits)
        with self._lock:
            key = f"{name}:{base_url}"
            client = self._clients.get(key)
            if client is None:
                secrets = [v for v in self.credentials.values() if isinstance(v, str)]
                kwargs.setdefault("transport", self.transport)
                client = make_client(
                    base_url,
                    platform=self.platform,
                    store_key=self.store_key,
                    pacer=pacer,
                    secrets=secrets,
                    **kwargs,
                )
                self._clients[key] = client
            return client

    def close(self) -> None:
        for c in self._clients.values():
            c.close()
        self._clients.clear()

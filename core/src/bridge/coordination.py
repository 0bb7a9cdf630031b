"""What bridge processes share beyond the database: the Redis connection and named locks.

With ``redis_url`` set (``BRIDGE_REDIS_URL``), every process of one deployment shares its rate
limits and cost budgets (:mod:`bridge.shared_pacing`) and its token refreshes (:func:`named_lock`)
through that Redis. Without it a lock is a PostgreSQL advisory lock when the database is
PostgreSQL (processes sharing a database share its locks), else a lock of this process (SQLite:
one process writes at a time anyway).

Redis is an optional extra (``bridge-core[scale]``): it is imported only when configured.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator
from typing import Any

from bridge import config
from bridge.errors import Misconfigured, Transient

#: Longest a lock is held before Redis lets it go (a process killed while holding it).
LOCK_TTL = 60.0
#: Longest a process waits for a lock another holds.
LOCK_WAIT = 90.0

_clients: dict[str, Any] = {}
_local_locks: dict[str, threading.Lock] = {}
_guard = threading.Lock()


def redis_url() -> str | None:
    """The configured Redis URL, or None (limits and locks stay in the process / database)."""
    return config.load().redis_url


def key(*parts: str) -> str:
    """A Redis key of this deployment (``redis_namespace``, then ``parts``)."""
    return ":".join((config.load().redis_namespace, *parts))


def redis_client(url: str | None = None) -> Any:
    """The process's Redis client for ``url`` (default: the configured one), made once.

    :raises Misconfigured: no Redis URL is configured, or the ``redis`` package is missing.
    """
    url = url or redis_url()
    if not url:
        raise Misconfigured("no Redis is configured: set BRIDGE_REDIS_URL (or `bridge config set "
                            "redis_url redis://HOST:6379/0`)")
    with _guard:
        client = _clients.get(url)
        if client is None:
            try:
                import redis
            except ImportError:
                raise Misconfigured("redis_url is set but the redis package is missing: install "
                                    "bridge-core[scale]") from None
            client = _clients[url] = redis.Redis.from_url(url, socket_timeout=10,
                                                          socket_connect_timeout=5,
                                                          health_check_interval=30)
        return client


def redis_errors() -> tuple[type[BaseException], ...]:
    """The exceptions of an unreachable Redis (to be turned into :class:`Transient`)."""
    import redis

    return (redis.ConnectionError, redis.TimeoutError)


def _advisory_key(name: str) -> int:
    """A signed 64-bit key for ``pg_advisory_lock`` from a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.contextmanager
def named_lock(name: str, *, timeout: float = LOCK_WAIT, local: bool = False) -> Iterator[None]:
    """Hold the lock ``name`` across every process of the deployment (see the module text);
    ``local``: in this process only (what is locked is not shared: a store being connected).

    :raises Transient: the lock was not had within ``timeout`` seconds, or Redis is unreachable.
    """
    with _guard:
        mine = _local_locks.setdefault(name, threading.Lock())
    if not mine.acquire(timeout=timeout):  # threads of this process queue here, not at Redis
        raise Transient(f"lock '{name}' held elsewhere for more than {timeout:.0f}s: retried later")
    try:
        if local:
            yield
            return
        if redis_url():
            with _redis_lock(name, timeout):
                yield
            return
        from bridge import db

        engine = db.get_engine()
        if engine.dialect.name == "postgresql":
            with _pg_lock(engine, name, timeout):
                yield
            return
        yield
    finally:
        mine.release()


@contextlib.contextmanager
def _redis_lock(name: str, timeout: float) -> Iterator[None]:
    client = redis_client()
    lock = client.lock(key("lock", name), timeout=LOCK_TTL, blocking_timeout=timeout)
    try:
        had = lock.acquire()
    except redis_errors() as exc:
        raise Transient(f"Redis is unreachable ({type(exc).__name__}): retried later") from None
    if not had:
        raise Transient(f"lock '{name}' held elsewhere for more than {timeout:.0f}s: retried later")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # expired meanwhile: Redis already let it go
            lock.release()


@contextlib.contextmanager
def _pg_lock(engine: Any, name: str, timeout: float) -> Iterator[None]:
    from sqlalchemy import text

    lock_id = _advisory_key(name)
    with engine.connect() as conn:
        conn.execute(text("SELECT set_config('lock_timeout', :v, false)"), {"v": f"{int(timeout * 1000)}ms"})
        try:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": lock_id})
        except Exception:  # noqa: BLE001 - lock_timeout: another process holds it too long
            conn.rollback()
            raise Transient(f"lock '{name}' held elsewhere for more than {timeout:.0f}s: "
                            "retried later") from None
        conn.commit()
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": lock_id})
            conn.execute(text("SELECT set_config('lock_timeout', '0', false)"))
            conn.commit()

"""Figures of a scale-out that no single process sees, kept in Redis and read at scrape time by
``/metrics`` (:class:`bridge.metrics.ScaleCollector`): how long tasks waited in the queue (per
task name, every worker), the seconds each shop's requests waited on the shared limits
(:mod:`bridge.shared_pacing`), and how many messages wait in the workers' queue (asked of the
broker). Nothing is read or written without ``redis_url``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from bridge import config, coordination

log = logging.getLogger("bridge.metrics")

#: Redis hashes (in the deployment's namespace): task name -> tasks started / seconds queued.
STARTED, WAITED = "tasks:started", "tasks:waited"


def task_started(task: str, queued_at: float | None) -> None:
    """Count a task starting after ``queued_at`` (a time.time() of the sender; None: unknown)."""
    if queued_at is None or not coordination.redis_url():
        return
    try:
        pipe = coordination.redis_client().pipeline()
        pipe.hincrby(coordination.key(STARTED), task, 1)
        pipe.hincrbyfloat(coordination.key(WAITED), task, max(0.0, time.time() - queued_at))
        pipe.execute()
    except coordination.redis_errors() as exc:  # figures only: the task runs all the same
        log.warning("metrics: task latency not recorded (%s)", type(exc).__name__)


def task_latency() -> dict[str, tuple[int, float]]:
    """Task name -> (tasks started, seconds they waited in the queue altogether)."""
    client = coordination.redis_client()
    started = client.hgetall(coordination.key(STARTED))
    waited = client.hgetall(coordination.key(WAITED))
    return {k.decode(): (int(v), float(waited.get(k, 0))) for k, v in started.items()}


def limiter_waits() -> dict[str, float]:
    """Store -> seconds its requests waited on the shared limits (every process)."""
    from bridge.shared_pacing import limiter_waits as waits

    return waits(coordination.redis_client())


def queue_depth() -> dict[str, int]:
    """Queue -> messages waiting for a worker (asked of the broker; empty without one)."""
    settings = config.load()
    if not settings.broker_url:
        return {}
    from kombu import Connection

    queue = settings.redis_namespace
    with Connection(settings.broker_url, connect_timeout=2) as conn:
        channel: Any = conn.default_channel
        try:
            return {queue: int(channel.queue_declare(queue=queue, passive=True).message_count)}
        except Exception as exc:
            # no such queue: never declared (RabbitMQ), or no message in it (Redis keeps none)
            if getattr(exc, "code", None) == 404 or "NOT_FOUND" in str(exc):
                return {queue: 0}
            raise

"""Every metric bridge exposes at ``/metrics``, declared here from the start (prometheus_client).

One module holds every family, so ``/metrics`` shows each ``# HELP``/``# TYPE`` before anything
ran, and a new family (queue metrics of a scale-out) is added in one place. Counters are kept
per process; the gauges of state (held orders and tracking, lag since the last successful run)
are read from the database at scrape time, so every process reports the same truth.

Callers use :func:`inc` with the family's full sample name (``bridge_runs_total``) and its
labels; a label left out is recorded as ``""``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger("bridge.metrics")

REGISTRY = CollectorRegistry()

#: sample name -> the counter (declared once, exported even while zero).
COUNTERS: dict[str, Counter] = {
    f"{c._name}_total": c  # type: ignore[attr-defined]
    for c in (
        Counter("bridge_runs", "Flow runs, by flow and outcome (ok, partial, failed, aborted).",
                ["flow", "outcome"], registry=REGISTRY),
        Counter("bridge_items", "Items handled by flows, by flow and outcome (synced, failed).",
                ["flow", "outcome"], registry=REGISTRY),
        Counter("bridge_errors", "Errors in flows, by flow and error kind.", ["flow", "kind"],
                registry=REGISTRY),
        Counter("bridge_api_calls", "HTTP calls answered by platforms, by platform and status.",
                ["platform", "status"], registry=REGISTRY),
        Counter("bridge_api_errors", "HTTP calls to platforms that failed without a usable answer.",
                ["platform"], registry=REGISTRY),
        Counter("bridge_api_retries", "HTTP calls retried after a transient failure, by platform.",
                ["platform"], registry=REGISTRY),
        Counter("bridge_rate_limit_waits", "Waits imposed by rate limits or cost budgets, by platform.",
                ["platform"], registry=REGISTRY),
        Counter("bridge_rate_limit_wait_seconds", "Seconds spent waiting on rate limits, by platform.",
                ["platform"], registry=REGISTRY),
        Counter("bridge_webhooks", "Webhook deliveries received, by platform, outcome and topic.",
                ["platform", "outcome", "topic"], registry=REGISTRY),
        Counter("bridge_alerts_sent", "Alerts sent to a person, by condition kind and channel "
                "(email, webhook).", ["kind", "channel"], registry=REGISTRY),
        Counter("bridge_alert_failures", "Alert sends that failed (retried at the next check), by "
                "channel.", ["channel"], registry=REGISTRY),
    )
}


class StateCollector(Collector):
    """Gauges read from the database when scraped: held orders and tracking, lag per flow."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without values: registering reads no database."""
        return iter(self._families())

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, GaugeMetricFamily, GaugeMetricFamily]:
        held_orders = GaugeMetricFamily("bridge_held_orders", "TikTok orders held (not created in "
                                        "the store) and waiting for a person.")
        held_tracking = GaugeMetricFamily("bridge_held_tracking", "Tracking pushes held and waiting "
                                          "for a person.")
        lag = GaugeMetricFamily("bridge_seconds_since_success", "Seconds since the last successful "
                                "run of each flow (any organization).", labels=["flow"])
        return held_orders, held_tracking, lag

    def collect(self) -> Iterator[GaugeMetricFamily]:
        held_orders, held_tracking, lag = self._families()
        try:
            self._fill(held_orders, held_tracking, lag)
        except Exception as exc:  # noqa: BLE001 - a scrape must answer even without a database
            log.warning("metrics: state gauges unavailable: %s", exc)
        yield held_orders
        yield held_tracking
        yield lag

    @staticmethod
    def _fill(held_orders: GaugeMetricFamily, held_tracking: GaugeMetricFamily,
              lag: GaugeMetricFamily) -> None:
        from sqlalchemy import func
        from sqlmodel import col, select

        from bridge import db
        from bridge.statuses import OrderStatus, PushStatus, RunStatus
        from bridge.tables import OrderLink, SyncRun, TrackingPushRecord, utcnow

        with db.session() as s:
            orders = s.exec(select(func.count()).select_from(OrderLink)
                            .where(OrderLink.status == OrderStatus.HELD)).one()
            tracking = s.exec(select(func.count()).select_from(TrackingPushRecord)
                              .where(TrackingPushRecord.status == PushStatus.HELD)).one()
            last = list(s.exec(select(SyncRun.flow, func.max(SyncRun.finished_at))
                               .where(col(SyncRun.status).in_((RunStatus.OK, RunStatus.PARTIAL)))
                               .group_by(SyncRun.flow)))
        held_orders.add_metric([], float(orders))
        held_tracking.add_metric([], float(tracking))
        now = utcnow()
        for flow, at in last:
            if at is not None:
                if at.tzinfo is None:
                    at = at.replace(tzinfo=now.tzinfo)
                lag.add_metric([flow], max(0.0, (now - at).total_seconds()))


REGISTRY.register(StateCollector())


class ScaleCollector(Collector):
    """Gauges of a scale-out read from Redis and the broker when scraped (empty without
    ``redis_url``): queue depth, task latency, per-shop waits on the shared limits."""

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(self._families())

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily("bridge_queue_depth", "Tasks waiting in the workers' queue.",
                              labels=["queue"]),
            GaugeMetricFamily("bridge_tasks_started", "Tasks started by every worker, by task.",
                              labels=["task"]),
            GaugeMetricFamily("bridge_task_queued_seconds", "Seconds tasks waited in the queue "
                              "before a worker started them, summed, by task (divide by "
                              "bridge_tasks_started for the mean latency).", labels=["task"]),
            GaugeMetricFamily("bridge_limiter_wait_seconds", "Seconds requests waited on the "
                              "rate limits shared through Redis, by store (every process).",
                              labels=["store"]),
        )

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth, started, queued, waits = self._families()
        from bridge import coordination

        try:
            if coordination.redis_url():
                from bridge import scale_metrics

                for task, (n, seconds) in scale_metrics.task_latency().items():
                    started.add_metric([task], float(n))
                    queued.add_metric([task], seconds)
                for store, seconds in scale_metrics.limiter_waits().items():
                    waits.add_metric([store], seconds)
                for queue, n in scale_metrics.queue_depth().items():
                    depth.add_metric([queue], float(n))
        except Exception as exc:  # noqa: BLE001 - a scrape must answer without Redis or broker
            log.warning("metrics: scale-out gauges unavailable: %s", exc)
        yield from (depth, started, queued, waits)


REGISTRY.register(ScaleCollector())


def inc(name: str, value: float = 1.0, **labels: str) -> None:
    """Add ``value`` to the counter sample ``name`` (e.g. ``bridge_runs_total``) with ``labels``.

    :raises KeyError: ``name`` is not declared here (declare it in :data:`COUNTERS`).
    """
    counter = COUNTERS[name]
    names = counter._labelnames  # type: ignore[attr-defined]
    counter.labels(**{k: str(labels.get(k, "")) for k in names}).inc(value)


def value(name: str, **labels: str) -> float:
    """The counter's value summed over the samples matching ``labels`` (0 when none)."""
    total = 0.0
    for metric in COUNTERS[name].collect():
        for sample in metric.samples:
            if sample.name == name and all(sample.labels.get(k) == str(v) for k, v in labels.items()):
                total += sample.value
    return total


def render() -> str:
    """Every family in the Prometheus text exposition format."""
    return generate_latest(REGISTRY).decode()

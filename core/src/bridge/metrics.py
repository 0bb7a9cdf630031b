"""Process-wide counters, exposed at ``/metrics`` in the Prometheus text format."""

from __future__ import annotations

import threading
from collections import defaultdict

_lock = threading.Lock()
_counters: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)

HELP = {
    "bridge_jobs_total": "Jobs run, by flow and outcome.",
    "bridge_items_synced_total": "Items written by flows, by flow.",
    "bridge_errors_total": "Errors in flows, by flow and kind.",
    "bridge_api_calls_total": "HTTP calls made to platforms.",
    "bridge_api_errors_total": "HTTP calls that failed at the network level.",
    "bridge_rate_limit_waits_total": "Waits imposed by rate limits, by platform.",
    "bridge_webhooks_total": "Webhook deliveries, by platform and outcome.",
}


def inc(name: str, value: float = 1.0, **labels: str) -> None:
    """Add ``value`` to the counter ``name`` with ``labels``."""
    key = (name, tuple(sorted((k, str(v)) for k, v in labels.items())))
    with _lock:
        _counters[key] += value


def value(name: str, **labels: str) -> float:
    """The counter's value (0 when never incremented)."""
    key = (name, tuple(sorted((k, str(v)) for k, v in labels.items())))
    with _lock:
        return _counters.get(key, 0.0)


def render() -> str:
    """All counters in the Prometheus text exposition format."""
    with _lock:
        items = sorted(_counters.items())
    out: list[str] = []
    seen: set[str] = set()
    for (name, labels), v in items:
        if name not in seen:
            seen.add(name)
            out.append(f"# HELP {name} {HELP.get(name, name)}")
            out.append(f"# TYPE {name} counter")
        lab = ",".join(f'{k}="{val}"' for k, val in labels)
        out.append(f"{name}{{{lab}}} {v:g}" if lab else f"{name} {v:g}")
    return "\n".join(out) + "\n"

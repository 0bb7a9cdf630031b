"""Request statistics every sandbox keeps: counts by method and route, writes, rate-limited and
faulted answers."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestStats:
    """Counts of requests a sandbox served, by method and by (method, route)."""

    WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_route: Counter[str] = Counter()
        self.total = 0
        self.writes = 0
        self.throttled = 0
        self.faulted = 0
        """Requests answered by an injected fault (see :mod:`bridge.sandboxing.faults`)."""

    def record(self, method: str, route: str, *, write: bool | None = None) -> None:
        """Count a request; ``write`` overrides the method's verdict (GraphQL mutations, or a
        search made with POST that is a read)."""
        with self.lock:
            self.total += 1
            self.by_route[f"{method} {route}"] += 1
            if write if write is not None else method in self.WRITE_METHODS:
                self.writes += 1

    def throttle(self) -> None:
        """Count a request the platform's rate limit refused."""
        with self.lock:
            self.throttled += 1

    def fault(self) -> None:
        """Count a request an injected fault answered."""
        with self.lock:
            self.faulted += 1

    def reset(self) -> None:
        with self.lock:
            self.by_route.clear()
            self.total = self.writes = self.throttled = self.faulted = 0

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "total": self.total,
                "writes": self.writes,
                "throttled": self.throttled,
                "faulted": self.faulted,
                "by_route": dict(self.by_route),
            }



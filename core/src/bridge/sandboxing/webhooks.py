"""Webhook delivery for sandboxes: only to the addresses the platform holds subscriptions for,
signed by the plugin's own signing function, from one background thread per sandbox.

A sandbox gives the deliverer a function returning its current :class:`Subscription` list (the
subscriptions its API created) and a ``headers`` function that signs one delivery as its platform
does. ``emit(topic, payload)`` queues one POST per subscription of that topic; the log keeps every
attempt's address, topic and status.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

log = logging.getLogger("bridge.sandboxing.webhooks")


@dataclass
class Subscription:
    """A webhook subscription as the platform holds it."""

    id: str
    topic: str
    address: str
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict)
    """Platform details (shop id, format, hook headers, failure count ...)."""

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "address": self.address, "active": self.active,
                **{k: v for k, v in self.extra.items() if not k.startswith("_")}}


Signer = Callable[[Subscription, str, bytes], dict[str, str]]
"""(subscription, topic, body) -> the headers of that delivery, signature included."""


def exact_topic(sub_topic: str, topic: str) -> bool:
    return sub_topic == topic


@dataclass
class _Job:
    sub: Subscription
    topic: str
    body: bytes
    headers: dict[str, str]


class WebhookDeliverer:
    """Delivers a sandbox's webhooks (see the module docstring)."""

    def __init__(self, name: str, subscriptions: Callable[[], list[Subscription]], sign: Signer, *,
                 matches: Callable[[str, str], bool] = exact_topic, timeout: float = 5.0,
                 on_result: Callable[[Subscription, int], None] | None = None) -> None:
        self.name = name
        self.subscriptions = subscriptions
        self.sign = sign
        self.matches = matches
        self.timeout = timeout
        self.on_result = on_result
        """Called with (subscription, HTTP status or 0) after each attempt (platforms that
        disable failing subscriptions count here)."""
        self.lock = threading.Lock()
        self.log: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        """Pending delivery faults: ``{"kind": "drop" | "duplicate", "count": n, "topic": t}``."""
        self._queue: queue.Queue[_Job] = queue.Queue()
        self._thread: threading.Thread | None = None

    def emit(self, topic: str, payload: dict[str, Any] | bytes,
             only: Callable[[Subscription], bool] | None = None) -> int:
        """Queue ``payload`` (JSON-encoded when a dict) to every active subscription of ``topic``
        (and ``only`` when given); returns how many deliveries were queued."""
        body = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        targets = [s for s in self.subscriptions()
                   if s.active and self.matches(s.topic, topic) and (only is None or only(s))]
        for sub in targets:
            self.send(sub, topic, body)
        return len(targets)

    def fail_next(self, kind: str, count: int = 1, topic: str | None = None) -> None:
        """The next ``count`` deliveries (of ``topic``, or any) are lost (``drop``: never sent,
        the platform believes it delivered) or sent twice (``duplicate``: at-least-once
        delivery, the same body and headers again)."""
        if kind not in ("drop", "duplicate"):
            raise ValueError("a delivery fault is 'drop' or 'duplicate'")
        if count < 1:
            raise ValueError("a delivery fault's count must be at least 1")
        with self.lock:
            self.faults.append({"kind": kind, "count": int(count), "topic": topic})

    def _take_fault(self, topic: str) -> str | None:
        with self.lock:
            for fault in self.faults:
                if fault["topic"] in (None, topic):
                    fault["count"] -= 1
                    if fault["count"] <= 0:
                        self.faults.remove(fault)
                    return str(fault["kind"])
        return None

    def send(self, sub: Subscription, topic: str, body: bytes,
             headers: dict[str, str] | None = None) -> None:
        """Queue one delivery to a subscribed address (``headers`` replace the signer's: the
        unsigned pings some platforms send on creation)."""
        job = _Job(sub, topic, body, headers if headers is not None else self.sign(sub, topic, body))
        fault = self._take_fault(topic)
        if fault == "drop":
            with self.lock:
                self.log.append({"subscription": sub.id, "topic": topic, "address": sub.address,
                                 "status": None, "error": "dropped (injected)", "body": body,
                                 "headers": job.headers, "at": time.time()})
            return
        self._queue.put(job)
        if fault == "duplicate":
            self._queue.put(job)
        with self.lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"{self.name}-webhooks", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout, follow_redirects=False) as client:
            while True:
                job = self._queue.get()
                try:
                    status = client.post(job.sub.address, content=job.body, headers=job.headers).status_code
                    error = None
                except httpx.HTTPError as exc:
                    status, error = 0, type(exc).__name__
                    log.warning("%s webhook to %s failed: %s", self.name, job.sub.address, error)
                with self.lock:
                    self.log.append({"subscription": job.sub.id, "topic": job.topic,
                                     "address": job.sub.address, "status": status, "error": error,
                                     "body": job.body, "headers": job.headers, "at": time.time()})
                if self.on_result:
                    try:
                        self.on_result(job.sub, status)
                    except Exception:  # pragma: no cover - a sandbox bug must not kill the thread
                        log.exception("%s webhook result handler failed", self.name)
                self._queue.task_done()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued delivery was attempted."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    def deliveries(self) -> list[dict[str, Any]]:
        """The delivery log without bodies and headers (for the control API)."""
        with self.lock:
            return [{k: v for k, v in d.items() if k not in ("body", "headers")} for d in self.log]

    def reset(self) -> None:
        self.flush(1.0)
        with self.lock:
            self.log.clear()
            self.faults.clear()

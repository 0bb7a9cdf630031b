"""Faults at a rate: a share of a sandbox's requests fail the way platforms fail.

:class:`ChaosPlan` is a :class:`~bridge.sandboxing.faults.FaultPlan` that, besides the faults
queued on it, draws a fault for a random share (``rate``) of the requests, from a seeded random
generator so that a run can be repeated. The mix (:data:`DEFAULT_MIX`) is the one platforms show:
429 with ``Retry-After``, 500/502/503, a stall, a connection reset and a body cut short — each
either before the platform processed the request or after it (the answer is lost while the
write took effect) — and, for a channel, 401 on a valid token.

:func:`chaotic` puts any sandbox app behind such a plan (the control API under ``/_sandbox`` is
never faulted); :meth:`ChaosPlan.stop` ends the faults, so a test or a benchmark can check that one
more pass of each flow converges.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from bridge.sandboxing.faults import ASGIApp, ErrorRenderer, Fault, FaultMiddleware, FaultPlan


@dataclass(frozen=True)
class Kind:
    """One kind of fault in a mix: ``weight`` among the others."""

    name: str
    weight: float = 1.0
    status: int | None = None
    stall: bool = False
    reset: bool = False
    truncate: bool = False
    may_be_after: bool = True
    """The fault may come after the platform processed the request (a lost answer)."""


DEFAULT_MIX: tuple[Kind, ...] = (
    Kind("429", status=429, may_be_after=False),
    Kind("500", status=500),
    Kind("502", status=502),
    Kind("503", status=503),
    Kind("stall", stall=True),
    Kind("reset", reset=True),
    Kind("truncated", truncate=True),
)
#: The channel's mix adds a 401 on a valid token (TikTok answers some so).
CHANNEL_MIX: tuple[Kind, ...] = (*DEFAULT_MIX, Kind("401", status=401, may_be_after=False))


class ChaosPlan(FaultPlan):
    """Queued faults first, then a random fault for ``rate`` of the requests (seeded)."""

    def __init__(self, rate: float, *, seed: int = 0, mix: Sequence[Kind] = DEFAULT_MIX,
                 stall_ms: float = 300.0, retry_after: float = 1.0, skip: str = "/_sandbox") -> None:
        super().__init__()
        if not 0 <= rate < 1:
            raise ValueError("rate is a share of requests, from 0 up to (not including) 1")
        self.rate = rate
        self.mix = tuple(mix)
        self.stall_ms = stall_ms
        self.retry_after = retry_after
        self.skip = skip
        self.rng = random.Random(seed)
        self.active = True
        self.drawn: Counter[str] = Counter()
        """Faults drawn so far by kind (``502:after`` for one after processing)."""
        self._draw = threading.Lock()

    def stop(self) -> None:
        """No more random faults (queued ones still apply)."""
        self.active = False

    def start(self) -> None:
        self.active = True

    def take(self, method: str, path: str, body: bytes = b"") -> Fault | None:
        queued = super().take(method, path, body)
        if queued is not None or not self.active or path.startswith(self.skip):
            return queued
        with self._draw:
            if self.rng.random() >= self.rate:
                return None
            kind = self.rng.choices(self.mix, weights=[k.weight for k in self.mix])[0]
            after = kind.truncate or (kind.may_be_after and self.rng.random() < 0.5)
            self.drawn[f"{kind.name}:after" if after else kind.name] += 1
        if kind.stall:
            return Fault(delay_ms=self.stall_ms, after=after)
        return Fault(status=kind.status, reset=kind.reset, truncate=kind.truncate, after=after,
                     retry_after=self.retry_after if kind.status == 429 else None)


def chaotic(app: ASGIApp, plan: ChaosPlan, render: ErrorRenderer | None = None) -> ASGIApp:
    """``app`` behind ``plan``'s faults; errors rendered by ``render`` (the sandbox kit's
    renderer of the platform's error shape where the sandbox has one)."""
    from bridge.sandboxing.kit import json_error

    return FaultMiddleware(app, plan, render or json_error, lambda: 0.0)


def chaotic_sandbox(sandbox: object, plan: ChaosPlan) -> ASGIApp:
    """A sandbox's app behind ``plan``, its errors in the platform's shape when it has a kit."""
    kit = getattr(sandbox, "kit", None)
    return chaotic(sandbox.app, plan, getattr(kit, "render_error", None))  # type: ignore[attr-defined]

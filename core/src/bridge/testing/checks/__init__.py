"""The kit's checks: small functions of a :class:`~bridge.testing.harness.Harness`, by category.

A check raises ``AssertionError`` when the connector is wrong, :class:`CheckSkipped` when the
platform lacks what it needs, :class:`NotWritten` when a hook or sandbox method is still a stub.
:func:`run_kit` runs them all without pytest (the scaffold's first run, ``bridge new``'s advice);
:class:`bridge.testing.ContractSuite` runs each as one pytest test.
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bridge.plugins import PluginManager
from bridge.testing.harness import CheckSkipped, Harness, NotWritten

CATEGORY_MODULES = ("describing", "connecting", "catalog", "orders", "refunds", "fulfilment", "channel",
                    "errors", "webhooks")


@dataclass(frozen=True)
class Check:
    category: str
    name: str
    fn: Callable[[Harness], None]
    kind: str | None = None
    """``"ecommerce"``/``"channel"``: the check applies to that kind of platform only."""

    @property
    def id(self) -> str:
        return f"{self.category}/{self.name}"

    @property
    def doc(self) -> str:
        return (self.fn.__doc__ or "").strip().splitlines()[0] if self.fn.__doc__ else self.name


_REGISTRY: list[Check] = []


def check(category: str, kind: str | None = None, name: str | None = None
          ) -> Callable[[Callable[[Harness], None]], Callable[[Harness], None]]:
    """Register a check (decorator)."""
    def register(fn: Callable[[Harness], None]) -> Callable[[Harness], None]:
        _REGISTRY.append(Check(category, name or fn.__name__.removeprefix("check_"), fn, kind))
        return fn
    return register


def add_check(category: str, name: str, fn: Callable[[Harness], None], kind: str | None = None) -> None:
    """Register a generated check (one per case of a table)."""
    _REGISTRY.append(Check(category, name, fn, kind))


def all_checks(kind: str | None = None) -> list[Check]:
    """Every check (for one kind of platform: those that apply to it)."""
    for mod in CATEGORY_MODULES:
        importlib.import_module(f"bridge.testing.checks.{mod}")
    return [c for c in _REGISTRY if kind is None or c.kind in (None, kind)]


def count_by_category(kind: str | None = None) -> dict[str, int]:
    return dict(Counter(c.category for c in all_checks(kind)))


Status = Literal["passed", "failed", "skipped", "not written"]


@dataclass
class Outcome:
    check: Check
    status: Status
    message: str = ""
    left: str = ""
    """For "not written": the hook or sandbox method left to write."""


def run_one(h: Harness, c: Check) -> Outcome:
    try:
        c.fn(h)
    except NotWritten as exc:
        return Outcome(c, "not written", str(exc), exc.what)
    except CheckSkipped as exc:
        return Outcome(c, "skipped", str(exc))
    except AssertionError as exc:
        return Outcome(c, "failed", str(exc).splitlines()[0] if str(exc) else "assertion failed")
    except Exception as exc:  # noqa: BLE001 - an outcome to report, not to hide
        return Outcome(c, "failed", f"{type(exc).__name__}: {exc}")
    return Outcome(c, "passed")


def run_kit(pm: PluginManager, platform: str, options: dict[str, Any] | None = None, *,
            only: list[str] | None = None, **harness_kw: Any) -> list[Outcome]:
    """Run the kit's checks on one platform (``only``: check ids or categories to run)."""
    kind = pm.info(platform).kind
    checks = [c for c in all_checks(kind)
              if not only or c.id in only or c.category in only]
    h = Harness(pm, platform, options, **harness_kw)
    try:
        h.start()
    except NotWritten as exc:
        return [Outcome(c, "not written", str(exc), exc.what) for c in checks]
    try:
        return [run_one(h, c) for c in checks]
    finally:
        h.stop()


def report(outcomes: list[Outcome]) -> str:
    """The outcomes as lines, what is left to write first."""
    order = {"not written": 0, "failed": 1, "skipped": 2, "passed": 3}
    lines = []
    for o in sorted(outcomes, key=lambda o: order[o.status]):
        lines.append(f"{o.status.upper():12} {o.check.id}" + (f": {o.message}" if o.message else ""))
    counts = Counter(o.status for o in outcomes)
    lines.append(", ".join(f"{counts[s]} {s}" for s in order if counts[s]))
    left = left_to_write(outcomes)
    if left:
        lines.append("left to write: " + ", ".join(left))
    return "\n".join(lines)


def left_to_write(outcomes: list[Outcome]) -> list[str]:
    """The hooks and sandbox methods still raising NotImplementedError, first met first."""
    return list(dict.fromkeys(o.left for o in outcomes if o.status == "not written" and o.left))

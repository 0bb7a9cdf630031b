"""The sandbox kit: what every plugin sandbox (an emulator of its platform's API) is built on.

A plugin's ``sandbox`` hook returns an object with an ``app`` (an ASGI application holding
in-memory state), a ``kit`` (:class:`SandboxKit`) and the methods of :class:`EcommerceSandbox`
or :class:`ChannelSandbox`, so the demo, the end-to-end tests, the benchmarks and the control API
(``bridge sandbox-ctl``) drive any platform the same way.

* :mod:`~bridge.sandboxing.kit`: :class:`SandboxKit` (latency, faults, statistics, reset, the
  control API under ``/_sandbox``);
* :mod:`~bridge.sandboxing.faults`: :class:`Fault` (status, Retry-After, delay, reset, body cut
  short; before or after the request is processed) and the middleware that applies them;
* :mod:`~bridge.sandboxing.webhooks`: delivery to subscribed addresses, signed by the plugin;
* :mod:`~bridge.sandboxing.auth`: credential checks; :mod:`~bridge.sandboxing.images`: PNGs;
* :mod:`~bridge.sandboxing.server`: :class:`SandboxServer` serves an app on a loopback port.

Nothing here needs pytest or respx: ``bridge sandbox`` and ``bridge demo`` import it. The names
below load on first use, so ``bridge sandbox-ctl`` starts without the models or the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bridge.sandboxing.faults import Fault, FaultPlan
    from bridge.sandboxing.kit import CONTROL_PREFIX, SandboxKit, json_error, retry_after_headers
    from bridge.sandboxing.protocols import ChannelSandbox, EcommerceSandbox, Sandbox
    from bridge.sandboxing.server import SandboxServer, free_port
    from bridge.sandboxing.stats import RequestStats
    from bridge.sandboxing.webhooks import Subscription, WebhookDeliverer

_WHERE = {
    "Fault": "faults", "FaultPlan": "faults",
    "CONTROL_PREFIX": "kit", "SandboxKit": "kit", "json_error": "kit", "retry_after_headers": "kit",
    "ChannelSandbox": "protocols", "EcommerceSandbox": "protocols", "Sandbox": "protocols",
    "SandboxServer": "server", "free_port": "server",
    "RequestStats": "stats",
    "Subscription": "webhooks", "WebhookDeliverer": "webhooks",
}

__all__ = [
    "CONTROL_PREFIX", "ChannelSandbox", "EcommerceSandbox", "Fault", "FaultPlan", "RequestStats",
    "Sandbox", "SandboxKit", "SandboxServer", "Subscription", "WebhookDeliverer", "free_port",
    "json_error", "retry_after_headers",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'bridge.sandboxing' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"bridge.sandboxing.{_WHERE[name]}"), name)
    globals()[name] = value
    return value

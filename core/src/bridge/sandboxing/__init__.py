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

Nothing here needs pytest or respx: ``bridge sandbox`` and ``bridge demo`` import it.
"""

from bridge.sandboxing.faults import Fault, FaultPlan
from bridge.sandboxing.kit import CONTROL_PREFIX, SandboxKit, json_error, retry_after_headers
from bridge.sandboxing.protocols import ChannelSandbox, EcommerceSandbox, Sandbox
from bridge.sandboxing.server import SandboxServer, free_port
from bridge.sandboxing.stats import RequestStats
from bridge.sandboxing.webhooks import Subscription, WebhookDeliverer

__all__ = [
    "CONTROL_PREFIX", "ChannelSandbox", "EcommerceSandbox", "Fault", "FaultPlan", "RequestStats",
    "Sandbox", "SandboxKit", "SandboxServer", "Subscription", "WebhookDeliverer", "free_port",
    "json_error", "retry_after_headers",
]

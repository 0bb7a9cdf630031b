"""What a plugin says about its platform, at load time, before any store exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.models import PlatformInfo


@hookspec(firstresult=True)
def describe_platform() -> PlatformInfo:
    """Describe the platform this plugin connects: name, kind, settings, app settings.

    Called once at load time; must be fast and make no network call.

    :returns: :class:`~bridge.models.PlatformInfo` — ``name`` (lower-case, the entry point's
        name), ``kind`` (``"ecommerce"`` or ``"channel"``), ``display_name``, ``settings`` (what
        one connection needs, with ``secret=True`` for keys and tokens: they become options of
        ``bridge connect`` and may come from an environment variable or a hidden prompt),
        ``app_settings`` (bridge-wide, e.g. an OAuth app's key and secret), ``connect_methods``,
        ``webhooks`` (False: the platform is polled), ``webhook_retries`` (True only when the
        platform delivers a notification again after a failed delivery: idle polling of its
        stores may then wait longer) and, for a channel, ``markets``
        (:class:`~bridge.models.Markets`: the markets its stores may sell in, those on its
        waitlist, the base regions of cross-border sellers it takes; the core enforces them at
        connect time and checks nothing when a channel declares none).
    """

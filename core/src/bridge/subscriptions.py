"""Each store's change-notification subscriptions, owned by the core.

The address a store's platform delivers to is ``<public URL>/webhooks/<platform>/<store id>``.
:func:`reconcile` (on connect, at ``bridge run`` start, then daily) asks the platform what it
holds and makes it match what the flows need (``PlatformInfo.webhook_topics``): it creates the
missing topics, moves those bridge made to an old address (the public URL changed) and deletes
bridge's subscriptions that are no longer wanted. :func:`unsubscribe` removes bridge's
subscriptions on disconnect, before the credentials are dropped. :func:`inspect` is the
read-only judgement ``bridge doctor`` prints.

A public URL the platform cannot reach is never registered: unset (``BRIDGE_PUBLIC_URL``), a
loopback address for a platform on a real host, or plain http to a real host. The store then
runs on polling, which repairs what webhooks miss anyway. A sandbox on loopback reaches a
loopback address, so that case is allowed. A subscription is bridge's when its address ends in
``/webhooks/<platform>/<store id>`` (or ``/webhooks/<platform>``) or is an address bridge
recorded for the store; others (the merchant's own integrations) are never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from bridge import config, db, journal
from bridge.errors import BridgeError
from bridge.http import is_loopback
from bridge.models import WebhookSubscription
from bridge.plugins import PluginManager, get_manager
from bridge.statuses import StoreStatus
from bridge.stores import connection_for
from bridge.tables import Store, utcnow

log = logging.getLogger("bridge.subscriptions")

Mode = Literal["webhooks", "polling", "unsupported"]


@dataclass
class Report:
    """What a store's subscriptions are (after :func:`reconcile`, or as :func:`inspect` found)."""

    store_id: int
    mode: Mode
    address: str | None = None
    reason: str = ""
    missing: list[str] = field(default_factory=list)
    """Needed topics with no active subscription to the wanted address."""
    wrong_address: list[str] = field(default_factory=list)
    """Topics bridge subscribed to another address (an old public URL)."""
    created: int = 0
    deleted: int = 0

    @property
    def ok(self) -> bool:
        return self.mode != "webhooks" or not (self.missing or self.wrong_address)

    def summary(self) -> str:
        """One line for the doctor and the journal."""
        if self.mode == "unsupported":
            return self.reason
        if self.mode == "polling":
            return f"polling only: {self.reason}"
        if self.wrong_address:
            return (f"wrong address for {len(self.wrong_address)} topic(s) "
                    f"({', '.join(self.wrong_address[:4])}): bridge will move them to {self.address}")
        if self.missing:
            return f"topics missing: {', '.join(self.missing)}"
        return f"webhooks to {self.address}"


def _platform_host(store: Store, pm: PluginManager) -> str | None:
    """The host bridge talks to for this store (a sandbox's when pointed at one)."""
    base = (store.settings or {}).get("base_url") or config.app_settings(store.platform, []).get("base_url")
    return urlsplit(str(base)).hostname if base else None


def reachable_address(store: Store, pm: PluginManager | None = None) -> tuple[str | None, str]:
    """The address the platform should deliver to, or None with the reason it cannot."""
    pm = pm or get_manager()
    public = config.explicit_public_url()
    if not public:
        return None, ("no public URL is set: set BRIDGE_PUBLIC_URL (or `bridge config set public_url "
                      "https://...`) to an address the platform can reach")
    parts = urlsplit(public)
    host = parts.hostname or ""
    platform_host = _platform_host(store, pm)
    local_platform = platform_host is not None and is_loopback(platform_host)
    if is_loopback(host) and not local_platform:
        return None, (f"the public URL {public} is a loopback address the platform cannot reach: "
                      "set BRIDGE_PUBLIC_URL to a public https address")
    if parts.scheme != "https" and not local_platform:
        return None, (f"the public URL {public} is not https: platforms deliver webhooks to https "
                      "addresses only")
    return f"{public.rstrip('/')}/webhooks/{store.platform}/{store.id}", ""


def _is_bridges(sub: WebhookSubscription, store: Store) -> bool:
    path = urlsplit(sub.address).path.rstrip("/")
    if path.endswith(f"/webhooks/{store.platform}/{store.id}") or path.endswith(f"/webhooks/{store.platform}"):
        return True
    return sub.address in ((store.details or {}).get("webhooks") or {}).get("addresses", [])


def _judge(store: Store, subs: list[WebhookSubscription], needed: list[str],
           address: str | None) -> tuple[list[str], list[str], list[WebhookSubscription]]:
    """(missing topics, topics at a wrong bridge address, bridge's subscriptions to remove)."""
    mine = [s for s in subs if _is_bridges(s, store)]
    have = {s.topic for s in subs if address is not None and s.address == address and s.active}
    missing = [t for t in needed if t not in have] if address else []
    wrong = sorted({s.topic for s in mine if s.address != address and s.topic in needed})
    stale = [s for s in mine if s.address != address or s.topic not in needed]
    return missing, wrong, stale


def _record(store: Store, report: Report) -> None:
    with db.session() as s:
        row = s.get(Store, store.id)
        if row is None:
            return
        hooks = dict((row.details or {}).get("webhooks") or {})
        addresses = set(hooks.get("addresses") or [])
        if report.address:
            addresses.add(report.address)
        hooks.update({"mode": report.mode, "address": report.address, "reason": report.reason,
                      "missing": report.missing, "checked_at": utcnow().isoformat(),
                      "addresses": sorted(addresses)})
        row.details = {**(row.details or {}), "webhooks": hooks}
        s.add(row)
    store.details = {**(store.details or {}), "webhooks": hooks}
    if report.mode != "webhooks" or report.missing:
        from bridge import scheduler

        # polling is the only way to see changes now: jobs that idle runs stretched go back
        # to their interval at once instead of at their next (late) run
        scheduler.reset_idle(store.org_id)


def inspect(store: Store, pm: PluginManager | None = None) -> Report:
    """Ask the platform for the store's subscriptions and judge them (writes nothing).

    :raises BridgeError: the platform could not be asked.
    """
    pm = pm or get_manager()
    info = pm.info(store.platform)
    sid: int = store.id  # type: ignore[assignment]
    if not info.webhooks:
        return Report(sid, "unsupported", reason=f"{info.display_name} sends no webhooks: bridge "
                                                 "polls it on each flow's interval")
    if not (pm.has(store.platform, "list_webhooks") and info.webhook_topics):
        return Report(sid, "polling", reason=f"the {store.platform} plugin cannot list subscriptions")
    address, why = reachable_address(store, pm)
    subs = pm.call(store.platform, "list_webhooks", connection=connection_for(store, pm))
    missing, wrong, _ = _judge(store, subs, info.webhook_topics, address)
    if address is None:
        return Report(sid, "polling", reason=why, wrong_address=wrong)
    return Report(sid, "webhooks", address=address, missing=missing, wrong_address=wrong)


def reconcile(store: Store, pm: PluginManager | None = None) -> Report:
    """Make the platform's subscriptions for ``store`` what the flows need (see the module).

    :raises BridgeError: the platform refused or could not be reached.
    """
    pm = pm or get_manager()
    info = pm.info(store.platform)
    sid: int = store.id  # type: ignore[assignment]
    if not info.webhooks or not info.webhook_topics or not pm.has(store.platform, "list_webhooks"):
        report = inspect(store, pm)
        _record(store, report)
        return report
    address, why = reachable_address(store, pm)
    if address is None and not ((store.details or {}).get("webhooks") or {}).get("addresses"):
        report = Report(sid, "polling", reason=why)  # nothing to create, nothing of bridge's to move
        _record(store, report)
        return report
    conn = connection_for(store, pm)
    subs = pm.call(store.platform, "list_webhooks", connection=conn)
    missing, _, _ = _judge(store, subs, info.webhook_topics, address)
    created = 0
    if address is not None and missing:
        pm.call(store.platform, "register_webhooks", connection=conn, url=address)
        created = len(missing)
        subs = pm.call(store.platform, "list_webhooks", connection=conn)
    missing, _, stale = _judge(store, subs, info.webhook_topics, address)
    if stale:
        pm.call(store.platform, "delete_webhooks", connection=conn, ids=[s.id for s in stale])
    report = Report(sid, "webhooks" if address else "polling", address=address, reason=why,
                    missing=missing, created=created, deleted=len(stale))
    _record(store, report)
    if created or stale:
        journal.record("store.webhooks", f"{info.display_name} store '{store.name}': "
                       f"{created} subscription(s) created, {len(stale)} removed; {report.summary()}",
                       org_id=store.org_id, store_id=sid,
                       data={"address": address, "created": created, "deleted": len(stale)})
    return report


def unsubscribe(store: Store, pm: PluginManager | None = None) -> int:
    """Delete every subscription bridge made for ``store``; returns how many.

    :raises BridgeError: the platform refused or could not be reached.
    """
    pm = pm or get_manager()
    info = pm.info(store.platform)
    if not info.webhooks or not pm.has(store.platform, "list_webhooks"):
        return 0
    conn = connection_for(store, pm)
    mine = [s for s in pm.call(store.platform, "list_webhooks", connection=conn) if _is_bridges(s, store)]
    if mine:
        pm.call(store.platform, "delete_webhooks", connection=conn, ids=[s.id for s in mine])
    return len(mine)


def reconcile_quietly(store: Store, pm: PluginManager | None = None) -> Report | None:
    """:func:`reconcile`, with a platform error journalled as a warning instead of raised (a
    connect or a daemon start goes on: polling covers the store meanwhile)."""
    try:
        return reconcile(store, pm)
    except BridgeError as exc:
        journal.record("store.webhooks_failed",
                       f"webhook subscriptions of '{store.name}' could not be checked: {exc}; "
                       "bridge polls meanwhile and tries again at the next start or daily check",
                       org_id=store.org_id, store_id=store.id, level="warning")
        log.warning("webhook subscriptions of store %s: %s", store.id, exc)
        return None


def reconcile_all(pm: PluginManager | None = None) -> list[Report]:
    """Reconcile every active store (``bridge run`` start and the daily check)."""
    from sqlmodel import select

    pm = pm or get_manager()
    with db.session() as s:
        rows = list(s.exec(select(Store).where(Store.status == StoreStatus.ACTIVE)))
    out = []
    for row in rows:
        if pm.platform_plugin(row.platform, strict=False) is None:
            continue
        rep = reconcile_quietly(row, pm)
        if rep is not None:
            out.append(rep)
    return out

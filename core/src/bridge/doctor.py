"""`bridge doctor`: a checklist per store — credentials, prerequisites, changes, authorization."""

from __future__ import annotations

from typing import Any

from bridge.errors import BridgeError, SecretKeyError
from bridge.plugins import PluginManager, get_manager
from bridge.stores import connection_for
from bridge.tables import Store, utcnow


def _check(key: str, title: str, ok: bool, detail: str = "", fix: str = "",
           blocking: bool = True) -> dict[str, Any]:
    return {"key": key, "title": title, "ok": ok, "detail": detail, "fix": fix, "blocking": blocking}


def _webhooks_check(store: Store, pm: PluginManager) -> dict[str, Any]:
    """What the platform says of the store's subscriptions: ok / topics missing / wrong address /
    polling only (never blocking: polling keeps the flows going)."""
    from bridge import subscriptions

    title = "change notifications"
    try:
        rep = subscriptions.inspect(store, pm)
    except BridgeError as exc:
        return _check("changes", title, False, f"the subscriptions could not be read: {exc}",
                      "run `bridge doctor` again; bridge polls meanwhile", blocking=False)
    if rep.mode == "unsupported":
        return _check("changes", title, True, rep.summary(), blocking=False)
    if rep.mode == "polling":
        return _check("changes", title, False, rep.summary(),
                      "set BRIDGE_PUBLIC_URL to an https address the platform reaches, then restart "
                      "`bridge run` (it subscribes at start)", blocking=False)
    if not rep.ok:
        return _check("changes", title, False, rep.summary(),
                      "restart `bridge run` (it reconciles subscriptions at start and daily)",
                      blocking=False)
    return _check("changes", title, True, rep.summary(), blocking=False)


def diagnose(store: Store, pm: PluginManager | None = None) -> dict[str, Any]:
    """Run the checks for one store; never raises for a platform error (it becomes a check)."""
    pm = pm or get_manager()
    checks: list[dict[str, Any]] = []
    report = {"store_id": store.id, "platform": store.platform, "name": store.name,
              "status": store.status, "checks": checks}
    plugin = pm.platform_plugin(store.platform, strict=False)
    if plugin is None or plugin.platform is None:
        checks.append(_check("plugin", "plugin installed", False,
                             f"no plugin provides '{store.platform}'",
                             f"pip install bridge-{store.platform}"))
        return report
    if store.status != "active":
        checks.append(_check("status", "store active", False, store.status_message or store.status,
                             f"reconnect with `bridge connect {store.platform}`"))
        return report
    try:
        conn = connection_for(store, pm)
        pm.call(store.platform, "connect", connection=conn)
        checks.append(_check("credentials", "credentials accepted", True))
    except SecretKeyError as exc:
        from bridge.crypto import key_path

        checks.append(_check("credentials", "credentials readable", False, str(exc),
                             f"restore the key that encrypted them (BRIDGE_SECRET_KEY or {key_path()}); "
                             "reconnecting is needed only if that key is lost"))
        return report
    except BridgeError as exc:
        checks.append(_check("credentials", "credentials accepted", False, str(exc),
                             f"reconnect with `bridge connect {store.platform}`"))
        return report
    if pm.has(store.platform, "check_prerequisites"):
        try:
            for p in pm.call(store.platform, "check_prerequisites", connection=conn):
                checks.append(_check(p.key, p.title, p.ok, p.detail, p.fix, p.blocking))
        except BridgeError as exc:
            checks.append(_check("prerequisites", "prerequisites readable", False, str(exc)))
    checks.append(_webhooks_check(store, pm))
    if store.auth_expires_at:
        days = (store.auth_expires_at - utcnow()).total_seconds() / 86400
        checks.append(_check("auth_expiry", "authorization valid", days > 0,
                             f"ends {store.auth_expires_at:%Y-%m-%d} ({int(days)} days)",
                             "reconnect the store to renew its authorization", blocking=days <= 0))
    return report

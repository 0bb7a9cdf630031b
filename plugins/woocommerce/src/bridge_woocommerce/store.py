"""Connecting a WooCommerce store: settings, keys (given or from the key-generation flow),
StoreInfo, and the tracking-plugin prerequisite."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, WebhookRejected
from bridge.http import check_base_url, is_loopback
from bridge.models import (
    AppSetting,
    CallbackResult,
    PlatformInfo,
    Prerequisite,
    Setting,
    StoreInfo,
    WebhookRequest,
)
from bridge_woocommerce.client import PLATFORM, WooClient, connect_client, site_url, store_facts
from bridge_woocommerce.tracking import AFTERSHIP_NS, SHIPMENT_TRACKING_NS

PLUGINS_STATE = "woocommerce:tracking_plugins"
PLUGINS_TTL = 600.0
NO_TRACKING = ("Neither AfterShip Tracking nor WooCommerce Shipment Tracking is active on this site: "
               "tracking numbers cannot go back to TikTok Shop until one of them is installed")


def describe() -> PlatformInfo:
    from bridge_woocommerce.webhooks import TOPICS  # webhooks reads store identities from here

    return PlatformInfo(
        name=PLATFORM, kind="ecommerce", display_name="WooCommerce",
        settings=[
            Setting(name="site_url", type="url", required=True,
                    help="The store's address (WordPress home URL), e.g. https://shop.example.com", secret=False),
            Setting(name="consumer_key", secret=True, required=True,
                    help="REST API consumer key (ck_...), WooCommerce > Settings > Advanced > REST API"),
            Setting(name="consumer_secret", secret=True, required=True, help="REST API consumer secret (cs_...)"),
            Setting(name="permalinks", type="choice", choices=["auto", "pretty", "plain"], default="auto",
                    help="How the REST API is reached: /wp-json/ (pretty) or ?rest_route= (plain); auto detects", secret=False),
            Setting(name="auth", type="choice", choices=["auto", "basic", "query", "oauth1"], default="auto",
                    help="auto: HTTP Basic over https (keys in the query if the host strips it), "
                         "OAuth 1.0a signing over plain http", secret=False),
            Setting(name="requests_per_second", type="int", default=25,
                    help="Cap on API calls per second to this site (0: none)", secret=False),
            Setting(name="unmanaged_stock", type="int", default=100,
                    help="Quantity offered for in-stock items whose stock WooCommerce does not manage", secret=False),
        ],
        app_settings=[AppSetting(name="app_name", default="bridge",
                                 help="Name shown to the merchant when bridge asks for API keys", secret=False)],
        connect_methods=["credentials", "callback"], webhooks=True, webhook_topics=list(TOPICS),
        docs_url="https://woocommerce.github.io/woocommerce-rest-api-docs/",
    )


def remote_id(home: str) -> str:
    """A store's identity: its home URL without scheme or trailing slash, lower-case."""
    parts = urlsplit(home if "://" in home else "https://" + home)
    return (parts.netloc + parts.path).rstrip("/").lower()


def tracking_plugins(namespaces: list[str], active_plugins: list[dict[str, Any]] | None = None) -> list[str]:
    """``aftership`` and/or ``shipment-tracking`` when active (REST namespaces, plugin list)."""
    plugins = [str(p.get("plugin") or "") + " " + str(p.get("name") or "") for p in active_plugins or []]
    found = []
    if AFTERSHIP_NS in namespaces or any(p.startswith("aftership-woocommerce-tracking/") for p in plugins):
        found.append("aftership")
    if SHIPMENT_TRACKING_NS in namespaces or any(p.startswith("woocommerce-shipment-tracking/") for p in plugins):
        found.append("shipment-tracking")
    return found


def active_tracking(connection: Connection, client: WooClient | None = None) -> list[str]:
    """The active tracking plugins, from the public REST index (cached for a few minutes)."""
    cached = connection.state.get(PLUGINS_STATE)
    if isinstance(cached, dict) and time.time() - float(cached.get("at", 0)) < PLUGINS_TTL:
        return list(cached.get("plugins") or [])
    found = tracking_plugins((client or WooClient(connection)).namespaces())
    connection.state[PLUGINS_STATE] = {"at": time.time(), "plugins": found}
    return found


def connect(connection: Connection) -> StoreInfo:
    client, status = connect_client(connection)
    index = client.index()
    env = status.get("environment") or {}
    home = str(index.get("home") or env.get("home_url") or client.root)
    facts = store_facts(client)
    currency = str((status.get("settings") or {}).get("currency") or facts["currency"]).upper()
    plugins = tracking_plugins(client.namespaces(), status.get("active_plugins"))
    connection.state[PLUGINS_STATE] = {"at": time.time(), "plugins": plugins}
    settings: dict[str, Any] = {"site_url": connection.setting("site_url") or home, "auth": client.auth_mode,
                                "permalinks": client.permalinks}
    if connection.base_url:
        settings["base_url"] = connection.base_url
    return StoreInfo(
        remote_id=remote_id(home), name=str(index.get("name") or remote_id(home)),
        domain=urlsplit(home).hostname, currency=currency,
        timezone=index.get("timezone_string") or None,
        credentials={"consumer_key": connection.credentials["consumer_key"],
                     "consumer_secret": connection.credentials["consumer_secret"]},
        settings=settings,
        details={"url": home, "woocommerce_version": env.get("version"), "wordpress_version": env.get("wp_version"),
                 "tracking_plugins": plugins, "permalinks": client.permalinks, "auth": client.auth_mode},
        warnings=[] if plugins else [NO_TRACKING + "."],
    )


def prerequisites(connection: Connection) -> list[Prerequisite]:
    connection.state.pop(PLUGINS_STATE, None)
    plugins = active_tracking(connection)
    names = {"aftership": "AfterShip Tracking", "shipment-tracking": "WooCommerce Shipment Tracking"}
    return [Prerequisite(
        key="tracking_plugin", title="A tracking plugin is active", ok=bool(plugins),
        detail=(f"{' and '.join(names[p] for p in plugins)} active" if plugins else NO_TRACKING),
        fix="" if plugins else ("In WordPress admin > Plugins, install and activate AfterShip Tracking "
                                "or WooCommerce Shipment Tracking"),
        blocking=True, flows=["tracking"])]


# --------------------------------------------------------------------------- key-generation flow


def authorization_url(app: AppContext, state: str, settings: dict[str, Any]) -> str:
    """``/wc-auth/v1/authorize`` asking the merchant for a read_write key, handed to our callback."""
    given = settings.get("site_url")
    if not given:
        raise Misconfigured("woocommerce: give the store's site URL first, e.g. https://shop.example.com")
    site = check_base_url(str(given) if "://" in str(given) else "https://" + str(given))
    target = check_base_url(str(app.settings.get("base_url") or site))
    public = app.public_url.rstrip("/")
    callback = f"{public}/callbacks/{PLATFORM}/keys?" + urlencode({"site": site, "state": state})
    if not callback.startswith("https://") and not is_loopback(urlsplit(target).hostname or ""):
        raise Misconfigured("woocommerce sends the keys only to an https callback: set bridge's public_url "
                            "to an https address reachable from the store")
    query = {"app_name": app.settings.get("app_name") or "bridge", "scope": "read_write", "user_id": state,
             "return_url": f"{public}/connect/done/{state}", "callback_url": callback}
    if settings.get("permalinks") == "plain":
        return f"{target}/?" + urlencode({"wc-auth-version": "1", "wc-auth-route": "authorize", **query})
    return f"{target}/wc-auth/v1/authorize?" + urlencode(query)


def keys_callback(app: AppContext, request: WebhookRequest) -> CallbackResult:
    """The server-to-server POST of the new keys: validate them with a call, answer exactly 200.

    The callback URL carries the flow's ``state`` (checked by the core before this runs) and the
    body's ``user_id`` must be that same state; ``site`` passes the outbound policy. Both are
    checked before any request.
    """
    try:
        body = json.loads(request.body)
    except ValueError:
        raise Misconfigured("woocommerce key callback: the body is not JSON") from None
    if not isinstance(body, dict):
        raise Misconfigured("woocommerce key callback: the body is not a JSON object")
    key, secret, state = body.get("consumer_key"), body.get("consumer_secret"), body.get("user_id")
    if not (key and secret and state) or not request.query.get("site"):
        raise Misconfigured("woocommerce key callback: consumer_key, consumer_secret, user_id or site missing")
    if not request.query.get("state") or str(state) != request.query["state"]:
        raise WebhookRejected("woocommerce key callback: its user_id is not the state of its callback "
                              "address: start connecting again from bridge")
    check_base_url(request.query["site"])
    if body.get("key_permissions") not in (None, "read_write"):
        raise Misconfigured(f"woocommerce handed over a '{body.get('key_permissions')}' key: bridge needs read_write")
    settings = {"site_url": request.query["site"]}
    if app.settings.get("base_url"):
        settings["base_url"] = str(app.settings["base_url"])
    conn = Connection(platform=PLATFORM, settings=settings, app=app,
                      credentials={"consumer_key": str(key), "consumer_secret": str(secret)})
    try:
        site_url(conn)
        info = connect(conn)
    finally:
        conn.close()
    info.details["state"] = str(state)
    info.details["key_id"] = body.get("key_id")
    return CallbackResult(stores=[info], response_status=200, response_body="")

"""Shopify authorization: OAuth for a public app, the client-credentials grant, static tokens.

* Public app (platform doc §2.2–2.5): the install URL with scopes and ``state``; the callback's
  ``hmac`` (hex HMAC-SHA256 of the sorted, URL-encoded query with the app's client secret) and
  shop domain verified; the code exchanged for an **expiring offline token**
  (``expiring=1``: ``access_token`` for ``expires_in`` seconds plus a rotating ``refresh_token``);
  refreshed a few minutes before it expires, the new pair saved at once.
* A merchant's own app (§2.6): ``grant_type=client_credentials`` with the app's client id and
  secret gives a short-lived token, fetched again when it expires.
* A static Admin API access token (``shpat_…``) of a legacy custom app: used as given.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from bridge.connection import AppContext, Connection
from bridge.errors import Misconfigured, NeedsReconnect
from bridge.http import HttpClient
from bridge_shopify.errors import PLATFORM, http_error

SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9\-]*\.myshopify\.com$")
DEFAULT_SCOPES = "read_products,read_inventory,read_locations,write_orders"
#: Refresh this long before the access token's expiry.
REFRESH_MARGIN = timedelta(minutes=5)
#: Shopify's own library refuses callbacks whose timestamp is further off than this.
CALLBACK_MAX_AGE = 90
TOKEN_PATH = "/admin/oauth/access_token"


def normalize_shop(shop: str | None) -> str:
    """``Shop-Name.myshopify.com`` (or a bare handle) → ``shop-name.myshopify.com``; refuses others."""
    value = (shop or "").strip().lower()
    value = re.sub(r"^https?://", "", value).rstrip("/")
    if value and "." not in value:
        value += ".myshopify.com"
    if not SHOP_RE.match(value):
        raise Misconfigured(
            f"{PLATFORM}: '{shop}' is not a shop domain: give the permanent "
            "your-shop.myshopify.com domain (Settings → Domains in the Shopify admin)"
        )
    return value


def shop_base_url(shop: str, override: str | None) -> str:
    """The store's host (``https://{shop}``) unless a base URL override points elsewhere."""
    return (override or f"https://{shop}").rstrip("/")


def query_hmac(params: dict[str, Any], secret: str) -> str:
    """Shopify's hex HMAC of a query string: every pair but ``hmac``/``signature``, sorted."""
    pairs = []
    for key in sorted(k for k in params if k not in ("hmac", "signature")):
        value = params[key]
        if isinstance(value, list | tuple):
            value = ",".join(str(v) for v in value)
        pairs.append((key, str(value)))
    message = urlencode(pairs, quote_via=lambda s, safe="", enc=None, err=None: quote(s, safe=""))
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_query_hmac(params: dict[str, Any], secret: str) -> bool:
    """True when the query's ``hmac`` is Shopify's signature (constant-time comparison)."""
    given = str(params.get("hmac") or "")
    return bool(given) and hmac.compare_digest(query_hmac(params, secret).encode(),
                                               given.encode("utf-8", "replace"))


def authorize_url(base: str, *, client_id: str, scopes: str, redirect_uri: str, state: str) -> str:
    """The install URL: an *offline* token (``grant_options[]`` left empty) for background sync."""
    query = urlencode(
        [("client_id", client_id), ("scope", scopes), ("redirect_uri", redirect_uri),
         ("state", state), ("grant_options[]", "")],
        quote_via=quote,
    )
    return f"{base}/admin/oauth/authorize?{query}"


def token_credentials(body: dict[str, Any], grant: str) -> dict[str, Any]:
    """The credentials to keep from a token response (expiry read from each response)."""
    now = datetime.now(UTC)
    creds: dict[str, Any] = {"access_token": body["access_token"], "grant": grant}
    if body.get("scope"):
        creds["scope"] = body["scope"]
    if body.get("expires_in"):
        creds["expires_at"] = (now + timedelta(seconds=int(body["expires_in"]))).isoformat()
    if body.get("refresh_token"):
        creds["refresh_token"] = body["refresh_token"]
        if body.get("refresh_token_expires_in"):
            creds["refresh_expires_at"] = (
                now + timedelta(seconds=int(body["refresh_token_expires_in"]))
            ).isoformat()
    return creds


def request_token(client: HttpClient, payload: dict[str, Any]) -> dict[str, Any]:
    """POST the token endpoint; a refused grant (400/401) means the user must authorize again."""
    response = client.post(TOKEN_PATH, json=payload)
    if response.status_code in (400, 401, 403):
        raise NeedsReconnect(
            f"{PLATFORM}: Shopify refused the authorization ({response.status_code}): "
            "connect the store again"
        )
    if response.status_code >= 300:
        raise http_error(response, what="the token endpoint")
    body = response.json()
    if not isinstance(body, dict) or not body.get("access_token"):
        raise NeedsReconnect(f"{PLATFORM}: the token endpoint returned no access token")
    return body


def _expires_at(creds: dict[str, Any]) -> datetime | None:
    value = creds.get("expires_at")
    if not value:
        return None
    return datetime.fromisoformat(value) if isinstance(value, str) else value


class TokenSource:
    """Hands out a valid access token for one connection, refreshing it when due (single flight)."""

    def __init__(self, connection: Connection, base_url: str) -> None:
        self.conn = connection
        self.base_url = base_url

    def _client(self) -> HttpClient:
        return self.conn.http_client(self.base_url, name="oauth")

    def _app_secret(self, name: str) -> str | None:
        return self.conn.credentials.get(name) or self.conn.settings.get(name) or \
            self.conn.app.settings.get(name)

    def _client_credentials_pair(self) -> tuple[str, str] | None:
        cid = self.conn.setting("client_id")
        secret = self.conn.credentials.get("client_secret")
        return (cid, secret) if cid and secret else None

    def token(self) -> str:
        """The current access token, renewed first when it expires within five minutes."""
        creds = self.conn.credentials
        expires = _expires_at(creds)
        due = expires is not None and expires - REFRESH_MARGIN <= datetime.now(UTC)
        if creds.get("access_token") and not due:
            return creds["access_token"]
        if not self.renew(stale=creds.get("access_token")):
            if creds.get("access_token") and expires and expires > datetime.now(UTC):
                return creds["access_token"]
            raise NeedsReconnect(
                f"{PLATFORM}: no valid access token and no way to renew it: connect the store again"
            )
        return self.conn.credentials["access_token"]

    def renew(self, stale: str | None) -> bool:
        """Refresh (rotating refresh token) or fetch a client-credentials token; False if neither
        is possible. ``stale`` is the token the caller saw: if another thread or process already
        replaced it, nothing is sent (the core's single flight,
        :meth:`bridge.connection.Connection.renew_credentials`)."""
        if not self.conn.credentials.get("refresh_token") and not self._client_credentials_pair():
            return False
        self.conn.renew_credentials("access_token", stale, self._request)
        return True

    def _request(self, creds: dict[str, Any]) -> dict[str, Any]:
        """New credentials from Shopify: by refresh token, else by client credentials."""
        if creds.get("refresh_token"):
            app = self.conn.app
            payload = {
                "client_id": app.settings.get("client_id") or self.conn.setting("client_id"),
                "client_secret": app.settings.get("client_secret") or creds.get("client_secret"),
                "grant_type": "refresh_token",
                "refresh_token": creds["refresh_token"],
            }
            if not payload["client_id"] or not payload["client_secret"]:
                raise Misconfigured(
                    f"{PLATFORM}: the app's client_id/client_secret are needed to refresh the "
                    "token: set BRIDGE_SHOPIFY_CLIENT_ID and BRIDGE_SHOPIFY_CLIENT_SECRET"
                )
            return token_credentials(request_token(self._client(), payload), creds.get("grant", "oauth"))
        cid, secret = self.conn.setting("client_id"), creds.get("client_secret")
        body = request_token(self._client(), {
            "client_id": cid, "client_secret": secret, "grant_type": "client_credentials",
        })
        return token_credentials(body, "client_credentials")


def exchange_code(app: AppContext, params: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """Verify an OAuth callback and exchange its code: returns (shop, base URL, credentials).

    :raises bridge.errors.Rejected: bad signature or shop; :raises NeedsReconnect: bad code.
    """
    from bridge.errors import Rejected

    secret = app.require("client_secret")
    if not verify_query_hmac(params, secret):
        raise Rejected(f"{PLATFORM}: the callback's hmac does not verify", code="BAD_HMAC")
    try:
        shop = normalize_shop(params.get("shop"))
    except Misconfigured as exc:
        raise Rejected(str(exc), code="BAD_SHOP") from None
    stamp = params.get("timestamp")
    if stamp is not None and abs(time.time() - float(stamp)) > CALLBACK_MAX_AGE:
        raise Rejected(f"{PLATFORM}: the callback is too old; install again", code="STALE_CALLBACK")
    if not params.get("code"):
        raise NeedsReconnect(f"{PLATFORM}: the callback carries no authorization code")
    base = shop_base_url(shop, app.settings.get("base_url"))
    body = request_token(app.http_client(base), {
        "client_id": app.require("client_id"),
        "client_secret": secret,
        "code": params["code"],
        "expiring": "1",
    })
    return shop, base, token_credentials(body, "oauth")

"""Seller authorization: the consent link, the token endpoints at the auth host (unsigned; the
secret travels in the query) and the token bundle bridge keeps as a store's credentials."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from bridge.connection import AppContext
from bridge.errors import NeedsReconnect
from bridge.http import HttpClient
from bridge_tiktokshop import errormap
from bridge_tiktokshop.markets import AUTHORIZE_HOST


def authorization_link(app: AppContext, state: str, redirect_uri: str) -> str:
    """The seller consent link (keyed by service_id; the redirect URL is fixed in Partner Center).

    When the app points at a sandbox (``base_url``) the link goes there and names the redirect
    URI, which only the sandbox reads (it has no Partner Center to hold it).
    """
    base = app.settings.get("base_url")
    params = {"service_id": app.require("service_id"), "state": state}
    if base:
        params["redirect_uri"] = redirect_uri
    return f"{(base or AUTHORIZE_HOST).rstrip('/')}/open/authorize?{urlencode(params)}"


def token_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """The credentials to keep from a token answer; expiries are absolute Unix seconds."""
    bundle: dict[str, Any] = {
        "access_token": data["access_token"],
        "refresh_token": data.get("refresh_token") or "",
    }
    for src, dst in (("access_token_expire_in", "access_token_expires_at"),
                     ("refresh_token_expire_in", "refresh_token_expires_at")):
        if data.get(src):
            bundle[dst] = int(data[src])
    if data.get("open_id"):
        bundle["open_id"] = str(data["open_id"])
    if data.get("seller_base_region"):  # the seller account's base region (§3.4): CN/HK cross-border
        bundle["seller_base_region"] = str(data["seller_base_region"]).upper()
    return bundle


def _auth_get(client: HttpClient, path: str, params: dict[str, str], secrets: list[str]) -> dict[str, Any]:
    for s in secrets:
        client.add_secret(s)
    response = client.get(path, params=params, rate_key="auth")
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    try:
        errormap.raise_for(response.status_code, payload)
    except errormap.TokenExpired as exc:  # one 401 is not TikTok's final word on the grant
        raise NeedsReconnect("TikTok Shop refused the authorization: connect the shop again if "
                             "this persists", definitive=False, detail=exc.detail) from None
    except errormap.Rejected as exc:  # an invalid code or refresh token: TikTok's final word
        raise NeedsReconnect(f"TikTok Shop refused the authorization ({exc.message}): connect the "
                             "shop again", detail=f"code={exc.code} request_id={exc.request_id}") from None
    data = payload.get("data") or {}
    if not data.get("access_token"):
        raise NeedsReconnect("TikTok Shop answered without an access token: connect the shop again")
    return data


def get_token(client: HttpClient, app_key: str, app_secret: str, code: str) -> dict[str, Any]:
    """Exchange an authorization code (single use, 30 minutes) for tokens."""
    params = {"app_key": app_key, "app_secret": app_secret, "auth_code": code,
              "grant_type": "authorized_code"}
    return token_bundle(_auth_get(client, "/api/v2/token/get", params, [app_secret, code]))


def refresh_token(client: HttpClient, app_key: str, app_secret: str, refresh: str) -> dict[str, Any]:
    """New tokens for a refresh token (which may itself be renewed: keep both)."""
    if not refresh:
        raise NeedsReconnect("TikTok Shop: no refresh token is stored: connect the shop again")
    params = {"app_key": app_key, "app_secret": app_secret, "refresh_token": refresh,
              "grant_type": "refresh_token"}
    bundle = token_bundle(_auth_get(client, "/api/v2/token/refresh", params, [app_secret, refresh]))
    bundle["refresh_token"] = bundle["refresh_token"] or refresh
    return bundle


def expiring(credentials: dict[str, Any], margin: float = 600.0) -> bool:
    """True when the stored access token ends within ``margin`` seconds (refresh ahead)."""
    value = credentials.get("access_token_expires_at")
    try:
        return value is not None and float(value) - time.time() < margin
    except (TypeError, ValueError):
        return False

"""The sandbox's key checks, as ``WC_REST_Authentication`` does them: Basic or query-string keys
when the request is (seen as) TLS, OAuth 1.0a one-legged signatures otherwise; then the key's
read/write permission per HTTP method."""

from __future__ import annotations

import time
from typing import Any

from bridge.sandboxing.auth import basic, same
from bridge_woocommerce import oauth1
from bridge_woocommerce.sandbox.http import ApiError
from bridge_woocommerce.sandbox.state import SiteState

OAUTH_REQUIRED = ("oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                  "oauth_signature_method")
READ = ("GET", "HEAD")
WRITE = ("POST", "PUT", "PATCH", "DELETE")


def _auth_error(message: str, code: str = "woocommerce_rest_authentication_error") -> ApiError:
    return ApiError(401, code, message)


def _oauth_header(value: str | None) -> dict[str, str]:
    if not value or not value.lower().startswith("oauth "):
        return {}
    from urllib.parse import unquote

    out = {}
    for part in value[6:].split(","):
        k, _, v = part.strip().partition("=")
        if k.startswith("oauth_"):
            out[k] = unquote(v.strip('"'))
    return out


def authenticate(site: SiteState, *, method: str, url: str, ssl: bool, query: list[tuple[str, str]],
                 headers: dict[str, str]) -> dict[str, Any] | None:
    """The key that authenticates this request, None when unauthenticated; :raises ApiError: 401."""
    params = dict(query)
    if ssl:
        if params.get("consumer_key") and params.get("consumer_secret"):
            key, secret = params["consumer_key"], params["consumer_secret"]
        else:
            pair = basic(headers)
            if pair is None:
                return None
            key, secret = pair
        row = site.keys.get(key)
        if row is None:
            return None  # unknown key: the request goes on unauthenticated
        if not same(secret, row["secret"]):
            raise ApiError(401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.",
                           headers={"WWW-Authenticate": 'Basic realm="WooCommerce"'})
        return row
    oauth = {k: v for k, v in params.items() if k.startswith("oauth_")}
    oauth.update(_oauth_header(headers.get("authorization")))
    if not oauth:
        return None
    missing = [p for p in OAUTH_REQUIRED if p not in oauth]
    if missing:
        raise _auth_error(f"Missing OAuth parameter(s) {', '.join(missing)}",
                          "woocommerce_rest_authentication_missing_parameter")
    row = site.keys.get(oauth["oauth_consumer_key"])
    if row is None:
        raise _auth_error("Consumer key is invalid.")
    if oauth["oauth_signature_method"] not in oauth1.ALGORITHMS:
        raise _auth_error("Invalid signature - signature method is invalid.")
    signed = [(k, v) for k, v in query if k != "oauth_signature"]
    signed += [(k, v) for k, v in oauth.items() if k not in dict(query) and k != "oauth_signature"]
    expected = oauth1.signature(method, url, signed, row["secret"], oauth["oauth_signature_method"])
    if not same(oauth["oauth_signature"].replace(" ", "+"), expected):
        raise _auth_error("Invalid signature - provided signature does not match.")
    try:
        ts = int(oauth["oauth_timestamp"])
    except ValueError:
        raise _auth_error("Invalid timestamp.") from None
    if abs(time.time() - ts) > oauth1.WINDOW_SECONDS:
        raise _auth_error("Invalid timestamp.")
    with site.lock:
        cutoff = time.time() - oauth1.WINDOW_SECONDS
        seen = row.setdefault("nonces", {})
        for n in [n for n, t in seen.items() if t < cutoff]:
            del seen[n]
        if oauth["oauth_nonce"] in seen:
            raise _auth_error("Invalid nonce - nonce has already been used.")
        seen[oauth["oauth_nonce"]] = ts
    return row


def check_permission(key: dict[str, Any] | None, method: str, route: str) -> None:
    """401 for unauthenticated calls, 401 for a key without the permission the method needs."""
    if key is None:
        verb = {"GET": "list resources", "POST": "create resources", "PUT": "edit resources",
                "PATCH": "edit resources", "DELETE": "delete resources"}.get(method, "list resources")
        code = {"POST": "woocommerce_rest_cannot_create", "PUT": "woocommerce_rest_cannot_edit",
                "PATCH": "woocommerce_rest_cannot_edit", "DELETE": "woocommerce_rest_cannot_delete"}.get(
            method, "woocommerce_rest_cannot_view")
        raise ApiError(401, code, f"Sorry, you cannot {verb}.")
    perms = key["permissions"]
    if method in READ and perms not in ("read", "read_write"):
        raise _auth_error("The API key provided does not have read permissions.")
    if method in WRITE and perms not in ("write", "read_write"):
        raise _auth_error("The API key provided does not have write permissions.")

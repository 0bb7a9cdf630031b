"""THE table from WooCommerce/WordPress REST answers to bridge error kinds (one place only).

WP REST errors look like ``{"code": "...", "message": "...", "data": {"status": 404}}``; hosts and
firewalls in front of WordPress answer with HTML pages instead. Bodies may carry PHP notices or a
BOM before the JSON, so :func:`parse_json` skips to the first ``{`` or ``[``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bridge.errors import (
    BridgeError,
    Misconfigured,
    NeedsReconnect,
    RateLimited,
    Rejected,
    Transient,
)
from bridge.http import retry_after_seconds

#: 403 codes that mean the key (or its WordPress user) lacks a permission.
PERMISSION_PREFIXES = ("woocommerce_rest_cannot_", "rest_forbidden", "woocommerce_rest_authentication")


def parse_json(response: httpx.Response) -> Any:
    """The JSON body, tolerating leading junk (PHP notices, BOM); :raises ValueError: none found."""
    text = response.text
    try:
        return json.loads(text)
    except ValueError:
        starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
        if not starts:
            raise
        return json.loads(text[min(starts):])


def _error_body(response: httpx.Response) -> tuple[str | None, str]:
    try:
        body = parse_json(response)
    except ValueError:
        return None, ""
    if isinstance(body, dict):
        return (str(body["code"]) if body.get("code") else None), str(body.get("message") or "")
    return None, ""


def _request_id(response: httpx.Response) -> str | None:
    for name in ("x-request-id", "x-wc-request-id", "cf-ray"):
        if response.headers.get(name):
            return response.headers[name]
    return None


def error_for(response: httpx.Response, what: str = "") -> BridgeError | None:
    """The bridge error a response means (None for 2xx/3xx). ``what`` names the item or call."""
    status = response.status_code
    if status < 400:
        return None
    code, message = _error_body(response)
    label = f"WooCommerce {what}".rstrip()
    detail = f"HTTP {status} {code or 'non-JSON body'} for {response.request.method} {response.request.url.path}"
    if status == 401:
        return NeedsReconnect(
            f"{label}: the site refused the API keys ({message or code or 'unauthorized'}): create a "
            "read_write key again and reconnect", detail=detail)
    if status == 403 and code and code.startswith(PERMISSION_PREFIXES):
        return NeedsReconnect(
            f"{label}: the API key lacks a permission ({message or code}): use a read_write key of a "
            "user who can manage WooCommerce", detail=detail)
    if status in (403, 406, 501) and code is None:
        return Misconfigured(
            f"{label}: the site's firewall or host refused the request (HTTP {status}): allow the "
            "WooCommerce REST API for bridge", detail=detail)
    if status == 404 and code == "rest_no_route":
        return Misconfigured(
            f"{label}: the site has no such REST route ({message or 'rest_no_route'}): is the plugin "
            "active and the REST API reachable?", detail=detail)
    if status == 429:
        return RateLimited(f"{label}: the site asks to slow down",
                           retry_after=retry_after_seconds(response, default=5.0), detail=detail)
    if status >= 500:
        return Transient(f"{label}: the site failed (HTTP {status}{', ' + code if code else ''})",
                         detail=detail)
    return Rejected(f"{label}: {message or 'refused'}", code=code or status,
                    request_id=_request_id(response), detail=detail)


def raise_for(response: httpx.Response, what: str = "") -> None:
    """Raise :func:`error_for` of ``response`` if it is an error."""
    err = error_for(response, what)
    if err is not None:
        raise err

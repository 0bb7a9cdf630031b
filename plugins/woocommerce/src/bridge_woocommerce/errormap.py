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
    Rejected,
    Transient,
)
from bridge.http import Answer, ErrorTable

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


def _label(a: Answer) -> str:
    return f"WooCommerce {a.item}" if a.item else "WooCommerce"


def _unauthorized(a: Answer) -> BridgeError:
    why = a.message or a.code or "unauthorized"
    return NeedsReconnect(f"{_label(a)}: the site refused the API keys ({why}): create a read_write "
                          "key again and reconnect", definitive=False, detail=f"HTTP 401 {a.code}")


def _forbidden(a: Answer) -> BridgeError | None:
    label = _label(a)
    if a.code and str(a.code).startswith(PERMISSION_PREFIXES):
        return NeedsReconnect(
            f"{label}: the API key lacks a permission ({a.message or a.code}): use a read_write key of "
            "a user who can manage WooCommerce", detail=f"HTTP 403 {a.code}")
    return _firewall(a)


def _firewall(a: Answer) -> BridgeError | None:
    if a.code is not None:
        return None
    return Misconfigured(f"{_label(a)}: the site's firewall or host refused the request (HTTP "
                         f"{a.status}): allow the WooCommerce REST API for bridge")


def _not_found(a: Answer) -> BridgeError | None:
    if a.code != "rest_no_route":
        return None
    return Misconfigured(f"{_label(a)}: the site has no such REST route ({a.message or 'rest_no_route'}): "
                         "is the plugin active and the REST API reachable?")


def _server(a: Answer) -> BridgeError:
    code = f", {a.code}" if a.code else ""
    return Transient(f"{_label(a)}: the site failed (HTTP {a.status}{code})")


def _refused(a: Answer) -> BridgeError | None:
    if a.status == 429:
        return None  # the core's: RateLimited with its wait
    return Rejected(f"{_label(a)}: {a.message or 'refused'}",
                    code=a.code or a.status, request_id=a.request_id)


#: Where WordPress/WooCommerce differs from the core's table (bridge.http.ErrorTable); ``item``
#: carries the name of the call or item.
TABLE = ErrorTable("WooCommerce", {401: _unauthorized, 403: _forbidden, 406: _firewall,
                                   501: _firewall, 404: _not_found, "5xx": _server, "4xx": _refused},
                   retry_after_default=5.0)


def error_for(response: httpx.Response, what: str = "") -> BridgeError | None:
    """The bridge error a response means (None for 2xx/3xx). ``what`` names the item or call."""
    if response.status_code < 400:
        return None
    code, message = _error_body(response)
    err = TABLE.error(response, message=message, code=code, request_id=_request_id(response), item=what)
    if err is not None and err.detail is None:
        err.detail = (f"HTTP {response.status_code} {code or 'non-JSON body'} for "
                      f"{response.request.method} {response.request.url.path}")
    return err


def raise_for(response: httpx.Response, what: str = "") -> None:
    """Raise :func:`error_for` of ``response`` if it is an error."""
    err = error_for(response, what)
    if err is not None:
        raise err

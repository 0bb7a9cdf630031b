"""The one table that turns a BigCommerce HTTP error into a :mod:`bridge.errors` kind.

BigCommerce answers errors in two shapes: v3 problem JSON (``{"status", "title", "type",
"errors": {field: message}}``) and v2 arrays (``[{"status", "message", "details"?}]``). Both are
read here; nothing past this module sees the raw body.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bridge.errors import BridgeError, Misconfigured, Rejected
from bridge.http import Answer, ErrorTable

#: Headers BigCommerce (or its edge) uses to identify a request, first found wins.
REQUEST_ID_HEADERS = ("x-request-id", "x-bc-request-id", "x-correlation-id")


def error_message(response: httpx.Response) -> str:
    """The platform's own words for an error response (v3 or v2 shape), one line."""
    try:
        body: Any = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        return (response.text or response.reason_phrase or "").strip()[:300]
    if isinstance(body, list) and body and isinstance(body[0], dict):  # v2
        parts = []
        for item in body:
            msg = str(item.get("message") or "").strip()
            details = item.get("details")
            if details:
                msg += f" ({json.dumps(details, sort_keys=True)[:200]})"
            parts.append(msg)
        return "; ".join(p for p in parts if p)[:500]
    if isinstance(body, dict):  # v3
        title = str(body.get("title") or body.get("message") or "").strip()
        errors = body.get("errors")
        if isinstance(errors, dict) and errors:
            title += ": " + "; ".join(f"{k}: {v}" for k, v in errors.items())
        elif isinstance(errors, list) and errors:
            title += ": " + "; ".join(str(e) for e in errors)
        return title[:500]
    return str(body)[:300]


def request_id(response: httpx.Response) -> str | None:
    for name in REQUEST_ID_HEADERS:
        if response.headers.get(name):
            return response.headers[name]
    return None


def _forbidden(a: Answer) -> BridgeError:
    return Misconfigured("BigCommerce refused the call (403): the API account lacks an OAuth scope "
                         f"bridge needs, or the store hash is wrong ({a.message or 'forbidden'})")


def _bad_format(a: Answer) -> BridgeError:
    return Misconfigured(f"BigCommerce refused the request format ({a.status}): {a.message}")


def _plan_limit(a: Answer) -> BridgeError:
    return Rejected(f"BigCommerce plan limit reached: {a.message}", code=a.status,
                    request_id=a.request_id, item=a.item)


#: Where BigCommerce differs from the core's table (bridge.http.ErrorTable).
TABLE = ErrorTable("BigCommerce", {403: _forbidden, 406: _bad_format, 415: _bad_format,
                                   507: _plan_limit}, retry_after_default=30.0)


def map_error(response: httpx.Response, *, item: str | None = None) -> BridgeError:
    """The bridge error for a non-success response (never returns a success)."""
    err = TABLE.error(response, message=error_message(response), request_id=request_id(response),
                      item=item)
    assert err is not None, "map_error is only called for error answers"
    return err

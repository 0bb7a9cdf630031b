"""The one table mapping Shopify's answers to :mod:`bridge.errors` kinds.

Shopify answers in three layers (platform doc §10): the HTTP status, top-level GraphQL
``errors`` (HTTP 200: validation, ``ACCESS_DENIED``, ``THROTTLED``, ``MAX_COST_EXCEEDED``,
``INTERNAL_SERVER_ERROR``), and ``userErrors`` inside mutation payloads (this item refused).
Every failure of the plugin goes through :func:`http_error`, :func:`graphql_error` or
:func:`user_errors`; nothing else raises bridge errors for a platform answer.
"""

from __future__ import annotations

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
from bridge.http import Answer, ErrorTable

PLATFORM = "shopify"


class AccessDenied(Misconfigured):
    """``ACCESS_DENIED``: a scope is missing or protected customer data is not approved."""

    def __init__(self, message: str, *, required: str | None = None, detail: str | None = None):
        super().__init__(message, detail=detail)
        self.required = required


class Throttled(RateLimited):
    """``THROTTLED``: the cost budget was spent, so the operation did not run (a mutation
    neither): the client may send it again once ``retry_after`` has passed."""

    throttled = True


def request_id(response: httpx.Response | None) -> str | None:
    """Shopify's request id (quote it to Shopify support)."""
    return response.headers.get("x-request-id") if response is not None else None


def _body_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list) and errors:
        first = errors[0]
        return first.get("message", "") if isinstance(first, dict) else str(first)
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())
    if isinstance(body, dict) and body.get("error"):
        return f"{body['error']}: {body.get('error_description', '')}".strip(": ")
    return response.reason_phrase or ""


def _unauthorized(a: Answer) -> BridgeError:
    return NeedsReconnect(
        f"{PLATFORM}: the store refused bridge's access token ({a.message or 'unauthorized'}): "
        "reconnect the store (the app may have been uninstalled)", definitive=False)


def _frozen(a: Answer) -> BridgeError:
    return Transient(f"{PLATFORM}: the shop is frozen (unpaid Shopify bill); bridge retries later")


def _forbidden(a: Answer) -> BridgeError:
    return AccessDenied(
        f"{PLATFORM}: access denied to {a.item} ({a.message}): grant the app the missing scope "
        "or protected customer data access, then reconnect")


def _not_found(a: Answer) -> BridgeError:
    return Misconfigured(
        f"{PLATFORM}: {a.item} was not found (404): check the shop domain and the API version")


def _locked(a: Answer) -> BridgeError:
    return Transient(f"{PLATFORM}: the shop is locked (423); bridge retries later")


def _server(a: Answer) -> BridgeError:
    return Transient(f"{PLATFORM}: Shopify answered {a.status} for {a.item}; bridge retries later")


def _refused(a: Answer) -> BridgeError | None:
    if a.status == 429:
        return None
    return Rejected(f"{PLATFORM}: {a.item} refused the request: {a.message}", code=a.status,
                    request_id=a.request_id)


#: Where Shopify differs from the core's table (bridge.http.ErrorTable); ``item`` names the API.
TABLE = ErrorTable(PLATFORM, {401: _unauthorized, 402: _frozen, 403: _forbidden, 404: _not_found,
                              423: _locked, "5xx": _server, "4xx": _refused},
                   retry_after_default=2.0)


def http_error(response: httpx.Response, *, what: str = "the Admin API") -> BridgeError:
    """The bridge error for a non-2xx HTTP answer (the HTTP layer already retried 429/5xx)."""
    err = TABLE.error(response, message=_body_message(response) or response.reason_phrase,
                      request_id=request_id(response), item=what)
    if err is None:
        return Transient(f"{PLATFORM}: unexpected answer {response.status_code} from {what}")
    return err


def graphql_error(
    errors: list[dict[str, Any]], *, cost: dict[str, Any] | None, retry_after: float,
    response: httpx.Response | None = None,
) -> BridgeError:
    """The bridge error for top-level GraphQL ``errors`` of an HTTP 200 answer."""
    first = errors[0] if errors else {}
    ext = first.get("extensions") or {}
    code = ext.get("code") or ""
    message = first.get("message") or "unknown error"
    if code == "THROTTLED":
        return Throttled(f"{PLATFORM}: query cost budget spent (THROTTLED)", retry_after=retry_after)
    if code == "ACCESS_DENIED":
        required = ext.get("requiredAccess")
        return AccessDenied(
            f"{PLATFORM}: access denied: {message}"
            + (f" (requires {required})" if required else ""),
            required=required,
        )
    if code in ("INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"):
        return Transient(f"{PLATFORM}: Shopify failed the query ({code}); bridge retries later")
    if code == "MAX_COST_EXCEEDED":
        return Misconfigured(f"{PLATFORM}: a query exceeds Shopify's cost ceiling: {message}")
    return Rejected(
        f"{PLATFORM}: the query was refused: {message}", code=code or "GRAPHQL_ERROR",
        request_id=request_id(response),
    )


def user_errors(
    errors: list[dict[str, Any]] | None, *, item: str | None = None,
    response: httpx.Response | None = None,
) -> None:
    """Raise :class:`Rejected` for a mutation's non-empty ``userErrors``."""
    if not errors:
        return
    first = errors[0]
    field = ".".join(first.get("field") or [])
    message = "; ".join(e.get("message", "") for e in errors)
    raise Rejected(
        f"{PLATFORM}: {message}" + (f" (field {field})" if field else ""),
        code=first.get("code") or "USER_ERROR",
        request_id=request_id(response),
        item=item,
    )

"""THE table from TikTok Shop answers to bridge error kinds (reference §10.2).

Everything the API answers goes through :func:`raise_for`; nothing else in the plugin decides
what an error means. ``TokenExpired`` is internal: the client refreshes the token once and
retries, and raises :class:`~bridge.errors.NeedsReconnect` when that does not help.
"""

from __future__ import annotations

from typing import Any

from bridge.errors import (
    Misconfigured,
    NeedsReconnect,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Transient,
)


class TokenExpired(NeedsReconnect):
    """The access token is expired or not recognised: refresh once, then reconnect."""


RATE_LIMITED = {36009002}
TRANSIENT = {36009003, 36009007}
TOKEN = {105002}
RECONNECT = {101000, 36004004, 105005}
MISCONFIGURED = {106001, 106013, 36009033, 36009009, 36009010, 36009014, 36009022, 36009023}
NOT_FOUND = {12019150}
NO_RECOMMENDATION = {12019064}

_HINTS = {
    105005: "the app lacks a permission: enable the scope in Partner Center, then reconnect the shop",
    101000: "the token does not belong to this shop: reconnect the shop",
    106001: "TikTok refused the signature: check the app key and app secret",
    36009033: "TikTok refused the caller's IP: add it to the app's allow-list in Partner Center",
}


def raise_for(status: int, payload: dict[str, Any] | None, *, retry_after: float = 1.0,
              write: bool = False) -> None:
    """Raise the bridge error an answer means; return quietly when it is a success.

    ``write``: the call was a write that is not idempotent, so an internal error or a timeout
    (5xx, 36009003, 36009007) leaves its outcome unknown (:class:`OutcomeUnknown`).
    """
    payload = payload if isinstance(payload, dict) else {}
    code = payload.get("code")
    message = str(payload.get("message") or "")
    request_id = payload.get("request_id")
    if status < 400 and code == 0:
        return
    where = f"TikTok Shop: {message or f'HTTP {status}'}"
    if status == 429 or code in RATE_LIMITED:
        raise RateLimited(f"TikTok Shop: too many requests, retry in {retry_after:.0f}s",
                          retry_after=retry_after)
    if write and (status >= 500 or code in TRANSIENT):
        raise OutcomeUnknown(f"TikTok Shop failed while writing (HTTP {status}, code {code}): "
                             "bridge looks it up before writing again",
                             status=status, detail=f"request_id={request_id}")
    if status >= 500 or code in TRANSIENT:
        raise Transient(f"TikTok Shop is unavailable (HTTP {status}, code {code}): retry later",
                        detail=f"request_id={request_id}")
    if code in TOKEN or status == 401:
        raise TokenExpired("TikTok Shop: the access token expired or was refused: reconnect the shop",
                           definitive=False, detail=f"code={code} request_id={request_id}")
    if code == 36009004:  # overloaded: the message says which common parameter is wrong
        low = message.lower()
        if "token" in low:
            raise TokenExpired("TikTok Shop: the access token was refused: reconnect the shop",
                               detail=f"request_id={request_id}")
        if "timestamp" in low:
            raise Misconfigured("TikTok Shop refused the request time: check this machine's clock",
                                detail=f"request_id={request_id}")
        raise Misconfigured(f"{where}: check the app key and the shop settings",
                            detail=f"request_id={request_id}")
    if code in RECONNECT or status == 403:
        raise NeedsReconnect(f"{where}: {_HINTS.get(code, 'reconnect the shop')}",
                             detail=f"code={code} request_id={request_id}")
    if code in MISCONFIGURED:
        raise Misconfigured(f"{where} ({_HINTS.get(code, 'a request bridge built is wrong')})",
                            detail=f"code={code} request_id={request_id}")
    raise Rejected(f"TikTok Shop refused the request: {message or f'HTTP {status}'}",
                   code=code if code is not None else status, request_id=request_id)

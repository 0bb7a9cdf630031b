"""The few error kinds every plugin raises; the core decides what follows from each.

A plugin never retries or sleeps on its own (beyond the shared HTTP layer in
:mod:`bridge.http`). It raises one of these and the scheduler decides:

============================  ==============================================================
error                         what the core does
============================  ==============================================================
:class:`NeedsReconnect`       marks the store ``needs_reconnect`` and pauses its jobs
:class:`RateLimited`          waits ``retry_after`` seconds, then runs the job again
:class:`Transient`            backs off exponentially with jitter, capped
:class:`OutcomeUnknown`       a write was sent and its answer lost: the flow looks it up at the
                              platform (by the key bridge stored there) before writing again
:class:`Rejected`             records the item's failure with the platform's code and message;
                              the other items go on
:class:`Misconfigured`        surfaces the message to the user; the job waits for a fix
:class:`Unsupported`          the platform lacks the operation (raised by the core)
============================  ==============================================================

Every error carries a one-line, user-facing ``message`` that says what to do; ``detail`` holds
internal context (never secrets) for logs.
"""

from __future__ import annotations


class BridgeError(Exception):
    """Base of every error bridge raises on purpose: ``str(err)`` is one user-facing line."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __str__(self) -> str:
        return self.message


class NeedsReconnect(BridgeError):
    """Authorization revoked or expired beyond refresh: the user must connect the store again.

    ``definitive`` is True only on the platform's own final word (a refresh token refused as
    invalid or revoked, keys the platform says are unknown). A single 401 is a *candidate*
    (``definitive=False``): the core retries and marks the store only when the refusal persists.
    """

    def __init__(self, message: str, *, definitive: bool = True, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.definitive = definitive

    store_id: int | None = None
    """The store it came from, when the core knows it (set by :mod:`bridge.facade`)."""


class RateLimited(BridgeError):
    """The platform said to slow down; ``retry_after`` is the wait in seconds it asked for."""

    def __init__(self, message: str, *, retry_after: float = 1.0, detail: str | None = None):
        super().__init__(message, detail=detail)
        self.retry_after = max(0.0, float(retry_after))


class Transient(BridgeError):
    """A network failure or a 5xx: the same call may succeed later."""


class OutcomeUnknown(Transient):
    """A write that is not idempotent was sent, and whether the platform did it is unknown
    (timeout, connection reset, 5xx, or a 2xx whose body could not be read).

    The HTTP layer never sends such a write again; the flow records the item as unconfirmed and
    its next attempt looks the write up at the platform (after the platform's lookup lag) before
    writing again.
    """

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.status = status


class Rejected(BridgeError):
    """The platform refused this item; keep its ``code``, ``message`` and ``request_id``."""

    def __init__(
        self,
        message: str,
        *,
        code: str | int | None = None,
        request_id: str | None = None,
        item: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, detail=detail)
        self.code = None if code is None else str(code)
        self.request_id = request_id
        self.item = item

    def __str__(self) -> str:
        parts = [self.message]
        if self.code:
            parts.append(f"(code {self.code})")
        if self.request_id:
            parts.append(f"[request {self.request_id}]")
        return " ".join(parts)


class Misconfigured(BridgeError):
    """Settings or set-up are wrong (bad URL, missing plugin on the store, missing app key)."""


class Unsupported(BridgeError):
    """The platform does not implement an operation; names the platform and the operation."""

    def __init__(self, platform: str, operation: str) -> None:
        super().__init__(
            f"{platform} does not support '{operation}': the plugin does not implement it"
        )
        self.platform = platform
        self.operation = operation


class WebhookRejected(BridgeError):
    """A webhook delivery failed verification (bad or missing signature)."""


class RulesViolation(BridgeError):
    """An organization/store rule refused the action (see :mod:`bridge.rules`)."""


class SecretKeyError(BridgeError):
    """The credentials key is missing or does not decrypt the stored credentials."""

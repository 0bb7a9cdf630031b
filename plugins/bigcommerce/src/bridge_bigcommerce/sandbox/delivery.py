"""Webhook deliveries and signed app callbacks of the sandbox.

Deliveries go through the sandbox kit's deliverer to every active hook whose scope matches
(exactly or by a ``/*`` wildcard), with the hook's own headers plus a Standard Webhooks
signature keyed with the app's client secret. ``signed_payload_jwt`` of the load/uninstall
callbacks is an HS256 JWT with the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

from bridge.sandboxing import SandboxKit, Subscription, WebhookDeliverer
from bridge_bigcommerce.sandbox.state import StoreState


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_payload_jwt(client_id: str, client_secret: str, store_hash: str, *,
                       user_email: str = "owner@example.invalid", ttl: int = 86400,
                       now: float | None = None) -> str:
    """A ``signed_payload_jwt`` as BigCommerce sends to ``/load`` and ``/uninstall``."""
    iat = int(time.time() if now is None else now)
    claims = {"aud": client_id, "iss": "bc", "iat": iat, "nbf": iat, "exp": iat + ttl,
              "jti": str(uuid.uuid4()), "sub": f"stores/{store_hash}",
              "user": {"id": 24654, "email": user_email, "locale": "en-GB"},
              "owner": {"id": 24654, "email": user_email}, "url": "/", "channel_id": None}
    header = _b64url(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    payload = _b64url(json.dumps(claims).encode())
    sig = hmac.new(client_secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(sig)}"


def standard_signature(secret: str, msg_id: str, stamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{stamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(secret.encode(), signed, hashlib.sha256).digest()).decode()


def scope_matches(pattern: str, scope: str) -> bool:
    if pattern.endswith("/*"):
        return scope.startswith(pattern[:-1])
    return pattern == scope


def subscriptions(state: StoreState) -> list[Subscription]:
    """The store's hooks (``scope`` may end in ``/*``; only active ones receive deliveries)."""
    with state.lock:
        return [Subscription(id=str(h["id"]), topic=h["scope"], address=h["destination"], active=h["is_active"],
                             extra={"_headers": dict(h.get("headers") or {})})
                for h in state.hooks.values()]


class Deliverer:
    """Builds BigCommerce's payload for an event and hands it to the kit's deliverer: to every
    active hook of a matching scope, with the hook's own headers plus a Standard Webhooks
    signature keyed with the app's client secret."""

    def __init__(self, state: StoreState, client_secret: str, kit: SandboxKit, *, sign: bool = True) -> None:
        self.st = state
        self.client_secret = client_secret
        self.sign = sign
        self.kit: WebhookDeliverer = kit.deliverer(lambda: subscriptions(self.st), self._headers,
                                                   matches=scope_matches, timeout=10.0)

    def _headers(self, sub: Subscription, scope: str, body: bytes) -> dict[str, str]:
        headers = {**sub.extra["_headers"], "Content-Type": "application/json"}
        if self.sign:
            msg_id = f"msg_{uuid.uuid4().hex}"
            stamp = int(json.loads(body)["created_at"])
            headers.update({"webhook-id": msg_id, "webhook-timestamp": str(stamp),
                            "webhook-signature": standard_signature(self.client_secret, msg_id, stamp, body)})
        return headers

    def emit(self, scope: str, data: dict[str, Any]) -> None:
        """An event happened: queue a delivery to every active hook of a matching scope."""
        stamp = int(time.time())
        payload = {"scope": scope, "store_id": "1001", "producer": f"stores/{self.st.store_hash}",
                   "data": data, "created_at": stamp,
                   "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()}
        self.kit.emit(scope, payload)

    @property
    def log(self) -> list[dict[str, Any]]:
        """Every delivery attempt: scope, destination, status (or error)."""
        with self.kit.lock:
            return [{"scope": d["topic"], "destination": d["address"], "status": d["status"] or d["error"]}
                    for d in self.kit.log]

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued delivery was attempted."""
        self.kit.flush(timeout)

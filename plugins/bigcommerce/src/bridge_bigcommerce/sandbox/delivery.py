"""Webhook deliveries and signed app callbacks of the sandbox.

Deliveries go from a background thread with httpx to every active hook whose scope matches
(exactly or by a ``/*`` wildcard), with the hook's own headers plus a Standard Webhooks
signature keyed with the app's client secret. ``signed_payload_jwt`` of the load/uninstall
callbacks is an HS256 JWT with the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
import uuid
from typing import Any

import httpx

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


class Deliverer:
    """Queues events and POSTs them to matching hooks from one background thread."""

    def __init__(self, state: StoreState, client_secret: str, *, sign: bool = True) -> None:
        self.st = state
        self.client_secret = client_secret
        self.sign = sign
        self.queue: queue.Queue[tuple[str, bytes, dict[str, str]] | None] = queue.Queue()
        self.log: list[dict[str, Any]] = []
        """Every delivery attempt: scope, destination, status (or error)."""
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()

    def emit(self, scope: str, data: dict[str, Any]) -> None:
        """An event happened: queue a delivery to every active hook of a matching scope."""
        with self.st.lock:
            hooks = [dict(h) for h in self.st.hooks.values()
                     if h["is_active"] and scope_matches(h["scope"], scope)]
        if not hooks:
            return
        stamp = int(time.time())
        payload = {"scope": scope, "store_id": "1001", "producer": f"stores/{self.st.store_hash}",
                   "data": data, "created_at": stamp,
                   "hash": hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()}
        body = json.dumps(payload).encode()
        for hook in hooks:
            headers = {**hook.get("headers", {}), "Content-Type": "application/json"}
            if self.sign:
                msg_id = f"msg_{uuid.uuid4().hex}"
                headers.update({"webhook-id": msg_id, "webhook-timestamp": str(stamp),
                                "webhook-signature": standard_signature(self.client_secret, msg_id,
                                                                        stamp, body)})
            self.queue.put((hook["destination"], body, headers))
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive():
                self.thread = threading.Thread(target=self._run, name="bigcommerce-webhooks",
                                               daemon=True)
                self.thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while True:
                item = self.queue.get()
                if item is None:
                    self.queue.task_done()
                    return
                url, body, headers = item
                scope = json.loads(body)["scope"]
                try:
                    status: Any = client.post(url, content=body, headers=headers).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                with self.lock:
                    self.log.append({"scope": scope, "destination": url, "status": status})
                self.queue.task_done()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued delivery was attempted."""
        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

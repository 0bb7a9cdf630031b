"""Webhook delivery from a background thread, as WooCommerce's Hookshot sends it: JSON body,
``X-WC-Webhook-*`` headers, ``X-WC-Webhook-Signature`` = base64(HMAC-SHA256(body, secret)); the
ping right after creation is the unsigned form body ``webhook_id=<id>``. More than 5 failures in
a row disable a webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from typing import Any

import httpx

from bridge_woocommerce.sandbox.routes import WC_VERSION, WP_VERSION
from bridge_woocommerce.sandbox.state import SiteState

MAX_FAILURES = 5


class Deliverer:
    """Drains ``site.events`` and POSTs them to the matching active webhooks."""

    def __init__(self, site: SiteState, home: str = "https://sandbox.example/") -> None:
        self.site = site
        self.home = home
        self.delivered: list[dict[str, Any]] = []
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop = False

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="woocommerce-sandbox-webhooks", daemon=True)
            self._thread.start()

    def notify(self) -> None:
        self._wake.set()

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until every queued event has been delivered (tests)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.site.lock:
                if not self.site.events and not self._busy:
                    return
            self._wake.set()
            time.sleep(0.01)

    _busy = False

    def _run(self) -> None:
        with httpx.Client(timeout=10.0, follow_redirects=False) as client:
            while not self._stop:
                self._wake.wait(0.5)
                self._wake.clear()
                while True:
                    with self.site.lock:
                        if not self.site.events:
                            self._busy = False
                            break
                        self._busy = True
                        topic, payload = self.site.events.pop(0)
                        hooks = [dict(h) for h in self.site.webhooks.values()]
                    self._deliver(client, topic, payload, hooks)

    def _deliver(self, client: httpx.Client, topic: str, payload: dict[str, Any], hooks: list[dict[str, Any]]) -> None:
        if topic == "ping":
            hook = next((h for h in hooks if h["id"] == payload["webhook_id"]), None)
            if hook is not None:
                self._post(client, hook, f"webhook_id={hook['id']}".encode(),
                           {"Content-Type": "application/x-www-form-urlencoded"})
            return
        body = json.dumps(payload, separators=(",", ":")).encode()
        resource, _, event = topic.partition(".")
        for hook in hooks:
            if hook["status"] != "active" or hook["topic"] != topic:
                continue
            sig = base64.b64encode(hmac.new(str(hook["secret"]).encode(), body, hashlib.sha256).digest()).decode()
            delivery_id = hashlib.md5(f"{time.time_ns()}{hook['id']}".encode()).hexdigest()
            self._post(client, hook, body, {
                "Content-Type": "application/json", "X-WC-Webhook-Source": self.home,
                "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
                "X-WC-Webhook-Signature": sig, "X-WC-Webhook-ID": str(hook["id"]),
                "X-WC-Webhook-Delivery-ID": delivery_id})

    def _post(self, client: httpx.Client, hook: dict[str, Any], body: bytes, headers: dict[str, str]) -> None:
        headers["User-Agent"] = f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"
        try:
            status = client.post(hook["delivery_url"], content=body, headers=headers).status_code
        except httpx.HTTPError:
            status = 0
        ok = 200 <= status <= 302
        with self.site.lock:
            self.delivered.append({"webhook_id": hook["id"], "status": status, "body": body, "headers": headers})
            live = self.site.webhooks.get(hook["id"])
            if live is None:
                return
            if ok:
                live["failure_count"] = 0
            else:
                if live["failure_count"] > MAX_FAILURES:
                    live["status"] = "disabled"
                live["failure_count"] += 1

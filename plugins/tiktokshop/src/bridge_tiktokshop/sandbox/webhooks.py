"""Webhook deliveries: POSTed from a background thread with httpx to the addresses a shop
registered through the Event API, signed as TikTok signs them."""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

import httpx

from bridge_tiktokshop import signing
from bridge_tiktokshop.sandbox.state import Shop

log = logging.getLogger("bridge_tiktokshop.sandbox.webhooks")

TYPES = {"ORDER_STATUS_CHANGE": 1, "PACKAGE_UPDATE": 4, "PRODUCT_STATUS_CHANGE": 5,
         "SELLER_DEAUTHORIZATION": 6, "UPCOMING_AUTHORIZATION_EXPIRATION": 7,
         "CANCELLATION_STATUS_CHANGE": 11, "RETURN_STATUS_CHANGE": 12}


class Deliverer:
    """Queue of deliveries and the thread that sends them (one attempt each)."""

    def __init__(self, app_key: str, app_secret: str) -> None:
        self.app_key, self.app_secret = app_key, app_secret
        self.queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue()
        self.sent: list[dict[str, Any]] = []
        self.thread: threading.Thread | None = None
        self.lock = threading.Lock()
        self._seq = 7327112393057371900

    def emit(self, shop: Shop, event_type: str, data: dict[str, Any], now: int) -> None:
        """Queue a notification when the shop subscribed ``event_type``."""
        hook = shop.webhooks.get(event_type)
        if not hook:
            return
        with self.lock:
            self._seq += 1
            payload = {"type": TYPES[event_type], "tts_notification_id": str(self._seq),
                       "shop_id": shop.id, "timestamp": now, "data": data}
            if self.thread is None:
                self.thread = threading.Thread(target=self._run, name="tiktokshop-webhooks", daemon=True)
                self.thread.start()
        self.queue.put((hook["address"], json.dumps(payload).encode()))

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            while True:
                item = self.queue.get()
                if item is None:
                    return
                address, body = item
                headers = {"Content-Type": "application/json",
                           "Authorization": signing.webhook_signature(self.app_key, self.app_secret, body)}
                try:
                    status = client.post(address, content=body, headers=headers).status_code
                except httpx.HTTPError as exc:
                    status = 0
                    log.warning("webhook to %s failed: %s", address, type(exc).__name__)
                with self.lock:
                    self.sent.append({"address": address, "body": json.loads(body), "status": status})
                self.queue.task_done()

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until queued deliveries were attempted (tests)."""
        import time

        deadline = time.monotonic() + timeout
        while self.queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

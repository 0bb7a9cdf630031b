"""Webhook deliveries on the kit's deliverer: POSTed to the addresses a shop registered through
the Event API (one per event type per shop), signed as TikTok signs them (``Authorization`` =
the plugin's :func:`bridge_tiktokshop.signing.webhook_signature`)."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from bridge.sandboxing import Subscription, WebhookDeliverer
from bridge_tiktokshop import signing
from bridge_tiktokshop.sandbox.state import Shop

if TYPE_CHECKING:
    from bridge_tiktokshop.sandbox import TikTokSandbox

TYPES = {"ORDER_STATUS_CHANGE": 1, "PACKAGE_UPDATE": 4, "PRODUCT_STATUS_CHANGE": 5,
         "SELLER_DEAUTHORIZATION": 6, "UPCOMING_AUTHORIZATION_EXPIRATION": 7,
         "CANCELLATION_STATUS_CHANGE": 11, "RETURN_STATUS_CHANGE": 12}


def subscriptions(sb: TikTokSandbox) -> list[Subscription]:
    """Every shop's registered webhooks (id ``<shop_id>:<event_type>``)."""
    with sb.world.lock:
        return [Subscription(id=f"{shop.id}:{event}", topic=event, address=hook["address"],
                             extra={"shop_id": shop.id})
                for shop in sb.world.shops.values() for event, hook in shop.webhooks.items()]


class Deliverer:
    """Builds TikTok's notification body and hands it to the kit's deliverer for the shop's
    subscription of that event type (one attempt each)."""

    def __init__(self, sb: TikTokSandbox) -> None:
        self.app_key, self.app_secret = sb.app_key, sb.app_secret
        self.lock = threading.Lock()
        self._seq = 7327112393057371900
        self.kit: WebhookDeliverer = sb.kit.deliverer(lambda: subscriptions(sb), self._sign)

    def _sign(self, sub: Subscription, topic: str, body: bytes) -> dict[str, str]:
        return {"Content-Type": "application/json",
                "Authorization": signing.webhook_signature(self.app_key, self.app_secret, body)}

    def emit(self, shop: Shop, event_type: str, data: dict[str, Any], now: int) -> None:
        """Queue a notification when the shop subscribed ``event_type``."""
        if event_type not in shop.webhooks:
            return
        with self.lock:
            self._seq += 1
            payload = {"type": TYPES[event_type], "tts_notification_id": str(self._seq),
                       "shop_id": shop.id, "timestamp": now, "data": data}
        self.kit.emit(event_type, payload, only=lambda s: s.extra["shop_id"] == shop.id)

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Deliveries attempted: address, body (decoded), status."""
        import json

        with self.kit.lock:
            return [{"address": d["address"], "body": json.loads(d["body"]), "status": d["status"]}
                    for d in self.kit.log]

    def drain(self, timeout: float = 5.0) -> None:
        """Wait until queued deliveries were attempted (tests)."""
        self.kit.flush(timeout)

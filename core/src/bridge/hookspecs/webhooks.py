"""Change notifications: subscribing, listing and removing subscriptions, and verifying and
parsing a delivery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.hookspecs.markers import hookspec

if TYPE_CHECKING:  # pragma: no cover - typing only
    from bridge.connection import AppContext, Connection
    from bridge.models import WebhookDelivery, WebhookRequest, WebhookSubscription


@hookspec(firstresult=True)
def register_webhooks(connection: Connection, url: str) -> list[str]:
    """Subscribe the store's change notifications to ``url``; returns the subscription ids.
    Idempotent: existing subscriptions to the same URL are kept, not duplicated (re-activated
    where the platform disabled them). Secrets the verification needs go to
    ``connection.save_credentials``. The core calls it only with an address the platform can
    reach (:mod:`bridge.subscriptions` decides), on connect, at ``bridge run`` start and daily."""


@hookspec(firstresult=True)
def list_webhooks(connection: Connection) -> list[WebhookSubscription]:
    """Every change-notification subscription the platform holds for this store and this app's
    credentials (all addresses, all topics, disabled ones with ``active=False``), read from the
    platform — never from memory. Topics are spelled as in
    :attr:`~bridge.models.PlatformInfo.webhook_topics`. The core compares them with what the
    flows need (``bridge doctor``, the daily reconcile)."""


@hookspec(firstresult=True)
def delete_webhooks(connection: Connection, ids: list[str]) -> None:
    """Remove the subscriptions with these ids (as :func:`list_webhooks` returned them). One that
    is already gone is not an error. The core calls it for subscriptions bridge made whose
    address or topic is no longer wanted, and for all of them on disconnect, before the
    credentials are dropped."""


@hookspec(firstresult=True)
def receive_webhook(
    app: AppContext, connection: Connection | None, request: WebhookRequest
) -> WebhookDelivery:
    """Verify a delivery's signature over the raw body, then parse it.

    ``connection`` is the store the delivery's URL names, or None for app-wide endpoints (then
    return ``store_remote_id`` so the core finds the store). Verify before parsing any JSON.
    :raises WebhookRejected: bad or missing signature.
    """

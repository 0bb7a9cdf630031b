"""Webhooks: a delivery signed as the platform signs it is accepted; altered, or unsigned, it is
refused before anything is parsed."""

from __future__ import annotations

from bridge.connection import Connection
from bridge.errors import WebhookRejected
from bridge.models import WebhookDelivery, WebhookRequest
from bridge.testing.checks import check
from bridge.testing.harness import CheckSkipped, Harness

KIT_ADDRESS = "http://127.0.0.1:9/kit-webhooks"
"""Where the kit subscribes (nothing listens: the sandbox's deliveries there fail, as they may)."""


def subscribed(h: Harness) -> Connection:
    """A connection whose store subscribed its webhooks (the secret a platform hands out at
    subscription is then among its credentials), made once."""
    if "webhook_connection" not in h.memo:
        conn = h.memo_connection()
        if h.has("register_webhooks"):
            h.call("register_webhooks", connection=conn, url=KIT_ADDRESS)
        h.memo["webhook_connection"] = conn
    return h.memo["webhook_connection"]


def _receive(h: Harness, request: WebhookRequest) -> WebhookDelivery:
    return h.call("receive_webhook", app=h.app(), connection=subscribed(h), request=request)


def _refused(h: Harness, request: WebhookRequest, what: str) -> None:
    try:
        _receive(h, request)
    except WebhookRejected:
        return
    raise AssertionError(f"receive_webhook accepted {what}: verify the signature over the raw body first")


@check("webhooks")
def check_signed_delivery_is_accepted(h: Harness) -> None:
    """The sandbox's signed delivery is verified and parsed into events."""
    h.need("receive_webhook")
    subscribed(h)
    sample = h.sb("sample_webhook")()
    delivery = _receive(h, sample)
    assert isinstance(delivery, WebhookDelivery) and delivery.events, "a signed delivery gave no events"


@check("webhooks")
def check_altered_delivery_is_refused(h: Harness) -> None:
    """The signed delivery with one byte of its body changed raises WebhookRejected."""
    h.need("receive_webhook")
    subscribed(h)
    sample = h.sb("sample_webhook")()
    body = bytearray(sample.body)
    i = next((n for n, b in enumerate(body) if chr(b).isdigit()), len(body) // 2)
    body[i] = ord("7") if body[i] != ord("7") else ord("3")
    _refused(h, sample.model_copy(update={"body": bytes(body)}), "a delivery whose body was altered")


@check("webhooks")
def check_unsigned_delivery_is_refused(h: Harness) -> None:
    """A delivery without the platform's signature headers raises WebhookRejected."""
    h.need("receive_webhook")
    subscribed(h)
    try:
        sample = h.sb("sample_webhook")()
        body = sample.body
    except CheckSkipped:
        body = b'{"id": 1}'
    _refused(h, WebhookRequest(headers={"Content-Type": "application/json"}, body=body), "an unsigned delivery")

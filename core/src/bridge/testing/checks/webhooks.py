"""Webhooks: a delivery signed as the platform signs it is accepted; altered, or unsigned, it is
refused before anything is parsed."""

from __future__ import annotations

from bridge.errors import WebhookRejected
from bridge.models import WebhookDelivery, WebhookRequest
from bridge.testing.checks import check
from bridge.testing.harness import CheckSkipped, Harness


def _receive(h: Harness, request: WebhookRequest) -> WebhookDelivery:
    with h.connected() as conn:
        return h.call("receive_webhook", app=h.app(), connection=conn, request=request)


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
    sample = h.sb("sample_webhook")()
    delivery = _receive(h, sample)
    assert isinstance(delivery, WebhookDelivery) and delivery.events, "a signed delivery gave no events"


@check("webhooks")
def check_altered_delivery_is_refused(h: Harness) -> None:
    """The signed delivery with one byte of its body changed raises WebhookRejected."""
    h.need("receive_webhook")
    sample = h.sb("sample_webhook")()
    body = bytearray(sample.body)
    i = next((n for n, b in enumerate(body) if chr(b).isdigit()), len(body) // 2)
    body[i] = ord("7") if body[i] != ord("7") else ord("3")
    _refused(h, sample.model_copy(update={"body": bytes(body)}), "a delivery whose body was altered")


@check("webhooks")
def check_unsigned_delivery_is_refused(h: Harness) -> None:
    """A delivery without the platform's signature headers raises WebhookRejected."""
    h.need("receive_webhook")
    try:
        sample = h.sb("sample_webhook")()
        body = sample.body
    except CheckSkipped:
        body = b'{"id": 1}'
    _refused(h, WebhookRequest(headers={"Content-Type": "application/json"}, body=body), "an unsigned delivery")

"""Request and webhook signatures, with TikTok's published test vector."""

from bridge_tiktokshop import signing
from bridge_tiktokshop.client import _qs, dumps


def test_official_vector() -> None:
    query = {"app_key": "29a39d", "timestamp": "1623812664"}
    assert signing.string_to_sign("/authorization/202309/shops", query, None, "") == \
        b"/authorization/202309/shopsapp_key29a39dtimestamp1623812664"
    assert signing.sign("/authorization/202309/shops", query, None, "", "e59af819cc") == \
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_sign_and_access_token_are_excluded_and_keys_sorted() -> None:
    q = {"timestamp": "1623812664", "app_key": "29a39d", "sign": "x", "access_token": "y"}
    assert signing.sign("/authorization/202309/shops", q, None, "", "e59af819cc") == \
        "b596b73e0cc6de07ac26f036364178ab16b0a907af13d43f0a0cd2345f582dc8"


def test_json_body_is_signed_multipart_is_not() -> None:
    q = {"app_key": "68xu9ks5p4i8", "shop_cipher": "ROW_xkMbgAAAeVAQra0eZWebFQq5aIKt", "timestamp": "1696909648"}
    body = dumps({"address": "https://example.com/hook", "event_type": "ORDER_STATUS_CHANGE"})
    base = signing.string_to_sign("/event/202309/webhooks", q, body, "application/json")
    assert base == (b"/event/202309/webhooksapp_key68xu9ks5p4i8shop_cipherROW_xkMbgAAAeVAQra0eZWebFQq5aIKt"
                    b"timestamp1696909648" + body)
    signed = signing.sign("/event/202309/webhooks", q, body, "application/json", "s")
    assert signed != signing.sign("/event/202309/webhooks", q, None, "application/json", "s")
    assert signing.sign("/p", q, b"filebytes", "multipart/form-data; boundary=x", "s") == \
        signing.sign("/p", q, None, "", "s")


def test_verify_rejects_tampering() -> None:
    q = {"app_key": "k", "timestamp": "1"}
    q["sign"] = signing.sign("/a", q, b"{}", "application/json", "secret")
    assert signing.verify("/a", q, b"{}", "application/json", "secret")
    assert not signing.verify("/a", q, b'{"x":1}', "application/json", "secret")
    assert not signing.verify("/b", q, b"{}", "application/json", "secret")
    assert not signing.verify("/a", q, b"{}", "application/json", "other")


def test_webhook_signature() -> None:
    sig = signing.webhook_signature("key", "secret", b'{"type":1}')
    assert signing.verify_webhook("key", "secret", b'{"type":1}', sig)
    assert not signing.verify_webhook("key", "secret", b'{"type":2}', sig)
    assert not signing.verify_webhook("key", "secret", b'{"type":1}', None)


def test_query_values() -> None:
    assert _qs(["1", "2"]) == "1,2" and _qs(True) == "true" and _qs(5) == "5"

"""TikTok Shop request signing (202309) and webhook signatures.

Shared by the client (to sign) and the sandbox (to verify), so both follow one algorithm:

1. every query parameter except ``sign`` and ``access_token``, decoded values, sorted by key;
2. concatenated as ``{key}{value}`` and prefixed with the request path;
3. the raw body appended unless the request is ``multipart/form-data``;
4. wrapped as ``secret + string + secret`` and HMAC-SHA256'd with the app secret (lower hex).

Webhooks carry ``hex(HMAC-SHA256(app_secret, app_key + raw_body))`` in ``Authorization``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

EXCLUDED = ("sign", "access_token")


def string_to_sign(path: str, query: Mapping[str, str], body: bytes | None, content_type: str) -> bytes:
    """The exact bytes TikTok signs for a request (before wrapping with the secret)."""
    items = sorted((k, str(v)) for k, v in query.items() if k not in EXCLUDED)
    text = (path + "".join(k + v for k, v in items)).encode("utf-8")
    if body and not content_type.lower().startswith("multipart/form-data"):
        text += body
    return text


def sign(path: str, query: Mapping[str, str], body: bytes | None, content_type: str, secret: str) -> str:
    """The ``sign`` query parameter for a request."""
    key = secret.encode("utf-8")
    message = key + string_to_sign(path, query, body, content_type) + key
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def verify(path: str, query: Mapping[str, str], body: bytes | None, content_type: str, secret: str) -> bool:
    """True when ``query['sign']`` is the signature of the request (constant-time compare)."""
    given = str(query.get("sign") or "")
    return bool(given) and hmac.compare_digest(given.encode("utf-8", "replace"),
                                               sign(path, query, body, content_type, secret).encode())


def webhook_signature(app_key: str, app_secret: str, body: bytes) -> str:
    """The ``Authorization`` header value TikTok sends with a webhook delivery."""
    return hmac.new(app_secret.encode(), app_key.encode() + body, hashlib.sha256).hexdigest()


def verify_webhook(app_key: str, app_secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of a webhook's ``Authorization`` header over the raw body."""
    if not header:
        return False
    return hmac.compare_digest(header.strip().lower().encode("utf-8", "replace"),
                               webhook_signature(app_key, app_secret, body).encode())

"""OAuth 1.0a "one-legged" signing exactly as WooCommerce verifies it (plain-HTTP sites).

WooCommerce (``WC_REST_Authentication::check_oauth_signature``) signs every query and form
parameter plus the ``oauth_*`` ones (minus ``oauth_signature``), sorted by key, each key and value
RFC 3986-encoded, each ``key=value`` encoded again and joined with ``%26``; the base string is
``METHOD&rawurlencode(url)&params`` with the URL without its query string, and the key is
``consumer_secret&`` (there is no token). HMAC-SHA1 and HMAC-SHA256 are accepted.

The server side (the sandbox) uses the same functions to verify, so both ends agree by
construction; the tests pin them to the published OAuth 1.0 example vector.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable
from urllib.parse import quote

ALGORITHMS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
DEFAULT_METHOD = "HMAC-SHA256"
#: WooCommerce refuses timestamps further than this from its clock, and reused nonces within it.
WINDOW_SECONDS = 15 * 60


def rawurlencode(value: str) -> str:
    """PHP's ``rawurlencode`` (RFC 3986: only ``A-Z a-z 0-9 - _ . ~`` kept)."""
    return quote(str(value), safe="-_.~")


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature base string of a request (``params`` without ``oauth_signature``)."""
    pairs = sorted((str(k), str(v)) for k, v in params if k != "oauth_signature")
    joined = "%26".join(rawurlencode(f"{rawurlencode(k)}={rawurlencode(v)}") for k, v in pairs)
    return f"{method.upper()}&{rawurlencode(url)}&{joined}"


def signature(
    method: str,
    url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    signature_method: str = DEFAULT_METHOD,
    token_secret: str = "",
) -> str:
    """base64 HMAC of the base string with ``consumer_secret&token_secret`` (WooCommerce: no token)."""
    algo = ALGORITHMS.get(signature_method)
    if algo is None:
        raise ValueError(f"unsupported signature method {signature_method!r}")
    key = f"{consumer_secret}&{token_secret}".encode()
    digest = hmac.new(key, base_string(method, url, params).encode(), algo).digest()
    return base64.b64encode(digest).decode()


def sign_params(
    method: str,
    url: str,
    query: list[tuple[str, str]],
    consumer_key: str,
    consumer_secret: str,
    *,
    signature_method: str = DEFAULT_METHOD,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> list[tuple[str, str]]:
    """``query`` plus the ``oauth_*`` parameters and their signature, to send in the query string."""
    oauth = [
        ("oauth_consumer_key", consumer_key),
        ("oauth_nonce", nonce or secrets.token_hex(16)),
        ("oauth_signature_method", signature_method),
        ("oauth_timestamp", str(int(time.time()) if timestamp is None else timestamp)),
    ]
    params = [*query, *oauth]
    sig = signature(method, url, params, consumer_secret, signature_method)
    return [*params, ("oauth_signature", sig)]

"""Helpers sandboxes use to check credentials as their platforms do (constant-time comparisons,
header tokens, Basic and Bearer credentials, HMAC signatures)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def same(given: str | bytes | None, expected: str | bytes) -> bool:
    """Constant-time equality of a presented secret with the expected one (None never matches)."""
    if given is None:
        return False
    a = given.encode() if isinstance(given, str) else given
    b = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(a, b)


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name."""
    lower = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lower), None)


def bearer(headers: Mapping[str, str]) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header."""
    value = header(headers, "authorization") or ""
    scheme, _, token = value.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def basic(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic ...`` header."""
    value = header(headers, "authorization") or ""
    scheme, _, encoded = value.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, colon, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except ValueError:
        return None
    return (user, password) if colon else None


def hmac_sha256(secret: str | bytes, message: bytes) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, message, hashlib.sha256).digest()


def hmac_sha256_b64(secret: str | bytes, message: bytes) -> str:
    """base64(HMAC-SHA256(message, secret)): Shopify's and WooCommerce's webhook signature."""
    return base64.b64encode(hmac_sha256(secret, message)).decode()


def hmac_sha256_hex(secret: str | bytes, message: bytes) -> str:
    return hmac_sha256(secret, message).hex()

"""OAuth 1.0a request signing as Magento 2.4 integrations require it (RFC 5849).

Every REST call of an integration carries ``Authorization: OAuth oauth_consumer_key=..., ...,
oauth_signature=...``. The signature base string is ``METHOD & pct(base URI) & pct(sorted
params)`` where the params are the ``oauth_*`` values plus the URL's query parameters (JSON
bodies are not signed); the key is ``pct(consumer_secret) & pct(token_secret)``; Magento wants
``HMAC-SHA256`` (``HMAC-SHA1`` is supported here only so the RFC's own test vector can be checked).

The same functions sign the activation handshake (request-token and access-token calls) and, in
the sandbox, verify incoming signatures.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Generator, Iterable
from urllib.parse import quote, unquote, urlsplit

import httpx

SHA256 = "HMAC-SHA256"
SHA1 = "HMAC-SHA1"
_DIGESTS = {SHA256: hashlib.sha256, SHA1: hashlib.sha1}


def pct(value: str) -> str:
    """RFC 5849 §3.6 percent-encoding (only unreserved characters stay as they are)."""
    return quote(str(value), safe="~")


def base_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: scheme and host lower-cased, default port dropped, no query."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path or '/'}"


def query_pairs(query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into (name, value) pairs, keeping repeats and blanks."""
    pairs: list[tuple[str, str]] = []
    for item in query.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((unquote(name.replace("+", " ")), unquote(value.replace("+", " "))))
    return pairs


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature base string of RFC 5849 §3.4.1 (``oauth_signature`` excluded)."""
    encoded = sorted((pct(k), pct(v)) for k, v in params if k != "oauth_signature")
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return "&".join((method.upper(), pct(base_uri(url)), pct(normalized)))


def signature(base: str, consumer_secret: str, token_secret: str = "", method: str = SHA256) -> str:
    """Base64 HMAC of the base string keyed with ``pct(consumer_secret)&pct(token_secret)``."""
    digest = _DIGESTS[method]
    key = f"{pct(consumer_secret)}&{pct(token_secret or '')}".encode()
    return base64.b64encode(hmac.new(key, base.encode(), digest).digest()).decode()


def oauth_params(
    consumer_key: str,
    *,
    token: str | None = None,
    nonce: str | None = None,
    timestamp: int | None = None,
    method: str = SHA256,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The ``oauth_*`` protocol parameters of one request (without the signature)."""
    params = {
        "oauth_consumer_key": consumer_key,
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": method,
        "oauth_timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "oauth_version": "1.0",
    }
    if token:
        params["oauth_token"] = token
    params.update(extra or {})
    return params


def authorization_header(
    http_method: str,
    url: str,
    consumer_key: str,
    consumer_secret: str,
    *,
    token: str | None = None,
    token_secret: str = "",
    nonce: str | None = None,
    timestamp: int | None = None,
    method: str = SHA256,
    extra: dict[str, str] | None = None,
) -> str:
    """A complete ``Authorization: OAuth ...`` header value for one request."""
    params = oauth_params(consumer_key, token=token, nonce=nonce, timestamp=timestamp,
                          method=method, extra=extra)
    query = urlsplit(url).query
    base = base_string(http_method, url, [*params.items(), *query_pairs(query)])
    params["oauth_signature"] = signature(base, consumer_secret, token_secret, method)
    return "OAuth " + ", ".join(f'{pct(k)}="{pct(v)}"' for k, v in params.items())


def parse_authorization(header: str) -> dict[str, str]:
    """The parameters of an ``OAuth k="v", ...`` header (decoded); {} when not OAuth."""
    if not header or header[:6].lower() != "oauth ":
        return {}
    out: dict[str, str] = {}
    for part in header[6:].split(","):
        name, _, value = part.strip().partition("=")
        if name:
            out[unquote(name)] = unquote(value.strip().strip('"'))
    return out


class OAuth1Auth(httpx.Auth):
    """httpx auth that signs every request with the integration's four credentials."""

    def __init__(self, consumer_key: str, consumer_secret: str, token: str, token_secret: str,
                 method: str = SHA256) -> None:
        self._creds = (consumer_key, consumer_secret, token, token_secret)
        self.method = method

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        key, secret, token, token_secret = self._creds
        request.headers["Authorization"] = authorization_header(
            request.method, str(request.url), key, secret, token=token,
            token_secret=token_secret, method=self.method,
        )
        yield request


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <access token>`` (only where the store allows it)."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

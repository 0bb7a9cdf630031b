"""OAuth 1.0a request signing as Magento 2.4 integrations require it (RFC 5849), done by oauthlib.

Every REST call of an integration carries ``Authorization: OAuth oauth_consumer_key=..., ...,
oauth_signature=...``. The signature base string is ``METHOD & pct(base URI) & pct(sorted
params)`` where the params are the ``oauth_*`` values plus the URL's query parameters (JSON
bodies are not signed); the key is ``pct(consumer_secret) & pct(token_secret)``; Magento wants
``HMAC-SHA256`` (``HMAC-SHA1`` is supported here only so the RFC's own test vector can be checked).

The same functions sign the activation handshake (request-token and access-token calls) and, in
the sandbox, verify incoming signatures.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from urllib.parse import parse_qsl

import httpx
from oauthlib.oauth1 import SIGNATURE_TYPE_AUTH_HEADER, Client
from oauthlib.oauth1.rfc5849 import signature as rfc5849
from oauthlib.oauth1.rfc5849 import utils

SHA256 = "HMAC-SHA256"
SHA1 = "HMAC-SHA1"
_SIGNERS = {SHA256: rfc5849.sign_hmac_sha256_with_client, SHA1: rfc5849.sign_hmac_sha1_with_client}


def pct(value: str) -> str:
    """RFC 5849 §3.6 percent-encoding (only unreserved characters stay as they are)."""
    return utils.escape(str(value))


def base_uri(url: str) -> str:
    """RFC 5849 §3.4.1.2: scheme and host lower-cased, default port dropped, no query."""
    return rfc5849.base_string_uri(url)


def query_pairs(query: str) -> list[tuple[str, str]]:
    """Decode a raw query string into (name, value) pairs, keeping repeats and blanks."""
    return parse_qsl(query, keep_blank_values=True)


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature base string of RFC 5849 §3.4.1 (``oauth_signature`` excluded)."""
    pairs = [(str(k), str(v)) for k, v in params if k != "oauth_signature"]
    return rfc5849.signature_base_string(method.upper(), base_uri(url), rfc5849.normalize_parameters(pairs))


def signature(base: str, consumer_secret: str, token_secret: str = "", method: str = SHA256) -> str:
    """Base64 HMAC of the base string keyed with ``pct(consumer_secret)&pct(token_secret)``."""
    keys = Client("", client_secret=consumer_secret, resource_owner_secret=token_secret or "")
    return _SIGNERS[method](base, keys)


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
    """A complete ``Authorization: OAuth ...`` header value for one request (oauthlib signs it;
    ``extra`` may carry the activation's ``oauth_verifier``)."""
    unknown = set(extra or {}) - {"oauth_verifier"}
    if unknown:
        raise ValueError(f"unsupported OAuth parameters {sorted(unknown)}")
    client = Client(consumer_key, client_secret=consumer_secret, resource_owner_key=token,
                    resource_owner_secret=token_secret or None, signature_method=method,
                    signature_type=SIGNATURE_TYPE_AUTH_HEADER,
                    verifier=(extra or {}).get("oauth_verifier"),
                    nonce=nonce, timestamp=None if timestamp is None else str(timestamp))
    _uri, headers, _body = client.sign(url, http_method=http_method.upper())
    return headers["Authorization"]


def parse_authorization(header: str) -> dict[str, str]:
    """The parameters of an ``OAuth k="v", ...`` header (decoded); {} when not OAuth."""
    if not header or header[:6].lower() != "oauth ":
        return {}
    try:
        return {utils.unescape(k): utils.unescape(v) for k, v in utils.parse_authorization_header(header)}
    except (ValueError, IndexError):
        return {}


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

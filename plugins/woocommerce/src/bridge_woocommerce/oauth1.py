"""OAuth 1.0a "one-legged" signing as WooCommerce verifies it (plain-HTTP sites), done by
oauthlib (RFC 5849).

WooCommerce (``WC_REST_Authentication::check_oauth_signature``) signs every query and form
parameter plus the ``oauth_*`` ones (minus ``oauth_signature``), sorted by key, each key and value
RFC 3986-encoded, each ``key=value`` encoded again and joined with ``%26`` — RFC 5849's base
string; the key is ``consumer_secret&`` (there is no token). HMAC-SHA1 and HMAC-SHA256 are
accepted. The signature goes in the query string.

The sandbox verifies with the same library's functions; the tests pin both to the published
OAuth 1.0 example vector.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from oauthlib.oauth1 import SIGNATURE_TYPE_QUERY, Client
from oauthlib.oauth1.rfc5849 import signature as rfc5849

ALGORITHMS = {"HMAC-SHA1": rfc5849.sign_hmac_sha1_with_client,
              "HMAC-SHA256": rfc5849.sign_hmac_sha256_with_client}
DEFAULT_METHOD = "HMAC-SHA256"
#: WooCommerce refuses timestamps further than this from its clock, and reused nonces within it.
WINDOW_SECONDS = 15 * 60


def base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """The signature base string of a request (``oauth_signature`` left out)."""
    pairs = [(str(k), str(v)) for k, v in params if k != "oauth_signature"]
    return rfc5849.signature_base_string(method.upper(), rfc5849.base_string_uri(url),
                                         rfc5849.normalize_parameters(pairs))


def signature(
    method: str,
    url: str,
    params: Iterable[tuple[str, str]],
    consumer_secret: str,
    signature_method: str = DEFAULT_METHOD,
    token_secret: str = "",
) -> str:
    """base64 HMAC of the base string with ``consumer_secret&token_secret`` (WooCommerce: no token)."""
    sign = ALGORITHMS.get(signature_method)
    if sign is None:
        raise ValueError(f"unsupported signature method {signature_method!r}")
    keys = Client("", client_secret=consumer_secret, resource_owner_secret=token_secret)
    return sign(base_string(method, url, params), keys)


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
    client = Client(consumer_key, client_secret=consumer_secret, signature_method=signature_method,
                    signature_type=SIGNATURE_TYPE_QUERY,
                    timestamp=None if timestamp is None else str(timestamp), nonce=nonce)
    full = f"{url}?{urlencode(query, quote_via=quote)}" if query else url
    signed, _headers, _body = client.sign(full, http_method=method.upper())
    return parse_qsl(urlsplit(signed).query, keep_blank_values=True)

"""The sandbox's authentication: integration OAuth 1.0a signatures, Bearer tokens, activation.

OAuth requests are verified as Magento does: a known consumer key, an HMAC-SHA256 signature over
the request as received, a fresh timestamp and an unused nonce. Bearer works only when the
sandbox was started with ``bearer`` on (Magento's "Allow OAuth Access Tokens to be used as
standalone Bearer tokens"); otherwise the request is anonymous and refused like Magento refuses
it. ``/oauth/token/request`` and ``/oauth/token/access`` implement the activation exchange.
"""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field

from bridge_magento2.oauth import SHA256, base_string, parse_authorization, query_pairs, signature

TIME_WINDOW = 600


class AuthError(Exception):
    """A refused request: ``message`` and ``parameters`` in Magento's error shape."""

    def __init__(self, message: str, parameters: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.parameters = parameters or {}


@dataclass
class Integration:
    consumer_key: str = field(default_factory=lambda: secrets.token_hex(16))
    consumer_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    access_token: str = field(default_factory=lambda: secrets.token_hex(16))
    access_token_secret: str = field(default_factory=lambda: secrets.token_hex(16))
    verifier: str = field(default_factory=lambda: secrets.token_hex(16))
    request_tokens: dict[str, str] = field(default_factory=dict)


class Gate:
    def __init__(self, integration: Integration, *, bearer: bool = False) -> None:
        self.integration = integration
        self.bearer = bearer
        self.nonces: deque[str] = deque(maxlen=10000)
        self.seen: set[str] = set()

    def _nonce(self, nonce: str) -> None:
        if nonce in self.seen:
            raise AuthError("The nonce is already being used by the consumer with ID %1")
        if len(self.nonces) == self.nonces.maxlen:
            self.seen.discard(self.nonces[0])
        self.nonces.append(nonce)
        self.seen.add(nonce)

    def _verify(self, method: str, url: str, query: str, header: str, token_secret: str,
                expect_token: str | None) -> dict[str, str]:
        params = parse_authorization(header)
        if not params:
            raise AuthError("The consumer isn't authorized to access %resources.",
                            {"resources": "Magento_Catalog::products"})
        if params.get("oauth_consumer_key") != self.integration.consumer_key:
            raise AuthError("A consumer having the specified key does not exist")
        if params.get("oauth_signature_method") != SHA256:
            raise AuthError("Signature method %1 is not supported", {"1": params.get("oauth_signature_method", "")})
        try:
            age = abs(time.time() - int(params.get("oauth_timestamp", "0")))
        except ValueError:
            age = TIME_WINDOW + 1
        if age > TIME_WINDOW:
            raise AuthError("The timestamp is invalid. Verify and try again.")
        if expect_token is not None and params.get("oauth_token") != expect_token:
            raise AuthError("Specified token does not exist")
        pairs = [(k, v) for k, v in params.items() if k != "oauth_signature"] + query_pairs(query)
        wanted = signature(base_string(method, url, pairs), self.integration.consumer_secret, token_secret)
        if not secrets.compare_digest(wanted, params.get("oauth_signature", "")):
            raise AuthError("The signature is invalid. Verify and try again.")
        self._nonce(params.get("oauth_nonce", ""))
        return params

    def check(self, method: str, url: str, query: str, header: str | None) -> None:
        """Authorize one REST request (raises :class:`AuthError`)."""
        header = header or ""
        if header.lower().startswith("bearer "):
            if self.bearer and secrets.compare_digest(header[7:].strip(), self.integration.access_token):
                return
            raise AuthError("The consumer isn't authorized to access %resources.",
                            {"resources": "Magento_Catalog::products"})
        self._verify(method, url, query, header, self.integration.access_token_secret,
                     self.integration.access_token)

    def request_token(self, url: str, header: str | None) -> str:
        self._verify("POST", url, "", header or "", "", None)
        token, secret = secrets.token_hex(16), secrets.token_hex(16)
        self.integration.request_tokens[token] = secret
        return f"oauth_token={token}&oauth_token_secret={secret}"

    def access_token(self, url: str, header: str | None) -> str:
        params = parse_authorization(header or "")
        token = params.get("oauth_token", "")
        secret = self.integration.request_tokens.get(token)
        if secret is None:
            raise AuthError("Specified token does not exist")
        self._verify("POST", url, "", header or "", secret, token)
        if params.get("oauth_verifier") != self.integration.verifier:
            raise AuthError("Verifier is invalid")
        del self.integration.request_tokens[token]
        i = self.integration
        return f"oauth_token={i.access_token}&oauth_token_secret={i.access_token_secret}"

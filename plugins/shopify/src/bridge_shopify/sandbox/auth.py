"""The sandbox's app and tokens: OAuth authorize/callback signing, the token endpoint's three
grants (authorization code, rotating refresh token, client credentials), expiry, revocation."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

DEFAULT_SCOPES = ["read_products", "read_inventory", "read_locations", "write_orders",
                  "read_orders"]


class AuthState:
    """Which app credentials and tokens the sandbox accepts."""

    def __init__(self, *, seed: int = 0, token_ttl: int = 3600, refresh_ttl: int = 30 * 86400,
                 scopes: list[str] | None = None) -> None:
        tag = hashlib.sha256(f"shopify-sandbox-{seed}".encode()).hexdigest()
        self.client_id = f"sandbox-client-{tag[:16]}"
        self.client_secret = f"shpss_{tag[16:48]}"
        self.static_token = f"shpat_{tag[32:64]}"
        self.token_ttl = token_ttl
        self.refresh_ttl = refresh_ttl
        self.scopes = list(scopes or DEFAULT_SCOPES)
        self.lock = threading.Lock()
        # token -> expiry (monotonic seconds) or None for non-expiring
        self.tokens: dict[str, float | None] = {self.static_token: None}
        self.codes: dict[str, str] = {}
        # refresh token -> (expiry, access token it came with)
        self.refresh: dict[str, tuple[float, str]] = {}
        # access token -> the refresh token it replaces (kept valid until the new token is used)
        self.replaces: dict[str, str] = {}
        self.revoked = False

    def signed_query(self, params: dict[str, Any]) -> str:
        """A query string with Shopify's ``hmac`` over the other parameters."""
        pairs = sorted((k, str(v)) for k, v in params.items())
        message = urlencode(pairs, quote_via=lambda s, safe="", enc=None, err=None: quote(s, safe=""))
        digest = hmac.new(self.client_secret.encode(), message.encode(), hashlib.sha256).hexdigest()
        return urlencode([*pairs, ("hmac", digest)])

    def new_code(self, shop: str) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = shop
        return code

    def check(self, token: str | None) -> bool:
        """True when ``token`` is valid now; using a new token retires the refresh token it
        replaced (Shopify keeps the old refresh token valid until then)."""
        if not token or self.revoked:
            return False
        with self.lock:
            if token not in self.tokens:
                return False
            expiry = self.tokens[token]
            if expiry is not None and expiry <= time.monotonic():
                return False
            old = self.replaces.pop(token, None)
            if old:
                self.refresh.pop(old, None)
            return True

    def _issue(self, expiring: bool, *, replaces: str | None = None) -> dict[str, Any]:
        token = "shpca_" + secrets.token_hex(16)
        body: dict[str, Any] = {"access_token": token, "scope": ",".join(self.scopes)}
        if expiring:
            refresh = "shprt_" + secrets.token_hex(16)
            self.tokens[token] = time.monotonic() + self.token_ttl
            self.refresh[refresh] = (time.monotonic() + self.refresh_ttl, token)
            if replaces:
                self.replaces[token] = replaces
            body.update(expires_in=self.token_ttl, refresh_token=refresh,
                        refresh_token_expires_in=self.refresh_ttl)
        else:
            self.tokens[token] = None
        return body

    def grant(self, form: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The token endpoint: returns (HTTP status, JSON body)."""
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return 401, {"error": "invalid_client",
                         "error_description": "Client authentication failed"}
        grant = form.get("grant_type") or "authorization_code"
        with self.lock:
            if grant == "authorization_code":
                if self.codes.pop(str(form.get("code")), None) is None:
                    return 400, {"error": "invalid_request", "error_description":
                                 "The authorization code was not found or was already used"}
                self.revoked = False
                return 200, self._issue(str(form.get("expiring", "0")) == "1")
            if grant == "refresh_token":
                entry = self.refresh.get(str(form.get("refresh_token")))
                if entry is None or entry[0] <= time.monotonic() or self.revoked:
                    return 400, {"error": "invalid_grant",
                                 "error_description": "The refresh token is invalid or expired"}
                return 200, self._issue(True, replaces=str(form.get("refresh_token")))
            if grant == "client_credentials":
                token = "shpca_" + secrets.token_hex(16)
                self.tokens[token] = time.monotonic() + self.token_ttl
                return 200, {"access_token": token, "scope": ",".join(self.scopes),
                             "expires_in": self.token_ttl}
        return 400, {"error": "unsupported_grant_type",
                     "error_description": f"grant_type {grant} is not supported"}

    def expire_all(self) -> None:
        """Make every expiring access token expire now (tests of refresh)."""
        with self.lock:
            for token, expiry in list(self.tokens.items()):
                if expiry is not None:
                    self.tokens[token] = time.monotonic() - 1

    def revoke(self) -> None:
        """The app is uninstalled: every token stops working."""
        with self.lock:
            self.revoked = True

"""How requests carry the consumer key and secret: the three ways WooCommerce accepts them.

* ``basic`` — ``Authorization: Basic`` over HTTPS (the normal case);
* ``query`` — ``consumer_key``/``consumer_secret`` in the query string over HTTPS (hosts that
  strip the Authorization header);
* ``oauth1`` — one-legged OAuth 1.0a over plain HTTP (or when the site does not see TLS).

Each is an :class:`httpx.Auth`, so every attempt the shared HTTP layer makes (retries included)
is authenticated afresh: an OAuth nonce is never sent twice.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from bridge_woocommerce import oauth1

MODES = ("basic", "query", "oauth1")


class QueryAuth(httpx.Auth):
    """Keys in the query string (HTTPS only)."""

    def __init__(self, consumer_key: str, consumer_secret: str) -> None:
        self.key, self.secret = consumer_key, consumer_secret

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.url = request.url.copy_merge_params(
            {"consumer_key": self.key, "consumer_secret": self.secret})
        yield request


class OAuth1Auth(httpx.Auth):
    """OAuth 1.0a one-legged signature in the query string, signing the query parameters too."""

    def __init__(self, consumer_key: str, consumer_secret: str,
                 signature_method: str = oauth1.DEFAULT_METHOD) -> None:
        self.key, self.secret, self.method = consumer_key, consumer_secret, signature_method

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        url = request.url
        base = str(url.copy_with(query=None, fragment=None))
        signed = oauth1.sign_params(request.method, base, list(url.params.multi_items()),
                                    self.key, self.secret, signature_method=self.method)
        request.url = url.copy_with(params=signed)
        yield request


def make_auth(mode: str, consumer_key: str, consumer_secret: str) -> httpx.Auth:
    """The :class:`httpx.Auth` for ``mode`` (one of :data:`MODES`)."""
    if mode == "basic":
        return httpx.BasicAuth(consumer_key, consumer_secret)
    if mode == "query":
        return QueryAuth(consumer_key, consumer_secret)
    if mode == "oauth1":
        return OAuth1Auth(consumer_key, consumer_secret)
    raise ValueError(f"unknown auth mode {mode!r}")


def default_mode(url: str) -> str:
    """``basic`` for https sites, ``oauth1`` for plain http ones (as WooCommerce decides)."""
    return "basic" if url.lower().startswith("https://") else "oauth1"

"""OAuth 1.0a signing: the published example vector, and WooCommerce's one-legged form against
the sandbox's verifier."""

from __future__ import annotations

import time

import httpx
import pytest

from bridge_woocommerce import oauth1
from bridge_woocommerce.auth import OAuth1Auth
from bridge_woocommerce.sandbox.auth import authenticate
from bridge_woocommerce.sandbox.http import ApiError
from bridge_woocommerce.sandbox.state import SiteState

# OAuth Core 1.0 Appendix A (also RFC 5849 section 1.2): photos.example.net
VECTOR_PARAMS = [("file", "vacation.jpg"), ("size", "original"), ("oauth_consumer_key", "dpf43f3p2l4k3l03"),
                 ("oauth_token", "nnch734d00sl2jdk"), ("oauth_signature_method", "HMAC-SHA1"),
                 ("oauth_timestamp", "1191242096"), ("oauth_nonce", "kllo9940pd9333jh"), ("oauth_version", "1.0")]
VECTOR_BASE = ("GET&http%3A%2F%2Fphotos.example.net%2Fphotos&file%3Dvacation.jpg%26oauth_consumer_key%3Ddpf43f3p2l4k3l03"
               "%26oauth_nonce%3Dkllo9940pd9333jh%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1191242096"
               "%26oauth_token%3Dnnch734d00sl2jdk%26oauth_version%3D1.0%26size%3Doriginal")


def test_base_string_matches_the_published_example() -> None:
    assert oauth1.base_string("get", "http://photos.example.net/photos", VECTOR_PARAMS) == VECTOR_BASE


def test_signature_matches_the_published_example() -> None:
    sig = oauth1.signature("GET", "http://photos.example.net/photos", VECTOR_PARAMS, "kd94hf93k423kf44",
                           "HMAC-SHA1", token_secret="pfkkdhi9sl3r4s00")
    assert sig == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_values_are_encoded_twice_like_woocommerce() -> None:
    base = oauth1.base_string("GET", "http://shop.test/wp-json/wc/v3/products",
                              [("search", "a b~c"), ("filter[period]", "week")])
    # key and value rawurlencoded, then the pair encoded again: "a b" -> a%20b -> a%2520b
    assert base.endswith("filter%255Bperiod%255D%3Dweek%26search%3Da%2520b~c")


def _signed_request(key: str, secret: str, url: str) -> httpx.Request:
    request = httpx.Request("GET", url)
    flow = OAuth1Auth(key, secret).auth_flow(request)
    return next(flow)


def test_sandbox_accepts_a_signed_request_once_and_refuses_tampering() -> None:
    site = SiteState()
    request = _signed_request(site.consumer_key, site.consumer_secret,
                              "http://127.0.0.1:9/wp-json/wc/v3/products?per_page=100&page=2")
    query = list(request.url.params.multi_items())
    assert dict(query)["oauth_signature_method"] == "HMAC-SHA256"
    url = "http://127.0.0.1:9/wp-json/wc/v3/products"
    key = authenticate(site, method="GET", url=url, ssl=False, query=query, headers={})
    assert key is not None and key["permissions"] == "read_write"
    with pytest.raises(ApiError, match="nonce has already been used"):
        authenticate(site, method="GET", url=url, ssl=False, query=query, headers={})
    fresh = list(_signed_request(site.consumer_key, site.consumer_secret,
                                 "http://127.0.0.1:9/wp-json/wc/v3/products?per_page=100").url.params.multi_items())
    tampered = [(k, "99" if k == "per_page" else v) for k, v in fresh]  # query params are signed too
    with pytest.raises(ApiError, match="signature does not match"):
        authenticate(site, method="GET", url=url, ssl=False, query=tampered, headers={})


def test_sandbox_refuses_stale_timestamps_and_partial_parameters() -> None:
    site = SiteState()
    url = "http://127.0.0.1:9/wp-json/wc/v3/orders"
    old = oauth1.sign_params("GET", url, [], site.consumer_key, site.consumer_secret,
                             timestamp=int(time.time()) - 3600)
    with pytest.raises(ApiError, match="Invalid timestamp"):
        authenticate(site, method="GET", url=url, ssl=False, query=old, headers={})
    partial = [("oauth_consumer_key", site.consumer_key), ("oauth_nonce", "x")]
    with pytest.raises(ApiError) as err:
        authenticate(site, method="GET", url=url, ssl=False, query=partial, headers={})
    assert err.value.code == "woocommerce_rest_authentication_missing_parameter"

"""OAuth 1.0a signing: published test vectors, and the sandbox's verification of our headers."""

from __future__ import annotations

import time

import pytest

from bridge_magento2 import oauth
from bridge_magento2.sandbox.auth import AuthError, Gate, Integration


def test_signature_matches_the_oauth_core_1_0_vector() -> None:
    # OAuth Core 1.0, Appendix A.5: GET photos, HMAC-SHA1.
    header = oauth.authorization_header(
        "GET", "http://photos.example.net/photos?file=vacation.jpg&size=original",
        "dpf43f3p2l4k3l03", "kd94hf93k423kf44", token="nnch734d00sl2jdk", token_secret="pfkkdhi9sl3r4s00",
        nonce="kllo9940pd9333jh", timestamp=1191242096, method=oauth.SHA1)
    assert oauth.parse_authorization(header)["oauth_signature"] == "tR3+Ty81lMeYAr/Fid0kMTYa/WM="


def test_base_string_matches_rfc_5849_example() -> None:
    # RFC 5849 §3.4.1.1: query, form body and oauth parameters, with encoded edge cases.
    url = "http://example.com/request?b5=%3D%253D&a3=a&c%40=&a2=r%20b"
    params = [("oauth_consumer_key", "9djdj82h48djs9d2"), ("oauth_token", "kkk9d7dh3k39sjv7"),
              ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", "137131201"),
              ("oauth_nonce", "7d8f3e4a"), ("c2", ""), ("a3", "2 q"),
              *oauth.query_pairs(url.split("?", 1)[1])]
    assert oauth.base_string("POST", url, params) == (
        "POST&http%3A%2F%2Fexample.com%2Frequest&a2%3Dr%2520b%26a3%3D2%2520q%26a3%3Da%26b5%3D%253D%25253D%26"
        "c%2540%3D%26c2%3D%26oauth_consumer_key%3D9djdj82h48djs9d2%26oauth_nonce%3D7d8f3e4a%26"
        "oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D137131201%26oauth_token%3Dkkk9d7dh3k39sjv7")


def test_sha256_is_the_default_and_port_and_case_are_normalised() -> None:
    header = oauth.authorization_header("GET", "HTTPS://Shop.Example:443/rest/V1/products?x=1", "ck", "cs",
                                        token="t", token_secret="ts", nonce="n", timestamp=1)
    params = oauth.parse_authorization(header)
    assert params["oauth_signature_method"] == "HMAC-SHA256"
    base = ("GET&https%3A%2F%2Fshop.example%2Frest%2FV1%2Fproducts&oauth_consumer_key%3Dck%26oauth_nonce%3Dn%26"
            "oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%3D1%26oauth_token%3Dt%26"
            "oauth_version%3D1.0%26x%3D1")
    assert params["oauth_signature"] == oauth.signature(base, "cs", "ts")


def test_gate_accepts_our_signature_and_refuses_tampering_and_replay() -> None:
    integ = Integration()
    gate = Gate(integ)
    url = "http://127.0.0.1:8000/rest/default/V1/products?searchCriteria%5BpageSize%5D=5"
    header = oauth.authorization_header("GET", url, integ.consumer_key, integ.consumer_secret,
                                        token=integ.access_token, token_secret=integ.access_token_secret)
    gate.check("GET", url.split("?")[0] + "?x", "searchCriteria%5BpageSize%5D=5", header)
    with pytest.raises(AuthError, match="nonce"):
        gate.check("GET", url, "searchCriteria%5BpageSize%5D=5", header)
    fresh = oauth.authorization_header("GET", url, integ.consumer_key, integ.consumer_secret,
                                       token=integ.access_token, token_secret=integ.access_token_secret)
    with pytest.raises(AuthError, match="signature is invalid"):
        gate.check("GET", url, "searchCriteria%5BpageSize%5D=6", fresh)
    stale = oauth.authorization_header("GET", url, integ.consumer_key, integ.consumer_secret,
                                       token=integ.access_token, token_secret=integ.access_token_secret,
                                       timestamp=int(time.time()) - 3600)
    with pytest.raises(AuthError, match="timestamp"):
        gate.check("GET", url, "searchCriteria%5BpageSize%5D=5", stale)

"""The outbound policy: https anywhere public, http and any port on loopback (sandboxes), private,
link-local and metadata addresses refused unless the operator allows them."""

from __future__ import annotations

import pytest

from bridge import http
from bridge.errors import Misconfigured
from bridge.outbound import OutboundRefused, check_base_url


@pytest.mark.parametrize("url", [
    "https://10.0.0.5", "https://169.254.169.254/latest/meta-data", "https://192.168.1.1:8443",
    "https://172.16.0.1", "https://[fd00::1]", "https://[fe80::1]", "https://100.64.0.1",
    "https://0.0.0.0", "https://[::ffff:10.0.0.1]", "https://metadata.google.internal",
    "https://2852039166", "https://0xa9.0xfe.0xa9.0xfe", "https://224.0.0.1",
])
def test_private_link_local_and_metadata_addresses_are_refused(url):
    with pytest.raises(Misconfigured) as info:
        http.check_base_url(url)
    assert isinstance(info.value, OutboundRefused)
    assert "allow_private_networks" in str(info.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:80",
                                 "https://127.0.0.1:9", "https://shop.example.com",
                                 "https://93.184.216.34", "http://2130706433:8080"])
def test_public_and_loopback_addresses_pass(url):
    assert check_base_url(url + "/") == url


def test_the_operator_can_allow_private_networks(monkeypatch):
    monkeypatch.setenv("BRIDGE_ALLOW_PRIVATE_NETWORKS", "10.0.0.0/8, shop.lan")
    assert check_base_url("https://10.1.2.3") == "https://10.1.2.3"
    with pytest.raises(OutboundRefused):
        check_base_url("https://192.168.0.1")
    monkeypatch.setenv("BRIDGE_ALLOW_PRIVATE_NETWORKS", "*")
    assert check_base_url("https://169.254.169.254") == "https://169.254.169.254"
    with pytest.raises(OutboundRefused):  # plain http stays loopback-only
        check_base_url("http://10.1.2.3")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "https://", "https://x:99999999", "gopher://h"])
def test_non_http_urls_are_refused(url):
    with pytest.raises(OutboundRefused):
        check_base_url(url)


def test_clients_are_not_made_for_refused_addresses():
    with pytest.raises(OutboundRefused):
        http.make_client("https://10.0.0.1", platform="x")

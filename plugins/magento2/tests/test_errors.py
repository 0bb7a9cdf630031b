"""Error paths with respx at the transport: the one error table, and paging that stops."""

from __future__ import annotations

import httpx
import pytest
import respx

from bridge.connection import AppContext, Connection
from bridge.errors import NeedsReconnect, RateLimited, Rejected, Transient
from bridge_magento2 import connector
from bridge_magento2.client import MagentoClient, error_text
from bridge_magento2.search import Criteria
from bridge_magento2.store import detect_msi

BASE = "https://shop.example.com"
CREDS = {"consumer_key": "ck-1234", "consumer_secret": "cs-secret-5678", "access_token": "at-abcd",
         "access_token_secret": "ats-secret-efgh"}
FACTS = {"currency": "GBP", "media_url": f"{BASE}/media/", "msi": True, "stock_id": 1, "website_code": "base",
         "weight_unit": "kgs", "store_id": 1}


def conn() -> Connection:
    return Connection(platform="magento2", settings={"store_url": BASE, **FACTS}, credentials=dict(CREDS),
                      app=AppContext(platform="magento2"))


def test_401_needs_reconnect_without_leaking_secrets() -> None:
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{BASE}/rest/default/V1/orders").respond(
            401, json={"message": "The signature is invalid. Verify and try again.", "parameters": []})
        with pytest.raises(NeedsReconnect) as err:
            connector.find_order(conn(), "T-1")
    assert "signature is invalid" in str(err.value)
    assert not any(secret in str(err.value) for secret in CREDS.values())
    header = route.calls.last.request.headers["authorization"]
    assert header.startswith("OAuth ") and 'oauth_signature_method="HMAC-SHA256"' in header
    assert 'oauth_token="at-abcd"' in header and "cs-secret" not in header


def test_429_with_a_long_retry_after_is_rate_limited() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/rest/default/V1/orders").respond(429, headers={"Retry-After": "120"}, json={"message": "Too many"})
        with pytest.raises(RateLimited) as err:
            connector.find_order(conn(), "T-1")
    assert err.value.retry_after == 120


def test_500_is_transient() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/rest/default/V1/shipments").respond(500, json={"message": "Internal Error."})
        with pytest.raises(Transient):
            connector.list_fulfillments(conn(), ["3"])


def test_400_is_rejected_with_placeholders_filled() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/rest/default/V1/orders/7").respond(200, json={"entity_id": 7, "state": "processing"})
        mock.post(f"{BASE}/rest/default/V1/orders/7/cancel").respond(
            400, json={"message": "The \"%fieldName\" value is invalid: %1", "parameters": {"fieldName": "id", "1": "x"}})
        with pytest.raises(Rejected) as err:
            connector.cancel_order(conn(), "7", "buyer")
    assert err.value.code == "400"
    assert err.value.message == 'The "id" value is invalid: x'


def test_error_text_fills_positional_placeholders_and_nested_errors() -> None:
    body = {"message": "Invalid product data: %1", "parameters": ["Invalid attribute set entity type"],
            "errors": [{"message": "%1 is required", "parameters": ["sku"]}]}
    assert error_text(body, "") == "Invalid product data: Invalid attribute set entity type: sku is required"


def test_msi_absent_when_inventory_routes_404() -> None:
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/rest/default/V1/inventory/sources").respond(
            404, json={"message": "Request does not match any route.", "trace": None})
        assert detect_msi(MagentoClient(conn()), "base") == (False, None)


def test_paging_stops_although_magento_repeats_the_last_page() -> None:
    item = {"entity_id": 3}
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{BASE}/rest/default/V1/orders").respond(
            200, json={"items": [item], "search_criteria": {}, "total_count": 3})
        pages = list(MagentoClient(conn()).pages("orders", Criteria(page_size=2)))
    assert [p[:2] for p in pages] == [(1, 2), (2, 2)]
    assert route.call_count == 2
    sent = [httpx.URL(str(c.request.url)).params for c in route.calls]
    assert [p["searchCriteria[currentPage]"] for p in sent] == ["1", "2"]
    assert sent[0]["searchCriteria[sortOrders][0][field]"] == "entity_id"


def test_bearer_mode_sends_the_access_token() -> None:
    c = Connection(platform="magento2", settings={"store_url": BASE, "auth_mode": "bearer", **FACTS},
                   credentials={"access_token": "at-abcd"}, app=AppContext(platform="magento2"))
    with respx.mock(assert_all_called=True) as mock:
        route = mock.get(f"{BASE}/rest/default/V1/orders").respond(
            200, json={"items": [], "search_criteria": {}, "total_count": 0})
        assert connector.find_order(c, "T-1") is None
    assert route.calls.last.request.headers["authorization"] == "Bearer at-abcd"


def test_skus_are_percent_encoded_in_paths() -> None:
    c = Connection(platform="magento2", settings={"store_url": BASE, **{**FACTS, "msi": False}},
                   credentials=dict(CREDS), app=AppContext(platform="magento2"))
    with respx.mock(assert_all_called=True) as mock:
        mock.get(f"{BASE}/rest/default/V1/products").respond(200, json={
            "items": [{"id": 5, "sku": "A/B 1", "type_id": "simple"}], "search_criteria": {}, "total_count": 1})
        route = mock.get(url__regex=r".*/V1/stockItems/.*").respond(
            200, json={"qty": 4, "is_in_stock": True, "manage_stock": True})
        [level] = list(connector.read_inventory(c, ["5"]))
    assert route.calls.last.request.url.raw_path == b"/rest/default/V1/stockItems/A%2FB%201"
    assert (level.variant_id, level.quantity) == ("5", 4)

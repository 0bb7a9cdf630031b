"""The sandbox models one Admin API version and never claims another; bridge calls that version."""

from __future__ import annotations

import logging

import httpx

from bridge_shopify import catalog
from bridge_shopify.client import DEFAULT_API_VERSION
from bridge_shopify.sandbox.routes import API_VERSION

QUERY = {"query": "query { shop { name } }"}


def _post(served, version: str) -> httpx.Response:
    return httpx.post(f"{served.url}/admin/api/{version}/graphql.json", json=QUERY,
                      headers={"X-Shopify-Access-Token": served.sandbox.credentials()["access_token"]})


def test_another_version_falls_forward_to_the_one_modelled(served) -> None:
    for asked in ("2025-10", "2024-01", "unstable"):
        resp = _post(served, asked)
        assert resp.status_code == 200 and resp.json()["data"]["shop"]["name"]
        assert resp.headers["x-shopify-api-version"] == API_VERSION == "2025-01"
    assert _post(served, "v1").status_code == 404


def test_bridge_calls_the_modelled_version_without_a_mismatch(served, conn, caplog) -> None:
    assert DEFAULT_API_VERSION == API_VERSION
    with caplog.at_level(logging.WARNING, logger="bridge_shopify"):
        next(iter(catalog.list_products(conn, None)))
    assert not [r for r in caplog.records if "served" in r.getMessage()]
    newer = served.connection(api_version="2025-10")
    with caplog.at_level(logging.WARNING, logger="bridge_shopify"):
        next(iter(catalog.list_products(newer, None)))
    assert any("asked for API 2025-10, Shopify served 2025-01" in r.getMessage() for r in caplog.records)

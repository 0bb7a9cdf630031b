"""The sandbox answers in the catalog, orders and locations schemas' shapes (shared/specs)."""

from __future__ import annotations

import httpx

from bridge.models import Tracking
from bridge_bigcommerce import orders

ADDRESS_BASE = {"first_name", "last_name", "company", "street_1", "street_2", "city", "state", "zip",
                "country", "country_iso2", "phone", "email"}


def _get(sandbox, server, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{server.url}/stores/{sandbox.store_hash}{path}", params=params,
                     headers={"X-Auth-Token": sandbox.token, "Accept": "application/json"})


def test_condition_enum_and_locations_without_is_default(sandbox, server) -> None:
    products = _get(sandbox, server, "/v3/catalog/products").json()["data"]
    assert {p["condition"] for p in products} <= {"New", "Used", "Refurbished"}
    locations = _get(sandbox, server, "/v3/inventory/locations").json()["data"]
    assert len(locations) == 2 and not any("is_default" in loc for loc in locations)
    default = _get(sandbox, server, "/v3/inventory/locations", is_default="true").json()["data"]
    assert len(default) == 1  # is_default stays a filter


def test_shipment_addresses_have_the_base_address_shape(sandbox, server, conn, make_draft) -> None:
    created = orders.create(conn, make_draft("576000000000000777"))
    sandbox.fulfill_order(created.remote_id, Tracking(number="RM1234", carrier="Royal Mail"))
    shipment = _get(sandbox, server, f"/v2/orders/{created.remote_id}/shipments").json()[0]
    assert set(shipment["shipping_address"]) == ADDRESS_BASE
    assert set(shipment["billing_address"]) == ADDRESS_BASE
    assert shipment["shipping_address"]["zip"] == "SW1A 1AA"

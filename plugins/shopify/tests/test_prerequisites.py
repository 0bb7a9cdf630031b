"""check_prerequisites: scopes, locations, and protected customer data on orders."""

from __future__ import annotations

from bridge_shopify import connecting


def test_all_prerequisites_met(served, conn) -> None:
    items = {p.key: p for p in connecting.check_prerequisites(conn)}
    assert all(p.ok for p in items.values()), [p for p in items.values() if not p.ok]
    assert {"scope:read_products", "locations", "protected_customer_data"} <= set(items)


def test_access_denied_on_orders_is_reported_as_protected_customer_data(served_factory) -> None:
    s = served_factory(seed=1, protected_data=False)
    items = {p.key: p for p in connecting.check_prerequisites(s.connection())}
    item = items["protected_customer_data"]
    assert not item.ok and item.blocking and item.flows == ["orders"]
    assert "ACCESS_DENIED" in item.detail and "protected customer data" in item.detail
    assert "Protected customer data access" in item.fix
    assert items["scope:read_products"].ok

"""Inventory: MSI salable quantity in bulk, legacy stock items without MSI."""

from __future__ import annotations

from typing import Any

from bridge_magento2 import connector
from bridge_magento2.sandbox import MagentoSandbox

EXPORT = "GET /rest/{store}/V1/inventory/export-stock-salable-qty/{type}/{code}"
STOCK_ITEM = "GET /rest/{store}/V1/stockItems/{sku}"


def _variants(conn: Any) -> list[Any]:
    return [v for page in connector.list_products(conn, None) for p in page.products for v in p.variants]


def test_msi_reads_salable_quantity_in_bulk(sandbox: MagentoSandbox, conn: Any) -> None:
    sandbox.seed_catalog(4, 3)
    variants = _variants(conn)
    sandbox.set_quantity(variants[0].sku, 17)
    sandbox.state.reservations[variants[0].sku] = 5  # an open order's reservation
    sandbox.set_quantity(variants[1].sku, 0)
    sandbox.stats.reset()
    levels = {lv.variant_id: lv for lv in connector.read_inventory(conn, None)}
    assert set(levels) == {v.remote_id for v in variants}
    assert levels[variants[0].remote_id].quantity == 12
    assert levels[variants[1].remote_id].quantity == 0
    assert sandbox.stats.by_route[EXPORT] == 1 and sandbox.stats.by_route[STOCK_ITEM] == 0
    parent = next(page for page in connector.list_products(conn, None)).products[0]
    assert levels[variants[0].remote_id].product_id == parent.remote_id


def test_without_msi_legacy_stock_items_are_read(sandbox: MagentoSandbox, make_conn: Any) -> None:
    sandbox.set_msi(False)
    sandbox.seed_catalog(2, 2)
    conn = make_conn()
    variants = _variants(conn)
    sandbox.set_quantity(variants[0].sku, 9)
    sandbox.state.reservations[variants[0].sku] = 4  # legacy qty is physical: reservations ignored
    sandbox.stats.reset()
    levels = list(connector.read_inventory(conn, [v.remote_id for v in variants]))
    assert {lv.variant_id for lv in levels} == {v.remote_id for v in variants}
    assert next(lv for lv in levels if lv.sku == variants[0].sku).quantity == 9
    assert sandbox.stats.by_route[STOCK_ITEM] == len(variants)
    assert sandbox.stats.by_route[EXPORT] == 0


def test_msi_setting_from_connect_is_used_without_detection(sandbox: MagentoSandbox, make_conn: Any) -> None:
    sandbox.seed_catalog(1, 2)
    info = connector.connect(make_conn())
    conn = make_conn(info.settings)
    sandbox.stats.reset()
    ids = [v.remote_id for v in _variants(conn)]
    sandbox.stats.reset()
    assert len(list(connector.read_inventory(conn, ids))) == 2
    assert "GET /rest/{store}/V1/inventory/sources" not in sandbox.stats.by_route
    assert "GET /rest/{store}/V1/store/storeConfigs" not in sandbox.stats.by_route
